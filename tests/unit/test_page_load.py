"""Every customer page opens with the login check, in the same event as the page's own load
(`state.session.page_load`): a visitor without a session goes to the login page and the page's
load does not run; a customer who must change the password goes to that page first."""
from __future__ import annotations

import pytest
from sqlmodel import select

from rxportal.models.core import PortalUser
from tests.unit.test_billing_state import call, demo, state_for  # noqa: F401 - demo: fixture
from tests.unit.test_return_address import _on_page, _redirect_path

# Each customer page (its route) and an address of it, with the login page it leads to.
CUSTOMER_PAGES = {
    "/billing": ("/billing", "/"),
    "/billing/pay": ("/billing/pay", "/?next=%2Fbilling%2Fpay"),
    "/contracts": ("/contracts", "/?next=%2Fcontracts"),
    "/contracts/[id]/sign": ("/contracts/3/sign", "/?next=%2Fcontracts%2F3%2Fsign"),
    "/details": ("/details", "/?next=%2Fdetails"),
    "/tickets": ("/tickets", "/?next=%2Ftickets"),
    "/tickets/[id]": ("/tickets/42", "/?next=%2Ftickets%2F42"),
    "/usage": ("/usage", "/?next=%2Fusage"),
}


def _registered_pages() -> dict[str, list]:
    """Every page of the app: route -> its on_load handlers."""
    import rxportal.rxportal  # noqa: F401 - registers the pages
    from reflex_base.registry import RegistrationContext

    return {kwargs["route"]: kwargs.get("on_load", [])
            for _, kwargs in RegistrationContext.ensure_context().decorated_pages}


def _customer_pages() -> dict[str, list]:
    from rxportal.state.session import CUSTOMER_ROUTES

    return {route: handlers for route, handlers in _registered_pages().items()
            if any(route == page or route.startswith(page + "/") for page in CUSTOMER_ROUTES)}


def _load_handler(route: str):
    (handler,) = _customer_pages()[route]  # one event per page view
    return handler


def test_every_customer_page_loads_in_one_event_that_checks_the_login():
    from rxportal.state.session import SessionState

    pages = _customer_pages()
    assert set(pages) == set(CUSTOMER_PAGES)  # a new page: add it above
    for route in pages:
        handler = _load_handler(route)
        assert getattr(handler.fn, "opens_page", False) or handler.fn is \
            SessionState.check_login.fn, route


@pytest.mark.parametrize("route", sorted(CUSTOMER_PAGES))
def test_a_visitor_without_a_session_is_sent_to_the_login_page_before_the_page_loads(
        route, session, demo):
    address, login = CUSTOMER_PAGES[route]
    handler = _load_handler(route)
    state = state_for(handler.state, session, None)
    _on_page(state, address)
    before = {name: getattr(state, name) for name in type(state).base_vars}
    assert _redirect_path(call(state, handler.fn.__name__)) == login
    # The page's own load did not run: none of its vars was touched.
    assert {name: getattr(state, name) for name in type(state).base_vars} == before
    assert not (state.dirty_vars & set(type(state).base_vars))


def test_a_customer_who_must_change_the_password_goes_there_first(session, demo):
    from rxportal.state.billing import BillingState

    state = state_for(BillingState, session, "demo")
    user = session.exec(select(PortalUser).where(PortalUser.username == "demo")).one()
    user.must_change_password = True
    session.commit()
    assert _redirect_path(call(state, "load_billing")) == "/set-password"
    assert not state.loaded and state.invoices == []


@pytest.mark.parametrize("state_name, handler", [("BillingState", "load_billing"),
                                                  ("PayState", "load_pay")])
def test_the_billing_pages_give_the_layouts_figures_from_their_own_read(
        state_name, handler, session, demo):
    """`page_load(layout=False)`: the amount due in the layout comes from the page's read."""
    from rxportal.state import billing

    state = state_for(getattr(billing, state_name), session, "demo2")
    call(state, handler)
    assert state.username == "demo2" and state.account_name == demo["demo2"].name
    assert state.amount_due_text == state.amount_due != ""


def test_a_page_whose_load_does_not_check_the_login_is_refused():
    from rxportal.components.layout import template
    from rxportal.state.session import SessionState

    with pytest.raises(TypeError, match="page_load"):
        template(route="/x", title="X", load=SessionState.toggle_menu)


def test_a_page_load_handler_is_not_async():
    from rxportal.state.session import page_load

    async def load(self, user):
        return None

    with pytest.raises(TypeError, match="not async"):
        page_load()(load)


@pytest.mark.parametrize("state_name, handler", [("billing.BillingState", "load_billing"),
                                                  ("tickets.TicketsState", "load_tickets"),
                                                  ("details.DetailsState", "load_details")])
