"""After logging in, a customer comes back to the page that sent them to the login page (a
link from an e-mail, a tab whose state was lost), and never to another site."""
from __future__ import annotations

import pytest

from rxportal.services.auth import return_address
from rxportal.state.session import CUSTOMER_ROUTES, HOME_ROUTE
from tests.unit.test_billing_state import call, demo, state_for  # noqa: F401 - demo: fixture


@pytest.mark.parametrize("requested", [
    "/details", "/tickets/42", "/billing?invoice=7", "/usage/", "/contracts/3",
])
def test_a_customer_page_is_returned_to(requested):
    assert return_address(requested, CUSTOMER_ROUTES, HOME_ROUTE) == requested


@pytest.mark.parametrize("requested", [
    "", "/", "//evil.example/billing", "https://evil.example/billing", "/\\evil.example",
    "javascript:alert(1)", "/billing<script>alert(1)</script>", "/tickets/1' OR '1'='1",
    "/admin", "/set-password", "/billingx", "/details\r\nSet-Cookie: x=1",
    "/tickets/" + "1" * 400, None,
])
def test_anything_else_goes_to_the_home_page(requested):
    assert return_address(requested, CUSTOMER_ROUTES, HOME_ROUTE) == HOME_ROUTE


def _on_page(state, address: str) -> None:
    """Give the state's tree the router data of a page load at `address`."""
    from urllib.parse import parse_qsl, urlsplit

    root = state._get_root_state()
    path, query = urlsplit(address).path, urlsplit(address).query
    data = {"pathname": path, "asPath": address, "query": dict(parse_qsl(query)),
            "headers": {"origin": "https://portal.example"}}
    root.router_data = root._update_router_vars(data, {})


def _redirect_path(result) -> str:
    spec = result[-1] if isinstance(result, list) else result
    return dict((str(name), value._var_value) for name, value in spec.args)["path"]


def test_a_logged_out_visit_is_sent_to_the_login_page_with_its_address(session, demo):
    from rxportal.state.session import SessionState

    state = state_for(SessionState, session, None)
    _on_page(state, "/tickets/42")
    assert _redirect_path(call(state, "check_login")) == "/?next=%2Ftickets%2F42"
    _on_page(state, "/billing")
    assert _redirect_path(call(state, "check_login")) == "/"


def test_logging_in_leads_back_to_the_page_asked_for(session, demo):
    from rxportal.state.auth import AuthFormState

    state = state_for(AuthFormState, session, None)
    _on_page(state, "/?next=%2Fdetails")
    result = call(state, "login", {"username": "demo", "password": "correct-horse-demo"})
    assert _redirect_path(result) == "/details"
    # Already logged in, the login page itself leads there too.
    assert _redirect_path(call(state, "load_login")) == "/details"


def test_a_hostile_next_address_leads_home(session, demo):
    from rxportal.state.auth import AuthFormState

    state = state_for(AuthFormState, session, None)
    _on_page(state, "/?next=%2F%2Fevil.example%2Fbilling")
    result = call(state, "login", {"username": "demo", "password": "correct-horse-demo"})
    assert _redirect_path(result) == HOME_ROUTE


def test_after_logging_out_the_old_page_does_not_become_the_next_logins_destination(
        session, demo):
    """Reflex may still run the page's on_load after the logout (it hydrates the route the tab
    was on): that must not send the next customer of the tab back to that page."""
    import asyncio

    from rxportal.services import auth
    from rxportal.state.auth import AuthFormState

    state = state_for(AuthFormState, session, "demo")
    parent = state.parent_state
    _on_page(state, "/usage")
    asyncio.run(type(parent).event_handlers["logout"].fn(parent))
    assert _redirect_path(call(parent, "check_login")) == "/"
    # Logged in again, a session ended elsewhere (a password change in another tab) does lead
    # back to the page once logged in again.
    call(state, "login", {"username": "demo", "password": "correct-horse-demo"})
    auth.logout(session, parent.session_token)
    session.commit()
    assert _redirect_path(call(parent, "check_login")) == "/?next=%2Fusage"
