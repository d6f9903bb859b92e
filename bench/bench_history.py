"""Page data load versus history size: the billing page's load handler through the service layer
(`billing.load_for_session`, the work `BillingState.load_billing` does in its one transaction:
re-check the session, figures, the first page of transactions and invoices, saved methods), the tickets page's list
(`tickets.list_tickets`, first page) and the usage page's reads (current period, twelve periods of
history), for a customer with 10 invoices (≈20 transactions), 10 tickets and 10 usage periods and
one with 10,000 of each, both in the same database. Budget: the big one at most 1.5 times the
small one. Contracts are not measured: their list shows all of an account's contracts (a handful)
and is not paged.

Runs on SQLite and on PostgreSQL (a new database on 127.0.0.1:5432, dropped afterwards).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import record, verdict  # noqa: E402

BUDGET_RATIO = 1.5
SIZES = (10, 10_000)
REPEATS = int(os.environ.get("RXPORTAL_BENCH_REPEATS", "300"))


def _fill(session, number: str, username: str, invoices: int) -> int:
    """An account with `invoices` monthly invoices (each a charge; all but the last two paid)."""
    from sqlalchemy import insert

    from rxportal.models import Invoice, Plan, Transaction
    from tests.factories import make_account, make_service, make_user

    account = make_account(session, number=number, email=f"{username}@example.org")
    make_user(session, account, username=username, password="bench password 123")
    plan = session.get(Plan, make_service(session, account, price_minor=6500).plan_id)
    plan.data_cap_bytes = 500 * 10**9  # a capped plan, as demo's: the pages show usage too
    start = date(2026, 10, 1) - timedelta(days=30 * invoices)
    rows = [dict(account_id=account.id, number=f"B{number}-{i}", issued_on=start + timedelta(days=30 * i),
                 due_on=start + timedelta(days=30 * i + 14), currency="CAD", total_minor=6500,
                 status="paid" if i < invoices - 2 else "open",
                 period_start=start + timedelta(days=30 * i),
                 created_at=datetime.now(timezone.utc)) for i in range(invoices)]
    session.execute(insert(Invoice), rows)
    ids = session.exec(
        __import__("sqlmodel").select(Invoice.id, Invoice.status)
        .where(Invoice.account_id == account.id).order_by(Invoice.id)).all()
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tx = []
    for invoice_id, status in ids:
        tx.append(dict(account_id=account.id, kind="charge", description="Service",
                       amount_minor=6500, currency="CAD", occurred_at=at, invoice_id=invoice_id,
                       reference=""))
        if status == "paid":
            tx.append(dict(account_id=account.id, kind="payment", description="Payment",
                           amount_minor=-6500, currency="CAD", occurred_at=at,
                           invoice_id=invoice_id, reference=""))
    session.execute(insert(Transaction), tx)
    from rxportal.models.tickets import Ticket

    now = datetime.now(timezone.utc)
    session.execute(insert(Ticket), [
        dict(account_id=account.id, number=(int(number) % 100 + 1) * 1_000_000 + i, subject=f"Question {i}",
             status="closed" if i < invoices - 2 else "waiting_for_isp",
             created_at=now - timedelta(hours=invoices - i),
             last_activity_at=now - timedelta(hours=invoices - i)) for i in range(invoices)])
    _fill_usage(session, account.id, invoices)
    session.flush()
    return account.id


def _fill_usage(session, account_id: int, count: int) -> None:
    """`count` usage periods ending with the current one (10,000 months go back to 1193)."""
    from sqlalchemy import insert

    from rxportal.models.usage import UsagePeriod
    from rxportal.services import periods

    now = datetime.now(timezone.utc)
    session.execute(insert(UsagePeriod), [
        dict(account_id=account_id, period_start=start, period_end=end, bytes_down=40 * 10**9,
             bytes_up=4 * 10**9, updated_at=now)
        for start, end in periods.previous_periods(1, date.today(), count)])


def _load_billing(token: str) -> None:
    """What the billing page's on_load handler does, without Reflex."""
    from rxportal.services import billing

    user, data = billing.load_for_session(token, "en")
    assert user is not None and data["amount_due"]


def _load_tickets(token: str) -> None:
    """The tickets page's list: re-check the session, then the first page of tickets."""
    from rxportal import db
    from rxportal.services import auth, tickets

    with db.session_scope() as session:
        user = auth.current_user(session, token)
        assert user is not None
    with db.session_scope() as session:
        rows, total = tickets.list_tickets(session, user.account_id, "all", 1)
        assert rows and total


