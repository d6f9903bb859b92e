"""`rxportal contracts ...`: contract templates (text in English and French), issuing contracts
to accounts, and verifying the signature log and every signed PDF."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("contracts", help="contract templates, issuing, verification")
    commands = parser.add_subparsers(dest="contracts_command", required=True)

    cmd = commands.add_parser(
        "verify", help="check the signature log's hash chain and every signed PDF against its "
                       "SHA-256; exit code 1 and the faulty entries when anything is wrong")
    cmd.set_defaults(handler=verify)

    cmd = commands.add_parser(
        "template-create",
        help="add a contract template, or a new version of one (same --code)")
    cmd.add_argument("--code", required=True, help="short identifier, e.g. terms")
    cmd.add_argument("--name-en", required=True, help="name in English")
    cmd.add_argument("--name-fr", required=True, help="name in French")
    cmd.add_argument("--body-en", required=True, type=Path,
                     help="UTF-8 text file with the English text; placeholders: "
                          "$account_name $account_number $account_email $isp_name "
                          "$issue_date $services")
    cmd.add_argument("--body-fr", required=True, type=Path, help="the French text (same rules)")
    cmd.set_defaults(handler=template_create)

    cmd = commands.add_parser("template-list", help="list the templates and their versions")
    cmd.set_defaults(handler=template_list)

    cmd = commands.add_parser(
        "assign", help="issue a contract to one or more accounts, to be signed in the portal")
    target = cmd.add_mutually_exclusive_group(required=True)
    target.add_argument("--template-id", type=int, help="a template version's id")
    target.add_argument("--code", help="a template code: its latest version")
    cmd.add_argument("--account", required=True, action="append",
                     help="account number (repeat for several accounts)")
    cmd.add_argument("--issued-on", type=date.fromisoformat, default=None,
                     help="issue date, YYYY-MM-DD (default: today)")
    cmd.set_defaults(handler=assign)

    cmd = commands.add_parser("list", help="list an account's contracts")
    cmd.add_argument("--account", required=True, help="account number")
    cmd.set_defaults(handler=list_contracts)


def verify(_args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import contracts

    with db.session_scope() as session:
        result = contracts.verify(session)
    if result.ok:
        print(f"OK: {result.entries} log entries, every hash and signed PDF verified")
        print(f"head of the chain: {result.head} (keep a copy elsewhere to detect a rewrite)")
        return 0
    for problem in result.problems:
        print(f"BAD {problem}", file=sys.stderr)
    print(f"{len(result.problems)} problem(s) in {result.entries} log entries", file=sys.stderr)
    return 1


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SystemExit(f"cannot read {path}: {error}") from None


def template_create(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import contracts

    try:
        with db.session_scope() as session:
            template = contracts.create_template(
                session, args.code, args.name_en, args.name_fr, _read(args.body_en),
                _read(args.body_fr))
            print(f"template {template.id}: {template.code} version {template.version} "
                  f"({template.name_en} / {template.name_fr})")
    except contracts.TemplateError as error:
        where = {"name_en": "--name-en", "name_fr": "--name-fr", "body_en": "--body-en",
                 "body_fr": "--body-fr", "code": "--code"}.get(error.field, "")
        print(f"refused: {where + ': ' if where else ''}{error}", file=sys.stderr)
        return 2
    return 0


def template_list(_args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import contracts

    with db.session_scope() as session:
        templates = contracts.list_templates(session)
        if not templates:
            print("no contract templates")
        for t in templates:
            print(f"{t.id}\t{t.code}\tv{t.version}\t{t.created_at:%Y-%m-%d}\t"
                  f"{t.name_en} / {t.name_fr}")
    return 0


def assign(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from rxportal import db
    from rxportal.models import Account
    from rxportal.services import contracts

    with db.session_scope() as session:
        if args.code:
            template = contracts.latest_template(session, args.code)
            if template is None:
                print(f"refused: no template with code {args.code}", file=sys.stderr)
                return 2
            template_id = template.id
        else:
            template_id = args.template_id
        accounts = []
        for number in args.account:
            account = session.exec(select(Account).where(Account.number == number)).first()
            if account is None:
                print(f"refused: no account {number} (nothing was issued)", file=sys.stderr)
                return 2
            accounts.append(account)
        try:
            for account in accounts:
                contract = contracts.issue(session, template_id, account.id, args.issued_on)
                print(f"contract {contract.id} issued to account {account.number} "
                      f"on {contract.issued_on}")
        except LookupError as error:
            session.rollback()
            print(f"refused: {error.args[0]} (nothing was issued)", file=sys.stderr)
            return 2
    return 0


def list_contracts(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from rxportal import db
    from rxportal.models import Account
    from rxportal.services import contracts

    with db.session_scope() as session:
        account = session.exec(select(Account).where(Account.number == args.account)).first()
        if account is None:
            print(f"no account {args.account}", file=sys.stderr)
            return 2
        for row in contracts.list_for_account(session, account.id, "en"):
            print(f"{row.id}\t{row.issued_on}\t{row.status}\t{row.name}")
    return 0
