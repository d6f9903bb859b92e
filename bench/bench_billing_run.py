"""Benchmark: the billing run for 10,000 and 50,000 accounts billed on the same day, on SQLite and
on PostgreSQL, each size on a fresh database made here (invoice, line, ledger entries, invoice
e-mail queued, audit entry; no autopay). Prints accounts per second against the budget, checks
that a second run for the same date issues nothing, and appends the figures to
bench/results.md.

    python bench/bench_billing_run.py [--accounts 10000 50000] [--databases sqlite postgresql]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import record, verdict  # noqa: E402

BUDGET_RATE = 200  # accounts per second, at every size
BUDGET_SCALE = 0.8  # the rate at the largest size over the rate at the smallest: no slowdown
DAY = date(2026, 3, 1)
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _use(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url


def _seed(accounts: int) -> None:
    """Accounts with one active service each, written in bulk (the run is what is measured)."""
    from sqlalchemy import insert

    from rxportal import db
    from rxportal.models import Account, AccountService, Plan
    from rxportal.models.base import bulk_rows

    with db.session_scope() as session:
        plan = Plan(name="Fibre 100", price_minor=6500, currency="CAD")
        session.add(plan)
        session.flush()
        for start in range(0, accounts, 5000):
            numbers = range(start, min(accounts, start + 5000))
            ids = session.scalars(insert(Account).returning(Account.id, sort_by_parameter_order=True),
                                  bulk_rows(Account, [
                                      {"number": f"R{n:06d}", "name": f"Customer {n}",
                                       "email": f"c{n}@example.net", "billing_day": 1,
                                       "currency": "CAD"} for n in numbers])).all()
            session.execute(insert(AccountService), bulk_rows(AccountService, [
                {"account_id": i, "plan_id": plan.id, "name": plan.name, "price_minor": 6500,
                 "started_on": date(2025, 1, 1)} for i in ids]))


def measure(database_url: str, accounts: int) -> tuple[float, float]:
    """(accounts per second of the run, seconds of the second run for the same date)."""
    from rxportal import db
    from rxportal.services import billing_run, mail, migrations

    _use(database_url)
    mail.dispatcher = None  # queued mail stays in the outbox (no worker here)
    migrations.upgrade()
    _seed(accounts)
    start = time.perf_counter()
    result = billing_run.run(DAY)
    elapsed = time.perf_counter() - start
    assert result.invoiced == accounts and not result.errors, result
    start = time.perf_counter()
    again = billing_run.run(DAY)
    repeat = time.perf_counter() - start
    assert again.invoiced == 0 and not again.errors, again
    db.engine_for(database_url).dispose()
    return accounts / elapsed, repeat


def sqlite_database(folder: str, accounts: int) -> tuple[str, callable]:
    return f"sqlite:///{folder}/run-{accounts}.db", lambda: None


def postgresql_database(_folder: str, _accounts: int) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    name = f"rxportal_bench_run_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


DATABASES = {"sqlite": ("SQLite", sqlite_database), "postgresql": ("PostgreSQL", postgresql_database)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--databases", nargs="+", choices=list(DATABASES),
                        default=list(DATABASES))
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-run-")
    os.environ["RXPORTAL_DATA_DIR"] = folder
    os.environ.setdefault("RXPORTAL_SECRET_KEY", "bench-secret-key")
    rows = []
    for key in args.databases:
        label, make = DATABASES[key]
        rates = {}
        for accounts in args.accounts:
            url, drop = make(folder, accounts)
            try:
                rates[accounts], repeat = measure(url, accounts)
            finally:
                drop()
            rows.append(f"billing run, {label}: {accounts:,} accounts at "
                        f"{rates[accounts]:.0f} accounts/s (budget {BUDGET_RATE}: "
                        f"{verdict(rates[accounts] >= BUDGET_RATE)}); the second run for the "
                        f"same date issued nothing in {repeat:.1f} s")
            print(rows[-1], flush=True)
        if len(rates) > 1:
            small, big = min(rates), max(rates)
            scale = rates[big] / rates[small]
            rows.append(f"billing run, {label}: rate at {big:,} / rate at {small:,} = "
                        f"{scale:.2f} (budget ≥ {BUDGET_SCALE}: {verdict(scale >= BUDGET_SCALE)})")
            print(rows[-1], flush=True)
    record("Billing run throughput (bench_billing_run.py)", rows)


if __name__ == "__main__":
    main()
