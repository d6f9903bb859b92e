"""Benchmark: the billing run for 10,000 accounts billed on the same day, on SQLite (invoice,
lines, ledger entries, credit applied, invoice e-mail queued; no autopay). Prints accounts per
second, and checks that a second run for the same date issues nothing.

    python bench/bench_billing_run.py [--accounts 10000]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-run-")
    os.environ["RXPORTAL_DATA_DIR"] = folder
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"

    from rxportal import db
    from rxportal.models import Account, AccountService, Plan
    from rxportal.services import billing_run, mail, migrations

    mail.dispatcher = None  # queued mail stays in the outbox (no worker here)
    migrations.upgrade()
    day = date(2026, 3, 1)
    with db.session_scope() as session:
        plan = Plan(name="Fibre 100", price_minor=6500, currency="CAD")
        session.add(plan)
        session.flush()
        for n in range(args.accounts):
            account = Account(number=f"R{n:06d}", name=f"Customer {n}",
                              email=f"c{n}@example.net", billing_day=1, currency="CAD")
            session.add(account)
            session.flush()
            session.add(AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                                       price_minor=6500, started_on=date(2025, 1, 1)))
    start = time.perf_counter()
    result = billing_run.run(day)
    elapsed = time.perf_counter() - start
    assert result.invoiced == args.accounts and not result.errors, result
    print(f"billing run: {result.invoiced:,} invoices for {result.accounts:,} accounts in "
          f"{elapsed:.1f} s = {result.accounts / elapsed:.0f} accounts/second (SQLite)")
    start = time.perf_counter()
    again = billing_run.run(day)
    print(f"second run for the same date: {again.invoiced} invoices issued, "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
