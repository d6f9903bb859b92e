"""Usage: CSV import, API tokens, FreeRADIUS accounting, roll-ups, top-off products."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    cmd = subparsers.add_parser(
        "import-usage", help="import usage from a CSV file (account, date or period, bytes "
                             "down, bytes up); nothing is imported when any row is bad")
    cmd.add_argument("file", help="CSV file, or - for standard input")
    cmd.set_defaults(handler=import_usage)

    cmd = subparsers.add_parser("create-api-token", help="create a token for the JSON API")
    cmd.add_argument("name", help="what the token is for, e.g. 'billing system'")
    cmd.add_argument("--scope", default="usage", help="space-separated scopes (default: usage)")
    cmd.set_defaults(handler=create_api_token)

    cmd = subparsers.add_parser("revoke-api-token", help="revoke a JSON API token by its id")
    cmd.add_argument("id", type=int)
    cmd.set_defaults(handler=revoke_api_token)

    cmd = subparsers.add_parser(
        "read-radacct", help="count new usage from FreeRADIUS accounting (radacct)")
    cmd.add_argument("--url", help="SQLAlchemy URL of the RADIUS database "
                                   "(default: the radacct_url setting)")
    cmd.add_argument("--table", help="table, or schema.table (default: radacct_table setting)")
    cmd.set_defaults(handler=read_radacct)

    cmd = subparsers.add_parser(
        "radius-login", help="link a RADIUS user name to an account (when it is not the "
                             "account number)")
    cmd.add_argument("username")
    cmd.add_argument("account", help="account number")
    cmd.set_defaults(handler=radius_login)

    cmd = subparsers.add_parser("usage-rollup", help="recompute every account's usage periods")
    cmd.set_defaults(handler=usage_rollup)

    cmd = subparsers.add_parser("add-topoff", help="define a top-off product")
    cmd.add_argument("name")
    cmd.add_argument("gigabytes", type=int)
    cmd.add_argument("price_minor", type=int, help="price in minor units (cents)")
    cmd.add_argument("--currency", help="default: the ISP's currency setting")
    cmd.set_defaults(handler=add_topoff)


def import_usage(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import usage

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    with db.session_scope() as session:
        checked, result = usage.import_csv(session, data)
    if checked.errors:
        for line, problem in checked.errors:
            where = f"line {line}" if line else "file"
            print(f"{args.file}: {where}: {problem}", file=sys.stderr)
        print(f"nothing imported: {len(checked.errors)} bad row(s)", file=sys.stderr)
        return 1
    if result.duplicate:
        print(f"this file was already imported ({result.rows} rows); nothing changed")
    else:
        print(f"imported {result.rows} rows")
    return 0


def create_api_token(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import api_tokens

    try:
        with db.session_scope() as session:
            row, token = api_tokens.create(session, args.name, scope=args.scope)
            token_id = row.id
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"token {token_id} ({args.name}), shown only this once:")
    print(token)
    return 0


def revoke_api_token(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import api_tokens

    with db.session_scope() as session:
        done = api_tokens.revoke(session, args.id)
    print("revoked" if done else "no such active token", file=sys.stdout if done else sys.stderr)
    return 0 if done else 1


def read_radacct(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm.exc import StaleDataError

    from rxportal import db
    from rxportal.services import radacct

    try:
        with db.session_scope() as session:
            report = radacct.sync(session, url=args.url, table=args.table)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    except StaleDataError:
        print("another reader counted the same sessions at the same time; nothing was "
              "written by this run (run it again)", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"cannot read radacct: {type(error).__name__}: {str(error)[:300]}", file=sys.stderr)
        return 1
    print(f"read {report.rows} rows, {report.counted} with new bytes "
          f"({report.bytes_down} down, {report.bytes_up} up)")
    if report.unmatched:
        print("user names with no account: " + ", ".join(sorted(report.unmatched)[:50]))
    return 0


def radius_login(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from rxportal import db
    from rxportal.models import Account
    from rxportal.models.usage import RadiusLogin

    with db.session_scope() as session:
        account = session.exec(select(Account).where(Account.number == args.account)).first()
        if account is None:
            print(f"no account {args.account}", file=sys.stderr)
            return 1
        row = session.exec(select(RadiusLogin).where(
            RadiusLogin.username == args.username)).first() or RadiusLogin(username=args.username)
        row.account_id = account.id
        session.add(row)
    print(f"{args.username} -> account {args.account}")
    return 0


def usage_rollup(_args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.services import usage

    with db.session_scope() as session:
        written = usage.rollup_all(session)
    print(f"{written} usage periods recomputed")
    return 0


def add_topoff(args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.models.usage import TopOffProduct
    from rxportal.services import settings, usage

    if args.gigabytes <= 0 or args.price_minor < 0 or not args.name.strip():
        print("a top-off needs a name, a positive size and a price", file=sys.stderr)
        return 2
    with db.session_scope() as session:
        currency = (args.currency or settings.get(session, "currency")).upper()
        session.add(TopOffProduct(name=args.name.strip()[:120], bytes=args.gigabytes * usage.GB,
                                  price_minor=args.price_minor, currency=currency))
    print("top-off product added")
    return 0
