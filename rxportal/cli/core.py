"""Database set-up, demo data and the job worker."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    cmd = subparsers.add_parser("migrate", help="create or upgrade the database schema")
    cmd.set_defaults(handler=migrate)
    cmd = subparsers.add_parser(
        "setup", help="migrate, and load the demo data when the database is new")
    cmd.add_argument("--no-demo", action="store_true", help="do not load demo data")
    cmd.set_defaults(handler=setup)
    cmd = subparsers.add_parser("demo", help="load the demo data (into an empty database)")
    cmd.set_defaults(handler=load_demo)
    cmd = subparsers.add_parser("worker", help="run the background job worker (huey)")
    cmd.add_argument("--workers", type=int, default=2)
    cmd.set_defaults(handler=worker)


def migrate(_args: argparse.Namespace) -> int:
    from rxportal.services import migrations

    migrations.upgrade()
    print("database is up to date")
    return 0


def setup(args: argparse.Namespace) -> int:
    from rxportal.services import migrations

    new = migrations.is_new_database()
    migrations.upgrade()
    if new and not args.no_demo:
        return load_demo(args)
    print("database ready" + (" (new)" if new else ""))
    return 0


def load_demo(_args: argparse.Namespace) -> int:
    from rxportal import db
    from rxportal.demo import load_all

    with db.session_scope() as session:
        load_all(session)
    print("demo data loaded: customers demo and demo2 (password correct-horse-demo)")
    return 0


def worker(args: argparse.Namespace) -> int:
    from huey.consumer import Consumer

    from rxportal.jobs import huey

    Consumer(huey, workers=args.workers, worker_type="thread", periodic=True,
             check_worker_health=True).run()
    return 0
