"""Benchmark: the billing page's load handler (BillingState.load_billing calls
services.billing.load_for_session: the session check, the ledger figures, one page of this
period's transactions and of invoices, the methods) for an account with 10 transactions versus
one with 10,000 (and 1,000 invoices). Prints both times and their ratio (budget: 1.5).

    python bench/bench_billing_page.py [--rounds 50]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--transactions", type=int, default=10_000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-billing-")
    os.environ["RXPORTAL_DATA_DIR"] = folder
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"

    from rxportal import db
    from rxportal.models import (Account, AccountService, Invoice, Plan, PortalUser,
                                 Transaction)
    from rxportal.services import auth, billing, migrations

    from sqlmodel import select

    migrations.upgrade()
    today = date.today()
    with db.session_scope() as session:
        plan = Plan(name="Fibre 100", price_minor=6500, currency="CAD")
        session.add(plan)
        session.flush()
        ids = {}
        for label, count in (("small", 10), ("large", args.transactions)):
            account = Account(number=f"B-{label}", name=label, billing_day=1, currency="CAD")
            session.add(account)
            session.flush()
            session.add(AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                                       price_minor=6500, started_on=today))
            invoices = max(1, count // 10)  # e.g. 1,000 invoices for 10,000 transactions
            invoice_ids = []
            for n in range(invoices):
                issued = today - timedelta(days=30 * (invoices - n))
                invoice = Invoice(account_id=account.id, number=f"B-{label}-{n}",
                                  issued_on=issued, due_on=issued + timedelta(days=14),
                                  currency="CAD", total_minor=6500,
                                  status="open" if n >= invoices - 2 else "paid")
                session.add(invoice)
                session.flush()
                invoice_ids.append(invoice.id)
            rows = []
            for n in range(count):
                invoice_id = invoice_ids[n % len(invoice_ids)]
                at = datetime.now(timezone.utc) - timedelta(hours=n)
                rows.append(Transaction(account_id=account.id, kind="charge" if n % 2 else
                                        "payment", description="x",
                                        amount_minor=6500 if n % 2 else -6500, currency="CAD",
                                        invoice_id=invoice_id, occurred_at=at))
            session.add_all(rows)
            session.add(PortalUser(account_id=account.id, username=f"bench-{label}"))
            session.flush()
            user = session.exec(select(PortalUser).where(
                PortalUser.username == f"bench-{label}")).one()
            ids[label] = auth._start_session(session, user, "127.0.0.1", "bench")

    def timed(token: str) -> float:
        samples = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            user, data = billing.load_for_session(token, "en")
            samples.append(time.perf_counter() - start)
            assert user is not None and data["transactions"]
        return statistics.median(samples)

    timed(ids["small"]), timed(ids["large"])  # warm up
    small, large = timed(ids["small"]), timed(ids["large"])
    print(f"billing page load, 10 transactions:     {small * 1000:.2f} ms (median of {args.rounds})")
    print(f"billing page load, {args.transactions:,} transactions: {large * 1000:.2f} ms")
    print(f"ratio: {large / small:.2f} (budget 1.5)")


if __name__ == "__main__":
    main()
