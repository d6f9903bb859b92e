"""Staff users: `rxportal create-staff USERNAME --role administrator`."""
from __future__ import annotations

import argparse
import getpass
import sys


def register(subparsers) -> None:
    cmd = subparsers.add_parser(
        "create-staff", help="create a staff user for the console at /admin")
    cmd.add_argument("username")
    cmd.add_argument("--role", choices=["administrator", "support"], default="support")
    cmd.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of generating one")
    cmd.set_defaults(handler=create_staff)


def create_staff(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import staff

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
    try:
        with db.session_scope() as session:
            user, password = staff.create_staff(session, args.username, args.role, password)
    except staff.StaffAuthError as error:
        print(f"error: {error.msgid}", file=sys.stderr)
        return 2
    print(f"staff user {user.username} ({user.role}) created")
    if not args.password_stdin:
        print(f"password: {password}")
    print("the authenticator app (TOTP) is set up at the first login on /admin")
    return 0
