"""Support tickets: read the support mailbox once, close a ticket."""
from __future__ import annotations

import argparse
import sys

POLL_LOCK = "tickets-poll-support-mailbox"  # shared with rxportal/tasks/tickets.py


def register(subparsers) -> None:
    cmd = subparsers.add_parser(
        "tickets-poll", help="read the support mailbox once and add new mail to tickets")
    cmd.set_defaults(handler=poll)
    cmd = subparsers.add_parser("tickets-close", help="close a support ticket by its number")
    cmd.add_argument("number", type=int)
    cmd.set_defaults(handler=close)


def poll(_args: argparse.Namespace) -> int:
    from rxportal import jobs  # noqa: F401 - mail queued here is handed to the worker at once
    from rxportal.services import ticket_mail

    import time

    from huey.exceptions import TaskLockedException

    deadline = time.monotonic() + 60
    try:
        while True:  # never beside the worker's own pass over the mailbox
            try:
                with jobs.huey.lock_task(POLL_LOCK):
                    counts = ticket_mail.poll_once()
                break
            except TaskLockedException:
                if time.monotonic() > deadline:
                    print("the worker is reading the mailbox; try again later", file=sys.stderr)
                    return 1
                time.sleep(0.5)
    except ticket_mail.MailboxError as error:
        print(f"cannot read the support mailbox: {error}", file=sys.stderr)
        return 1
    if not counts:
        print("no new mail (or IMAP is not configured: set imap_host)")
    for outcome, count in sorted(counts.items()):
        print(f"{outcome}: {count}")
    return 0


def close(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import tickets

    with db.session_scope() as session:
        ticket = tickets.find_by_number(session, args.number)
        if ticket is None:
            print(f"no ticket #{args.number}", file=sys.stderr)
            return 1
        tickets.close_ticket(session, ticket.id, actor_type="staff", actor_name="cli")
    print(f"ticket #{args.number} closed")
    return 0
