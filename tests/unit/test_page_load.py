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
