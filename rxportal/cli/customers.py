"""Importing customers from CSV."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    cmd = subparsers.add_parser(
        "import-customers",
        help="import or update accounts from a CSV file (number,name,email,phone,"
             "billing_day,currency,language,plan); nothing is imported if any row is bad")
    cmd.add_argument("file", type=Path)
    cmd.set_defaults(handler=import_customers)


def import_customers(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import customer_import
    from rxportal.services import settings as isp_settings

    text = args.file.read_text(encoding="utf-8-sig")
    with db.session_scope() as session:
        report = customer_import.import_customers(
            session, text, country=isp_settings.get(session, "country"))
        if report.errors:
            session.rollback()
    if report.errors:
        print("nothing imported:", *report.errors, sep="\n  ", file=sys.stderr)
        return 1
    print(f"{report.created} accounts created, {report.updated} updated")
    return 0