def _load_usage(token: str) -> None:
    """The usage page's reads (UsageState.load_usage): the session, the current period against
    the cap, the last twelve periods, the top-offs that can be bought."""
    from rxportal import db
    from rxportal.services import auth, usage

    with db.session_scope() as session:
        user = auth.current_user(session, token)
        assert user is not None
    with db.session_scope() as session:
        today = usage.local_today(session)
        assert usage.current(session, user.account_id, today).cap
        assert len(usage.history(session, user.account_id, today)) == usage.HISTORY_PERIODS
        usage.topoff_products(session, user.account_id)


def _time(load, tokens: dict[int, str]) -> dict[int, tuple[float, float]]:
    """(median wall ms, median CPU ms of this process) per size. The sizes take turns, so the
    other work on the machine, which changes from minute to minute, weighs on both alike; the
    CPU time is what the load costs here whatever that work (on SQLite, all of it)."""
    for _ in range(20):  # warm caches and the connection pool
        for token in tokens.values():
            load(token)
    wall: dict[int, list[float]] = {size: [] for size in tokens}
    cpu: dict[int, list[float]] = {size: [] for size in tokens}
    for _ in range(REPEATS):
        for size, token in tokens.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            load(token)
            wall[size].append(time.perf_counter() - started)
            cpu[size].append(time.process_time() - started_cpu)
    return {size: (statistics.median(wall[size]) * 1000, statistics.median(cpu[size]) * 1000)
            for size in tokens}


# Indexes to drop before measuring (e.g. "ix_ticket_account_activity,ix_invoice_account_status"):
# the same run without them, to see what they do under the same load.
DROP_INDEXES = [name for name in os.environ.get("RXPORTAL_BENCH_DROP_INDEXES", "").split(",")
                if name.replace("_", "").isalnum()]


def _drop_indexes(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        for name in DROP_INDEXES:
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
    engine.dispose()


def _refresh_statistics(database_url: str) -> None:
    """What a live PostgreSQL has after the bulk load: autovacuum's statistics and visibility
    map, so its plans are those of production. SQLite keeps none unless someone runs ANALYZE,
    which the portal does not: its plans stay those of a new database."""
    if database_url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def run(database_url: str, label: str) -> list[str]:
    from rxportal import db
    from rxportal.services import auth, migrations

    os.environ["DATABASE_URL"] = database_url
    migrations.upgrade()
    _drop_indexes(database_url)
    tokens = {}
    with db.session_scope() as session:
        for size in SIZES:
            _fill(session, f"77{size}", f"hist{size}", size)
    for size in SIZES:
        with db.session_scope() as session:
            tokens[size] = auth.login(session, f"hist{size}", "bench password 123").token
    _refresh_statistics(database_url)
    rows = []
    for page, load in (("billing", _load_billing), ("tickets", _load_tickets),
                       ("usage", _load_usage)):
        times = _time(load, tokens)
        (small, small_cpu), (big, big_cpu) = times[SIZES[0]], times[SIZES[1]]
        ratio = big / small
        without = f" without {', '.join(DROP_INDEXES)}" if DROP_INDEXES else ""
        rows.append(f"{page} page data load, {label}{without}: history of {SIZES[0]} "
                    f"{small:.2f} ms, {SIZES[1]:,} {big:.2f} ms (median of {REPEATS}); ratio "
                    f"{ratio:.2f}, budget {BUDGET_RATIO}: {verdict(ratio <= BUDGET_RATIO)}; CPU "
                    f"here {small_cpu:.2f} vs {big_cpu:.2f} ms (ratio {big_cpu / small_cpu:.2f})")
        print(rows[-1], flush=True)
    db.engine_for(database_url).dispose()
    return rows


DATABASES = os.environ.get("RXPORTAL_BENCH_DATABASES", "sqlite,postgresql").split(",")


def main() -> None:
    os.environ.setdefault("RXPORTAL_SECRET_KEY", "bench-secret-key")
    os.environ.setdefault("RXPORTAL_BCRYPT_ROUNDS", "4")
    rows = []
    if "sqlite" in DATABASES:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["RXPORTAL_DATA_DIR"] = tmp
            rows += run(f"sqlite:///{tmp}/history.db", "SQLite")
    if "postgresql" in DATABASES:
        rows += _run_on_postgresql()
    record("Page data load vs history size (bench_history.py)", rows)


def _run_on_postgresql() -> list[str]:
    """On a new database of the PostgreSQL on 127.0.0.1, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"rxportal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return run(f"postgresql://postgres@127.0.0.1:5432/{name}", "PostgreSQL")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
