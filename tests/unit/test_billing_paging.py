"""The billing page's previous / next buttons (BillingState.change_page): one table is read
again, for the logged-in customer's own account only, and bad input changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select

from rxportal import db
from rxportal.models.core import Transaction
from tests.unit.test_billing_state import call, demo, state_for  # noqa: F401 - demo: fixture


def _add_adjustments(session, account, count: int) -> None:
    for i in range(count):
        session.add(Transaction(account_id=account.id, kind="adjustment",
                                description=f"Adjustment {i}", amount_minor=-(i + 1),
                                currency=account.currency))
    session.commit()


@pytest.fixture()
def statements():
    seen: list[str] = []

    def count(_conn, _cursor, text, *_):
        seen.append(text)

    event.listen(db.get_engine(), "before_cursor_execute", count)
    yield seen
    event.remove(db.get_engine(), "before_cursor_execute", count)


def _loaded(session, username):
    from rxportal.state.billing import BillingState

    state = state_for(BillingState, session, username)
    call(state, "load_billing")
    return state


def test_next_and_previous_pages_of_transactions(session, demo, statements):
    _add_adjustments(session, demo["demo"], 25)
    state = _loaded(session, "demo")
    first = state.transactions
    assert state.tx_pages >= 3 and state.tx_page == 0 and len(first) == 10
    invoices = state.invoices
    statements.clear()

    call(state, "change_page", "transactions", 1)
    assert state.tx_page == 1 and state.tx_page_label == f"2 / {state.tx_pages}"
    assert state.transactions != first and len(state.transactions) == 10
    assert state.invoices == invoices
    # The session, the account, the settings, the count and the page: not the whole page again.
    assert len(statements) <= 5, statements

    for _ in range(state.tx_pages + 3):  # past the last page: stays on the last
        call(state, "change_page", "transactions", 1)
    assert state.tx_page == state.tx_pages - 1
    for _ in range(state.tx_pages + 3):
        call(state, "change_page", "transactions", -1)
    assert state.tx_page == 0 and state.transactions == first


def test_another_customer_pages_only_through_the_own_account(session, demo):
    _add_adjustments(session, demo["demo"], 25)
    other = _loaded(session, "demo2")
    pages = other.tx_pages
    call(other, "change_page", "transactions", 1)
    call(other, "change_page", "invoices", 1)
    assert other.tx_pages == pages  # demo's 25 new rows are not counted for demo2
    assert all("Adjustment" not in row["type"] for row in other.transactions)
    assert all(row["number"].startswith("INV-100002") for row in other.invoices)


@pytest.mark.parametrize("table, step, moves", [
    ("transactions", "x", False), ("transactions", None, False),
    ("transactions", "<script>alert(1)</script>", False),
    ("transactions", "1; DROP TABLE transaction", False),
    ("transactions", "9" * 500, True),  # a number: one page on, as the button does
    ("'; DROP TABLE invoice; --", 1, True), ("", -1, True)])  # the other table
def test_bad_input_changes_nothing_or_stays_within_the_pages(session, demo, table, step, moves):
    state = _loaded(session, "demo")
    before = (state.tx_page, state.inv_page, list(state.transactions), list(state.invoices))
    assert call(state, "change_page", table, step) is None
    assert 0 <= state.tx_page < state.tx_pages and 0 <= state.inv_page < state.inv_pages
    if not moves:
        assert (state.tx_page, state.inv_page, state.transactions, state.invoices) == before
    assert session.exec(select(Transaction)).first() is not None  # the tables are all there


def test_a_logged_out_tab_goes_to_the_login_page(session, demo):
    from rxportal.services import auth

    state = _loaded(session, "demo")
    auth.logout(session, state.session_token)
    session.commit()
    result = call(state, "change_page", "transactions", 1)
    assert "redirect" in str(result).lower()


@pytest.mark.parametrize("token", ["", "not-a-session", "<script>", "x" * 500])
def test_the_billing_reads_refuse_a_token_that_is_not_a_live_session(session, demo, token):
    from rxportal.services import billing

    assert billing.load_for_session(token, "en") == (None, None)
    assert billing.table_for_session(token, "en", "transactions", 1) == (None, None)


def test_the_billing_reads_of_a_live_session_are_its_own_accounts(session, demo):
    from rxportal.services import auth, billing

    token = auth.login(session, "demo2", "correct-horse-demo").token
    session.commit()
    user, view = billing.load_for_session(token, "en")
    assert user.username == "demo2" and view["account_name"] == demo["demo2"].name
    _, table = billing.table_for_session(token, "en", "invoices", 0)
    assert table["invoices"] == view["invoices"]
