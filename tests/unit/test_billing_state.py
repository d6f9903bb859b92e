"""The billing states' handlers, called as the websocket would call them: each re-checks the
session, and demo2 is refused every one of demo's invoices, methods and payments with "Not
found." (exactly as for an id that does not exist), nothing changed."""
from __future__ import annotations

import inspect

import pytest
from sqlmodel import select

from rxportal.models import Invoice
from rxportal.models.billing import Payment, PaymentMethod
from rxportal.services import auth, ledger


@pytest.fixture()
def demo(session, monkeypatch):
    from rxportal.demo import load_all
    from tests.conftest import free_port

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")  # no gateway call
    ctx = load_all(session)
    session.commit()
    return ctx


def state_for(state_class, session, username):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(state_class.get_full_name().split("."))
    if username:
        state.session_token = auth.login(session, username, "correct-horse-demo").token
        session.commit()
    return state


def call(state, name, *args):
    result = type(state).event_handlers[name].fn(state, *args)
    if inspect.isgenerator(result):
        result = list(result)
    return result


def demo_ids(session, ctx):
    invoice = session.exec(select(Invoice).where(Invoice.account_id == ctx["demo"].id)).first()
    method = session.exec(select(PaymentMethod).where(
        PaymentMethod.account_id == ctx["demo"].id)).first()
    return invoice, method


def test_demo2_cannot_download_demos_invoice(session, demo):
    from rxportal.state.billing import BillingState

    invoice, _ = demo_ids(session, demo)
    state = state_for(BillingState, session, "demo2")
    assert call(state, "download_invoice", str(invoice.id)) is None
    assert state.billing_error == "Not found."
    assert call(state, "download_invoice", "999999") is None and state.billing_error == "Not found."
    assert call(state, "download_invoice", "<script>") is None
    own = session.exec(select(Invoice).where(Invoice.account_id == demo["demo2"].id)).first()
    assert "download" in str(call(state, "download_invoice", str(own.id))).lower()


def test_demo_downloads_own_and_a_logged_out_visitor_gets_nothing(session, demo):
    from rxportal.state.billing import BillingState

    invoice, _ = demo_ids(session, demo)
    assert "download" in str(call(state_for(BillingState, session, "demo"), "download_invoice",
                                  str(invoice.id))).lower()
    anonymous = state_for(BillingState, session, None)
    assert "redirect" in str(call(anonymous, "download_invoice", str(invoice.id))).lower()
    call(anonymous, "load_billing")
    assert anonymous.invoices == [] and anonymous.amount_due == ""


def test_billing_page_state_shows_only_the_own_account(session, demo):
    from rxportal.state.billing import BillingState

    state = state_for(BillingState, session, "demo2")
    call(state, "load_billing")
    assert state.invoices and all(row["number"].startswith("INV-100002") for row in state.invoices)
    assert [c["last4"] for c in state.cards] == ["4444"] and state.banks == []


def test_demo2_cannot_remove_or_use_demos_method_for_autopay(session, demo):
    from rxportal.state.billing import PayState

    _, method = demo_ids(session, demo)
    state = state_for(PayState, session, "demo2")
    call(state, "remove_method", str(method.id))
    assert state.methods_error == "Not found."
    call(state, "set_autopay", str(method.id))
    assert state.methods_error == "Not found."
    session.expire_all()
    kept = session.get(PaymentMethod, method.id)
    assert kept.removed_at is None and kept.autopay is True


def test_demo2_cannot_pay_demos_invoice_or_with_demos_method(session, demo):
    from rxportal.state.billing import PayState

    invoice, method = demo_ids(session, demo)
    state = state_for(PayState, session, "demo2")
    state.attempt_id = "attempt-demo2-1"
    call(state, "submit_payment", {"purpose": "invoices", f"invoice_{invoice.id}": "on",
                                   "attempt": state.attempt_id})
    assert state.invoices_error == "Not found." and state.busy is False
    state.method_choice = str(method.id)
    call(state, "submit_payment", {"purpose": "amount_due", "attempt": state.attempt_id})
    assert state.pay_error == "Not found." and state.busy is False
    assert session.exec(select(Payment)).all() == []
    assert ledger.amount_due(session, demo["demo"].id)[0] == 11000


def test_demo2_cannot_claim_demos_card_or_payment(session, demo):
    from rxportal.state.billing import PayState

    _, method = demo_ids(session, demo)
    state = state_for(PayState, session, "demo2")
    call(state, "card_collected", {"payment_method": method.gateway_ref})
    assert state.pay_error == "Not found."
    call(state, "method_collected", {"payment_method": method.gateway_ref})
    assert state.methods_error == "Not found."
    session.add(Payment(account_id=demo["demo"].id, attempt_id="demo-attempt",
                        idempotency_key="pay-demo-attempt", purpose="amount_due",
                        amount_minor=100, currency="CAD", status="failed"))
    session.commit()
    state.attempt_id = "demo-attempt"
    call(state, "authenticated", {"status": "succeeded"})
    assert state.pay_error == "Not found."
    assert session.exec(select(PaymentMethod).where(
        PaymentMethod.account_id == demo["demo2"].id)).all()[0].last4 == "4444"


def test_a_second_submit_of_a_paid_form_is_ignored(session, demo):
    from rxportal.state.billing import PayState

    state = state_for(PayState, session, "demo2")
    state.attempt_id = "current"
    assert call(state, "submit_payment", {"purpose": "amount_due", "attempt": "older"}) == []
    assert state.pay_error == "" and state.busy is False


def test_loading_the_page_again_sends_only_what_changed(session, demo):
    """A var assigned is sent again even with the same value: coming back to the billing page
    (or the tickets page) with nothing new must change no var, and a new payment only the
    figures it moves."""
    from datetime import datetime, timezone

    from rxportal.models import Transaction
    from rxportal.state.billing import BillingState
    from rxportal.state.tickets import TicketsState

    billing = state_for(BillingState, session, "demo")
    call(billing, "load_billing")
    assert billing.loaded and billing.amount_due == "$110.00" and billing.invoices
    parent = billing.parent_state
    billing._clean(), parent._clean()
    call(billing, "load_billing")
    assert billing.dirty_vars == set() and parent.dirty_vars == set()

    session.add(Transaction(account_id=demo["demo"].id, kind="credit", description="Goodwill",
                            amount_minor=-1000, currency="USD",
                            occurred_at=datetime.now(timezone.utc)))
    session.commit()
    call(billing, "load_billing")
    # A credit not set against an invoice: the balance moves, what the invoices ask does not.
    assert {"total_balance", "transactions"} <= billing.dirty_vars
    assert not {"amount_due", "invoices", "cards"} & billing.dirty_vars
    # The tab's own bookkeeping (backend vars) changed, nothing the browser is sent.
    assert billing.total_balance == "$100.00" and {"_read_at", "_version_now"} >= parent.dirty_vars

    tickets = billing.parent_state.get_substate([TicketsState.get_name()])
    call(tickets, "load_tickets")
    assert tickets.rows
    tickets._clean()
    call(tickets, "load_tickets")
    assert tickets.dirty_vars == {"busy"}  # always sent (a failed event's busy may linger)