def test_a_page_load_is_one_database_transaction(state_name, handler, session, demo):
    """The login check and the page's reads share one transaction (db.one_transaction): on
    PostgreSQL each transaction of its own cost four round trips more (bench/README.md)."""
    import importlib

    from sqlalchemy import event

    from rxportal import db

    module, name = state_name.split(".")
    state = state_for(getattr(importlib.import_module(f"rxportal.state.{module}"), name),
                      session, "demo")
    begun: list[int] = []
    settings_reads: list[str] = []
    engine = db.get_engine()

    def begin(_conn):
        begun.append(1)

    def statement(_conn, _cursor, text, *_):
        if "FROM setting" in text:
            settings_reads.append(text)

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        call(state, handler)
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "before_cursor_execute", statement)
    assert state.username == "demo"  # the page loaded, logged in
    assert len(begun) == 1 and len(settings_reads) == 1


def _statements_during(fn) -> list[str]:
    from sqlalchemy import event

    from rxportal import db

    seen: list[str] = []
    engine = db.get_engine()

    def statement(_conn, _cursor, text, *_):
        seen.append(text)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    return seen


@pytest.mark.parametrize("state_name, handler, shown", [
    ("billing.BillingState", "load_billing", lambda s: s.total_balance),
    ("tickets.TicketsState", "load_tickets", lambda s: [r["subject"] for r in s.rows])])
def test_a_page_is_read_again_only_after_a_write_to_what_it_shows(state_name, handler, shown,
                                                                  session, demo):
    """Coming back to a page whose account had no write since this tab read it costs the
    login check and the account's version (services/change_stamps.py), not the page's reads;
    any write to the account (here by another connection, as the job worker or a staff member
    would) makes the next load read and show it."""
    import importlib
    from datetime import datetime, timezone

    from rxportal import db
    from rxportal.models import Transaction
    from rxportal.models.tickets import Ticket

    module, name = state_name.split(".")
    state = state_for(getattr(importlib.import_module(f"rxportal.state.{module}"), name),
                      session, "demo")
    first = _statements_during(lambda: call(state, handler))
    before = shown(state)
    again = _statements_during(lambda: call(state, handler))
    assert len(again) <= 4 < len(first)  # settings, session, version (and the session's touch)
    assert not [s for s in again if "FROM invoice" in s or "FROM ticket" in s]
    assert shown(state) == before

    with db.session_scope() as other:
        account_id = demo["demo"].id
        other.add(Transaction(account_id=account_id, kind="credit", description="Goodwill",
                              amount_minor=-1000, currency="USD",
                              occurred_at=datetime.now(timezone.utc)))
        other.add(Ticket(account_id=account_id, number=9001, subject="A new one",
                         status="open"))
    call(state, handler)
    assert shown(state) != before


def test_a_tab_that_changes_customer_is_never_shown_the_previous_ones_page(session, demo):
    """The read is keyed by the account too: the same tab with demo2's session (a new login
    without a logout in between) reads demo2's billing page, not demo's kept one."""
    from rxportal.services import auth
    from rxportal.state.billing import BillingState

    state = state_for(BillingState, session, "demo")
    call(state, "load_billing")
    demos = state.invoices
    state.session_token = auth.login(session, "demo2", "correct-horse-demo").token
    # The two accounts' versions made equal: only the account in the key tells them apart.
    from sqlalchemy import text

    ids = {"a": demo["demo"].id, "b": demo["demo2"].id}
    session.execute(text("DELETE FROM accountstamp WHERE account_id = :b"), ids)
    session.execute(text("INSERT INTO accountstamp (account_id, version) SELECT :b, version "
                         "FROM accountstamp WHERE account_id = :a"), ids)
    session.commit()
    state.lang = "en"  # this browser's choice: demo2's French does not tell them apart either
    call(state, "load_billing")
    assert state.username == "demo2" and state.invoices != demos
    assert state.account_name == demo["demo2"].name


def test_a_table_paged_away_from_is_read_again(session, demo):
    """A load shows each table's first page: a tab left on another page of a table reads it
    again even with nothing new."""
    from rxportal.state.billing import BillingState

    state = state_for(BillingState, session, "demo")
    call(state, "load_billing")
    state.tx_page = 1  # as change_page leaves it
    reads = _statements_during(lambda: call(state, "load_billing"))
    assert state.tx_page == 0 and [s for s in reads if "FROM \"transaction\"" in s or
                                   "FROM transaction" in s]


def test_a_page_is_read_again_after_a_restart(session, demo, monkeypatch):
    """A tab's state outlives the process (on disk, in Redis): after a restart, which may bring
    new code or settings from the environment, its pages are read again."""
    from rxportal.state import session as session_module
    from rxportal.state.billing import BillingState

    state = state_for(BillingState, session, "demo")
    call(state, "load_billing")
    assert len(_statements_during(lambda: call(state, "load_billing"))) <= 4
    monkeypatch.setattr(session_module, "_PROCESS_KEY", "another process")
    assert [s for s in _statements_during(lambda: call(state, "load_billing"))
            if "FROM invoice" in s]
