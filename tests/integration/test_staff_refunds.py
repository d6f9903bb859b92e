"""The staff console's refund action (AdminAccountState.load_refund / refund_payment) with the
FAKE gateway: bad amounts and reasons refused with a message and nothing refunded, the double
click refunds once, another account's payment is "not found", support staff are refused, and
what is refunded shows in the customer's transactions and the audit log."""
from __future__ import annotations

import pytest
from sqlmodel import select

from rxportal.models import AuditLog, Transaction
from rxportal.models.billing import Refund
from rxportal.state import admin_customers
from tests.integration.test_staff_handlers import call, make_state, world  # noqa: F401
from tests.fake_gateway import fake  # noqa: F401
from tests.unit.test_refunds import paid


def account_page(world, monkeypatch, role="administrator"):
    state = make_state(admin_customers.AdminAccountState, world["tokens"][role], world,
                       monkeypatch)
    call(state, "load_account", (), world)
    return state


def submit(state, world, **form):
    call(state, "load_refund", (str(world["payment"]),), world)
    values = {**state.refund_form, **form}
    call(state, "refund_payment", ({k: values[k] for k in ("payment_id", "attempt", "amount",
                                                           "reason") if k in values},), world)
    return state


def refunds_recorded(session):
    session.expire_all()
    return session.exec(select(Transaction).where(Transaction.kind == "refund")).all()


def test_the_form_offers_the_full_refundable_amount_and_refunds_it(session, world, monkeypatch,
                                                                    fake):
    state = account_page(world, monkeypatch)
    assert [p["refundable"] for p in state.payments] == ["20.00"]
    submit(state, world, reason="Outage in November")
    assert state.error == "" and state.refund_errors == {}
    assert state.notice.startswith("The refund was made")
    assert state.refund_form == {}
    assert [r.amount_minor for r in refunds_recorded(session)] == [2000]
    assert state.payments[0]["refundable"] == "" and state.payments[0]["status"] == "Refunded"
    assert "Refund" in [t["kind"] for t in state.transactions]
    entry = session.exec(select(AuditLog).where(AuditLog.action == "payment.refund_requested")).one()
    assert (entry.actor_name, entry.detail["reason"]) == ("alice", "Outage in November")


@pytest.mark.parametrize("amount,message", [
    ("", "Enter an amount."), ("0", "Enter an amount greater than zero."),
    ("0.00", "Enter an amount greater than zero."), ("-5", "Enter an amount, like 500.00."),
    ("1.005", "Enter an amount, like 500.00."), ("abc", "Enter an amount, like 500.00."),
    ("20.01", "At most $20.00 of this payment can be refunded."),
    ("<script>alert(1)</script>", "Enter an amount, like 500.00."),
    ("1' OR '1'='1", "Enter an amount, like 500.00."), ("9" * 40, "Enter an amount, like 500.00."),
])
def test_bad_amounts_are_refused_with_a_message(session, world, monkeypatch, fake, amount,
                                                message):
    state = submit(account_page(world, monkeypatch), world, amount=amount, reason="Outage")
    assert state.refund_errors == {"amount": message} and state.tx_errors == {}
    assert refunds_recorded(session) == [] and fake.refunds == {}
    assert state.refund_form["payment_id"] == str(world["payment"])  # the form stays open


@pytest.mark.parametrize("reason,message", [
    ("", "Enter the reason for this refund."), ("x" * 201, "Use one line of at most 200 characters."),
    ("line\nbreak", "Use one line of at most 200 characters."),
])
def test_bad_reasons_are_refused(session, world, monkeypatch, fake, reason, message):
    state = submit(account_page(world, monkeypatch), world, amount="5", reason=reason)
    assert state.refund_errors == {"reason": message}
    assert refunds_recorded(session) == []


def test_hostile_reason_is_stored_as_plain_text(session, world, monkeypatch, fake):
    hostile = "<img src=x onerror=alert(1)>'; DROP TABLE payment; --"
    submit(account_page(world, monkeypatch), world, amount="5", reason=hostile)
    assert session.exec(select(Refund)).one().reason == hostile


def test_double_click_refunds_once(session, world, monkeypatch, fake):
    state = account_page(world, monkeypatch)
    call(state, "load_refund", (str(world["payment"]),), world)
    form = {**state.refund_form, "amount": "5", "reason": "Twice"}
    form.pop("paid"), form.pop("when")
    call(state, "refund_payment", (form,), world)
    call(state, "refund_payment", (form,), world)  # the same click again
    second = account_page(world, monkeypatch)  # another tab, the same form posted
    call(second, "refund_payment", (form,), world)
    assert len(fake.refunds) == 1 and [r.amount_minor for r in refunds_recorded(session)] == [500]


def test_another_accounts_payment_is_not_found(session, world, monkeypatch, fake):
    from rxportal.models import Account

    other = session.get(Account, world["other"])
    foreign = paid(session, amount_text="30.00", account=other)[1]
    state = account_page(world, monkeypatch)
    call(state, "load_refund", (str(foreign.id),), world)
    assert state.refund_form == {}
    call(state, "refund_payment", ({"payment_id": str(foreign.id), "attempt": "a" * 20,
                                    "amount": "5", "reason": "x"},), world)
    assert state.error == "Not found."
    assert refunds_recorded(session) == [] and fake.refunds == {}


def test_support_staff_see_payments_but_cannot_refund(session, world, monkeypatch, fake):
    state = account_page(world, monkeypatch, role="support")
    assert len(state.payments) == 1
    submit(state, world, amount="5", reason="Please")
    assert refunds_recorded(session) == [] and fake.refunds == {}


def test_gateway_down_says_so_and_the_same_form_then_refunds_once(session, world, monkeypatch,
                                                                   fake):
    state = account_page(world, monkeypatch)
    call(state, "load_refund", (str(world["payment"]),), world)
    form = {k: state.refund_form[k] for k in ("payment_id", "attempt")}
    form.update(amount="5", reason="Outage")
    fake.lose_next_refund_answer = True
    call(state, "refund_payment", (form,), world)
    assert "not answering" in state.error
    state._last_submissions = {}  # staff press the button again after a while
    call(state, "refund_payment", (form,), world)
    assert state.notice.startswith("The refund was made")
    assert len(fake.refunds) == 1 and [r.amount_minor for r in refunds_recorded(session)] == [500]
