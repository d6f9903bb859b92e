"""`db.one_transaction()`: the parts of a page load share one session and one transaction, and
a part that fails leaves nothing of what it wrote (tests/unit/test_page_load.py covers the pages)."""
from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select

from rxportal import db
from rxportal.models.core import PortalUser
from tests.unit.test_billing_state import demo  # noqa: F401 - the demo data fixture


@pytest.fixture()
def transactions():
    """Each transaction that reached the database: the statements run in it."""
    seen: list[list[str]] = []

    def begin(_conn):
        seen.append([])

    def statement(_conn, _cursor, text, *_):
        if seen:
            seen[-1].append(text)

    engine = db.get_engine()
    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    yield seen
    event.remove(engine, "begin", begin)
    event.remove(engine, "before_cursor_execute", statement)


def _name(session, username="demo") -> str:
    return session.exec(select(PortalUser).where(PortalUser.username == username)).one().username


def test_the_scopes_inside_share_one_session_and_one_transaction(session, demo, transactions):
    from rxportal.services import settings

    with db.one_transaction() as block:
        with db.session_scope() as first:
            settings.get(first, "country")
            _name(first)
        with db.session_scope() as second:
            settings.get(second, "isp_name")  # the settings are not read again
            _name(second, "demo2")
    assert first is second is block
    assert len(transactions) == 1
    assert sum("FROM setting" in s for s in transactions[0]) == 1


def test_without_the_block_each_scope_is_its_own_transaction(session, demo, transactions):
    with db.session_scope() as first:
        _name(first)
    with db.session_scope() as second:
        _name(second)
    assert first is not second and len(transactions) == 2


def test_the_block_commits_what_its_parts_wrote(session, demo):
    with db.one_transaction():
        with db.session_scope() as part:
            user = part.exec(select(PortalUser).where(PortalUser.username == "demo")).one()
            user.language = "fr"
            part.add(user)
    with db.session_scope() as after:
        assert after.exec(select(PortalUser.language).where(
            PortalUser.username == "demo")).one() == "fr"


def test_a_part_that_fails_keeps_nothing_even_when_its_caller_goes_on(session, demo):
    with db.one_transaction():
        try:
            with db.session_scope() as part:
                user = part.exec(select(PortalUser).where(PortalUser.username == "demo")).one()
                user.language = "fr"
                part.add(user)
                part.flush()  # written to the database, inside the transaction
                raise LookupError("the part fails after writing")
        except LookupError:
            pass
        with db.session_scope() as next_part:  # the block goes on, in a new transaction
            assert _name(next_part, "demo2") == "demo2"
    with db.session_scope() as after:
        assert after.exec(select(PortalUser.language).where(
            PortalUser.username == "demo")).one() != "fr"


def test_an_error_out_of_the_block_rolls_it_all_back(session, demo):
    with pytest.raises(RuntimeError):
        with db.one_transaction():
            with db.session_scope() as part:
                user = part.exec(select(PortalUser).where(PortalUser.username == "demo")).one()
                user.language = "fr"
                part.add(user)
            raise RuntimeError("after the part")
    with db.session_scope() as after:
        assert after.exec(select(PortalUser.language).where(
            PortalUser.username == "demo")).one() != "fr"
    with db.session_scope() as fresh:  # the block is over: scopes are their own again
        with db.session_scope() as other:
            assert fresh is not other
