"""Refunds with the FAKE gateway (tests/fake_gateway.py) for what localstripe cannot show:
idempotency keys honoured, an answer lost after the refund was made, the gateway down, and the
webhook for the same refund arriving before or after the portal records it."""
from __future__ import annotations

import pytest
from sqlmodel import select

from rxportal.models import AuditLog, Transaction
from rxportal.models.billing import PaymentMethod, Refund
from rxportal.services import ledger, payments, refunds
from rxportal.services.gateway import GatewayEvent
from rxportal.services.refunds import RefundError
from tests.billing_factory import make_account
from tests.fake_gateway import fake  # noqa: F401

ACTOR = {"actor_type": "staff", "actor_id": 7, "actor_name": "alice", "ip": "127.0.0.1"}


def paid(session, invoices=(6500,), amount_text="", account=None):
    """An account (a new one unless given) that paid with a card: (account, payment)."""
    account = account or make_account(session, invoices=invoices)
    method = PaymentMethod(account_id=account.id, gateway_ref=f"pm_fake_card_{account.id}", kind="card",
                           brand="visa", last4="4242")
    session.add(method)
    session.commit()
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="other" if amount_text else "amount_due",
                           amount_text=amount_text, method_id=method.id)
    assert outcome.status == "succeeded"
    return account, payments.get_payment(session, account.id, outcome.payment_id)


def do_refund(session, account, payment, amount, attempt=None, reason="Service outage"):
    return refunds.refund(session, account.id, payment.id, attempt_id=attempt or
                          payments.new_attempt_id(), amount_minor=amount, reason=reason,
                          actor=ACTOR)


def refund_rows(session, account):
    return session.exec(select(Transaction).where(Transaction.account_id == account.id,
                                                  Transaction.kind == "refund")).all()


def test_full_refund_reopens_the_invoice_and_is_audited(session, fake):
    account, payment = paid(session)
    row = do_refund(session, account, payment, 6500)
    assert (row.status, row.number, row.idempotency_key) == ("succeeded", 1,
                                                             f"refund-{payment.id}-1")
    assert fake.refunded(payment.gateway_ref) == 6500
    assert [r.amount_minor for r in refund_rows(session, account)] == [6500]
    assert ledger.amount_due(session, account.id) == (6500, 1)
    session.refresh(payment)
    assert (payment.status, payment.refunded_minor) == ("refunded", 6500)
    assert refunds.refundable(session, payment) == 0
    entry = session.exec(select(AuditLog).where(
        AuditLog.action == "payment.refund_requested")).one()
    assert (entry.actor_name, entry.detail["amount_minor"], entry.detail["reason"]) == (
        "alice", 6500, "Service outage")


def test_partial_refunds_are_numbered_and_never_exceed_what_was_paid(session, fake):
    account, payment = paid(session)
    first = do_refund(session, account, payment, 1000)
    second = do_refund(session, account, payment, 2500)
    assert (first.number, second.number) == (1, 2)
    assert second.idempotency_key == f"refund-{payment.id}-2"
    session.refresh(payment)
    assert refunds.refundable(session, payment) == 3000
    with pytest.raises(RefundError) as refused:
        do_refund(session, account, payment, 3001)
    assert (refused.value.code, refused.value.values) == ("too_much", {"amount": 3000})
    do_refund(session, account, payment, 3000)
    with pytest.raises(RefundError) as nothing:
        do_refund(session, account, payment, 1)
    assert nothing.value.code == "nothing"
    assert fake.refunded(payment.gateway_ref) == 6500
    assert sum(r.amount_minor for r in refund_rows(session, account)) == 6500


def test_credit_left_by_a_payment_is_refunded_before_its_invoices(session, fake):
    account, payment = paid(session, amount_text="100.00")  # 65.00 invoice + 35.00 credit
    do_refund(session, account, payment, 3500)
    assert payments.unapplied_credit(session, account.id) == 0
    assert ledger.amount_due(session, account.id) == (0, 0)


@pytest.mark.parametrize("amount,code", [(0, "amount_zero"), (-100, "amount_zero"),
                                         (6501, "too_much")])
def test_bad_amounts_are_refused_and_nothing_is_refunded(session, fake, amount, code):
    account, payment = paid(session)
    with pytest.raises(RefundError) as refused:
        do_refund(session, account, payment, amount)
    assert refused.value.code == code
    assert fake.refunds == {} and refund_rows(session, account) == []
    assert session.exec(select(Refund)).all() == []


@pytest.mark.parametrize("reason,code", [("", "reason_empty"), ("   ", "reason_empty"),
                                         ("x" * 201, "reason_format"),
                                         ("two\nlines", "reason_format")])
def test_bad_reasons_are_refused(session, fake, reason, code):
    account, payment = paid(session)
    with pytest.raises(RefundError) as refused:
        do_refund(session, account, payment, 100, reason=reason)
    assert refused.value.code == code
    assert fake.refunds == {}


def test_hostile_reason_is_kept_as_text(session, fake):
    account, payment = paid(session)
    hostile = "<script>alert(1)</script>'; DROP TABLE refund; --"
    row = do_refund(session, account, payment, 100, reason=hostile)
    assert session.get(Refund, row.id).reason == hostile
    assert fake.refunds[row.gateway_ref]["metadata"]["reason"] == hostile


