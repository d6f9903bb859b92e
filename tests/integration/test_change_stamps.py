"""Account stamps (migration 0012, services/change_stamps.py): on SQLite and on the real
PostgreSQL and MariaDB, every table of the migrated schema is either stamped by triggers or named here as not
shown on customer pages; a write to an account's rows changes that account's version and no other
account's; a write to what all pages share changes every account's; and a customer page read at
one version is read again, and shows the new data, after any write to its account."""
from __future__ import annotations

import contextlib
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from tests.integration.test_tickets_databases import new_database

# Written often and never shown on a customer page: writing them must not make pages read again.
NOT_STAMPED = {
    "alembic_version", "apitoken", "auditlog", "authtoken", "inboundmail", "loginattempt",
    "outboxmail", "staffsession", "staffticketnote", "staffuser", "usagebatch", "usersession",
    "webhookevent", "accountstamp",
}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request, data_dir, monkeypatch):
    """A migrated database of each kind, with two accounts that have a user each."""
    from rxportal import db
    from rxportal.services import migrations
    from tests.factories import make_account, make_user

    with contextlib.ExitStack() as stack:
        if request.param != "sqlite":
            stack.enter_context(new_database(request.param, monkeypatch))
        migrations.upgrade()
        with db.session_scope() as session:
            pat = make_account(session)
            sam = make_account(session, number="900002", email="sam@example.org")
            make_user(session, pat), make_user(session, sam, username="sam")
            session.commit()
            yield session, pat.id, sam.id


def _triggers(session) -> dict[str, set[str]]:
    """Table -> the operations its stamp triggers fire on."""
    dialect = session.get_bind().dialect.name
    if dialect != "sqlite":
        rows = session.execute(text(
            "SELECT event_object_table, event_manipulation FROM information_schema.triggers "
            "WHERE trigger_name LIKE 'stamp\\_%'"
            + (" AND trigger_schema = DATABASE()" if dialect == "mysql" else ""))).all()
    else:
        rows = [(table, name.rsplit("_", 1)[-1].upper()) for name, table in session.execute(text(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'stamp\\_%' ESCAPE '\\'")).all()]
    found: dict[str, set[str]] = {}
    for table, operation in rows:
        found.setdefault(table, set()).add(operation)
    return found


def test_every_table_is_stamped_or_named_as_not_shown(database):
    session, _, _ = database
    tables = set(inspect(session.get_bind()).get_table_names())
    triggers = _triggers(session)
    assert NOT_STAMPED <= tables  # the names here are real tables
    for table in sorted(tables - NOT_STAMPED):
        assert triggers.get(table) == {"INSERT", "UPDATE", "DELETE"}, table
    assert not set(triggers) & NOT_STAMPED


def _version(session, account_id):
    from rxportal.services import change_stamps

    session.commit()
    return change_stamps.version(session, account_id)


def _account(session, account_id):
    from rxportal.models import Account

    return session.get(Account, account_id)


def test_writes_change_their_accounts_version_only(database):
    from rxportal.models import InvoiceLine, Plan, Setting, UserSession
    from rxportal.models.tickets import Ticket, TicketMessage
    from tests.factories import add_transaction, make_invoice

    session, pat, sam = database

    def moves(change, *, pat_moves=True, sam_moves=False):
        before = _version(session, pat), _version(session, sam)
        change()
        after = _version(session, pat), _version(session, sam)
        assert (after[0] > before[0]) is pat_moves and after[0] >= before[0]
        assert (after[1] > before[1]) is sam_moves and after[1] >= before[1]
        return after

    entry = add_transaction(session, _account(session, pat), -500)  # the first stamp row
    invoice = make_invoice(session, _account(session, pat), 2000)
    line = InvoiceLine(invoice_id=invoice.id, description="Service", unit_minor=2000,
                       amount_minor=2000)
    ticket = Ticket(account_id=pat, number=1, subject="Slow", status="open")
    moves(lambda: session.add(line))  # a child row: its invoice's account
    moves(lambda: session.add(ticket))
    message = TicketMessage(ticket_id=ticket.id, author_kind="isp", body_text="Looking",
                            message_id="<m1@isp.example>")
    moves(lambda: session.add(message))  # a staff reply to pat's ticket
    moves(lambda: setattr(message, "body_text", "Fixed"))
    moves(lambda: setattr(entry, "description", "Changed"))
    moves(lambda: setattr(line, "description", "Changed"))
    moves(lambda: setattr(invoice, "status", "paid"))
    moves(lambda: session.delete(entry))
    moves(lambda: add_transaction(session, _account(session, sam), -100),
          pat_moves=False, sam_moves=True)
    moves(lambda: setattr(_account(session, sam), "name", "Sam B."),
          pat_moves=False, sam_moves=True)

    # A session's last-seen time is written every minute of use: it changes nothing shown.
    moves(lambda: session.add(UserSession(user_id=1, token_hash="x" * 64,
                                          expires_at=datetime.now(timezone.utc))),
          pat_moves=False)
    row = session.exec(select(UserSession)).first()
    moves(lambda: setattr(row, "last_seen_at", datetime.now(timezone.utc)), pat_moves=False)

    # What every account's pages share: both versions move.
    moves(lambda: session.add(Setting(key="isp_name", value="Other ISP")), sam_moves=True)
    moves(lambda: session.add(Plan(name="Fast", price_minor=100)), sam_moves=True)
