"""`rxportal billing-run --date YYYY-MM-DD`: issue the day's invoices and charge autopay."""
from __future__ import annotations

import argparse
from datetime import date


def register(subparsers) -> None:
    cmd = subparsers.add_parser(
        "billing-run", help="issue invoices for accounts billed on a date and charge autopay "
                            "(safe to run twice: the second run changes nothing)")
    cmd.add_argument("--date", type=date.fromisoformat, default=None,
                     help="the billing date, YYYY-MM-DD (default: today)")
    cmd.set_defaults(handler=billing_run)
    cmd = subparsers.add_parser(
        "billing-local-sync", help="with the local Stripe emulator (localstripe): recreate the "
                                   "saved payment methods in it and send its webhooks here")
    cmd.add_argument("--webhook-url", default="",
                     help="the portal's webhook URL (http://127.0.0.1:PORT/api/billing/stripe-webhook)")
    cmd.set_defaults(handler=local_sync)


def billing_run(args: argparse.Namespace) -> int:
    from rxportal.services import billing_run as service

    result = service.run(args.date or date.today())
    print(f"billing run {result.day}: {result.accounts} accounts due, {result.invoiced} invoices "
          f"issued, {result.charged} autopay charges, {result.failed} failed")
    if result.interrupted:
        print(f"{result.interrupted} autopay charges not made: the payment gateway did not "
              "answer; they are made again when it does (every 10 minutes, or run this again)")
    for error in result.errors:
        print(f"error: {error}")
    return 1 if result.errors else 0


def local_sync(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.demo.billing import sync_local_gateway

    with db.session_scope() as session:
        print(sync_local_gateway(session, args.webhook_url))
    return 0