def test_the_same_attempt_twice_refunds_once(session, fake):
    account, payment = paid(session)
    attempt = payments.new_attempt_id()
    first = do_refund(session, account, payment, 1000, attempt)
    again = do_refund(session, account, payment, 1000, attempt)
    assert first.id == again.id
    assert len(fake.refunds) == 1 and len(refund_rows(session, account)) == 1


def test_another_accounts_payment_is_not_found(session, fake):
    account, payment = paid(session)
    other = make_account(session, invoices=())
    with pytest.raises(payments.NotFound):
        do_refund(session, other, payment, 100)
    with pytest.raises(payments.NotFound):
        refunds.refund(session, account.id, 999_999, attempt_id="a" * 10, amount_minor=100,
                       reason="x", actor=ACTOR)
    attempt = payments.new_attempt_id()
    do_refund(session, account, payment, 100, attempt)
    with pytest.raises(payments.NotFound):  # nor can its attempt id be replayed elsewhere
        do_refund(session, other, payment, 100, attempt)
    assert len(fake.refunds) == 1


def test_a_failed_payment_cannot_be_refunded(session, fake):
    account, payment = paid(session)
    payment.status = "failed"
    session.add(payment)
    session.commit()
    with pytest.raises(RefundError) as refused:
        do_refund(session, account, payment, 100)
    assert refused.value.code == "nothing"


def test_answer_lost_after_the_refund_was_made_then_retried_refunds_once(session, fake):
    account, payment = paid(session)
    fake.lose_next_refund_answer = True
    attempt = payments.new_attempt_id()
    with pytest.raises(RefundError) as lost:
        do_refund(session, account, payment, 2000, attempt)
    assert lost.value.code == "unavailable"
    assert refund_rows(session, account) == []
    session.refresh(payment)
    assert refunds.refundable(session, payment) == 4500  # what is in flight counts
    row = do_refund(session, account, payment, 2000, attempt)
    assert row.status == "succeeded"
    assert len(fake.refunds) == 1 and [r.amount_minor for r in refund_rows(session, account)] == [2000]


def test_gateway_down_then_a_new_attempt_first_finishes_the_interrupted_one(session, fake):
    account, payment = paid(session)
    fake.down = True
    with pytest.raises(RefundError):
        do_refund(session, account, payment, 2000)
    fake.down = False
    do_refund(session, account, payment, 500)  # a new form: the interrupted 20.00 is made first
    rows = session.exec(select(Refund).order_by(Refund.number)).all()
    assert [(r.number, r.amount_minor, r.status) for r in rows] == [
        (1, 2000, "succeeded"), (2, 500, "succeeded")]
    assert fake.refunded(payment.gateway_ref) == 2500
    assert sum(r.amount_minor for r in refund_rows(session, account)) == 2500


def test_gateway_refusal_records_nothing_and_frees_the_payment(session, fake):
    account, payment = paid(session)
    fake.intents[payment.gateway_ref]["amount"] = 100  # the gateway knows less than we do
    with pytest.raises(RefundError) as refused:
        do_refund(session, account, payment, 2000)
    assert refused.value.code == "refused"
    assert refund_rows(session, account) == []
    assert session.exec(select(Refund)).one().status == "failed"
    assert do_refund(session, account, payment, 100).status == "succeeded"


def refunded_event(payment, cumulative, event_id):
    return GatewayEvent(id=event_id, type="charge.refunded", object_ref=payment.gateway_ref,
                        created=1, amount_minor=cumulative)


def test_the_webhook_of_a_recorded_refund_changes_nothing(session, fake):
    account, payment = paid(session)
    do_refund(session, account, payment, 1500)
    assert payments.handle_event(session, refunded_event(payment, 1500, "evt_r1")) == "already"
    assert [r.amount_minor for r in refund_rows(session, account)] == [1500]


def test_the_webhook_arriving_while_the_answer_was_lost_records_it_once(session, fake):
    account, payment = paid(session)
    fake.lose_next_refund_answer = True
    attempt = payments.new_attempt_id()
    with pytest.raises(RefundError):
        do_refund(session, account, payment, 1500, attempt)
    assert payments.handle_event(session, refunded_event(payment, 1500, "evt_r2")) == "refund"
    assert session.exec(select(Refund)).one().applied_at is not None
    row = do_refund(session, account, payment, 1500, attempt)  # staff try again
    assert row.status == "succeeded"
    assert len(fake.refunds) == 1 and [r.amount_minor for r in refund_rows(session, account)] == [1500]


def test_a_refund_made_outside_the_portal_is_recorded_from_the_webhook(session, fake):
    account, payment = paid(session)
    do_refund(session, account, payment, 1000)
    assert payments.handle_event(session, refunded_event(payment, 3000, "evt_r3")) == "refund"
    assert sorted(r.amount_minor for r in refund_rows(session, account)) == [1000, 2000]
    session.refresh(payment)
    assert refunds.refundable(session, payment) == 3500


def test_an_interrupted_refund_the_gateway_then_refuses_does_not_block_the_next(session, fake):
    account, payment = paid(session)
    fake.down = True
    with pytest.raises(RefundError):
        do_refund(session, account, payment, 2000)
    fake.down = False
    fake.intents[payment.gateway_ref]["amount"] = 1000  # the gateway now refuses 20.00
    assert do_refund(session, account, payment, 500).status == "succeeded"
    statuses = [r.status for r in session.exec(select(Refund).order_by(Refund.number))]
    assert statuses == ["failed", "succeeded"]
    assert [r.amount_minor for r in refund_rows(session, account)] == [500]
