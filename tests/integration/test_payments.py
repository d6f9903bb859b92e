"""Payments against a real localstripe: saved cards, paying the amount due, one invoice or ahead,
declines, 3-D Secure, the double click, a gateway that stops mid-payment, autopay settings, and
one customer refused another's methods, invoices and payments."""
from __future__ import annotations

import threading
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from tests.billing_factory import card_from_number, collect_card, make_account
from tests.integration.localstripe_fixture import gateway_proxy, localstripe, stripe_env  # noqa: F401
from rxportal.models import Invoice, OutboxMail, Transaction
from rxportal.models.billing import Payment, PaymentMethod
from rxportal.services import ledger, payments
from rxportal.services import settings as isp_settings
from rxportal.services.payments import PaymentError


def _charges(localstripe_url: str) -> int:
    import json

    request = urllib.request.Request(f"{localstripe_url}/v1/charges?limit=100",
                                     headers={"Authorization": "Bearer sk_test_x"})
    data = json.loads(urllib.request.urlopen(request, timeout=5).read())
    return len([c for c in data["data"] if c["status"] == "succeeded"])


def _payments_ledger(session, account_id):
    return session.exec(select(Transaction).where(
        Transaction.account_id == account_id, Transaction.kind == "payment")).all()


def test_pay_the_amount_due_with_a_saved_card(session, stripe_env):
    account = make_account(session, invoices=(6500, 6500), paid={0: 2000})
    card = collect_card(session, account.id)
    assert (card.brand, card.last4, card.exp_month) == ("visa", "4242", 12)
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=card.id)
    assert outcome.status == "succeeded"
    assert outcome.amount_minor == 11000
    assert ledger.amount_due(session, account.id) == (0, 0)
    invoices = session.exec(select(Invoice).where(Invoice.account_id == account.id)).all()
    assert {i.status for i in invoices} == {"paid"}
    assert _charges(stripe_env.url) == 1
    receipt = session.exec(select(OutboxMail).where(OutboxMail.to_addr == account.email)).one()
    assert "110.00" in receipt.subject and "INV-" in receipt.text_body


def test_pay_one_invoice_leaves_the_others_open(session, stripe_env):
    account = make_account(session, invoices=(6500, 7000))
    card = collect_card(session, account.id)
    newer = session.exec(select(Invoice).where(Invoice.account_id == account.id)
                         .order_by(Invoice.id.desc())).first()
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="invoices", invoice_ids=[newer.id], method_id=card.id)
    assert (outcome.status, outcome.amount_minor) == ("succeeded", 7000)
    assert ledger.amount_due(session, account.id) == (6500, 1)
    session.refresh(newer)
    assert newer.status == "paid"


def test_pay_ahead_becomes_credit_up_to_the_isp_limit(session, stripe_env):
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    isp_settings.put(session, "billing_max_credit_minor", 10000)
    session.commit()
    with pytest.raises(PaymentError) as refused:
        payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                     purpose="other", amount_text="200.00", method_id=card.id)
    assert refused.value.code == "credit_limit"
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="other", amount_text="150,00", method_id=card.id)
    assert (outcome.status, outcome.amount_minor) == ("succeeded", 15000)
    assert ledger.amount_due(session, account.id) == (0, 0)
    assert ledger.total_balance(session, account.id) == -8500
    assert payments.unapplied_credit(session, account.id) == 8500
    assert ledger.next_cycle_amount(session, account.id) == 0  # 65.00 service, 85.00 credit


def test_declined_card_records_nothing_and_says_why(session, stripe_env):
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id, "pm_card_chargeCustomerFail")
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=card.id)
    assert outcome.status == "failed"
    assert "declined" in outcome.message
    assert "refusée" in payments.PaymentError("x", outcome.message).text("fr")
    assert _payments_ledger(session, account.id) == []
    assert ledger.amount_due(session, account.id) == (6500, 1)
    # The customer can pay with another card at once (nothing left in flight).
    good = collect_card(session, account.id)
    again = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                         purpose="amount_due", method_id=good.id)
    assert again.status == "succeeded"


def _authenticate(localstripe_url, intent_id, client_secret, success):
    data = urlencode({"client_secret": client_secret, "success": "true" if success else "false",
                      "key": "pk_test_x"}).encode()
    urllib.request.urlopen(f"{localstripe_url}/v1/payment_intents/{intent_id}/_authenticate",
                           data=data, timeout=5).read()


@pytest.mark.parametrize("passes", [True, False])
def test_card_needing_3d_secure(session, stripe_env, passes):
    account = make_account(session, invoices=(6500,))
    card = payments.register_method(session, account.id, card_from_number("4000002500003155"))
    session.commit()
    attempt = payments.new_attempt_id()
    outcome = payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                           method_id=card.id)
    assert outcome.status == "requires_action" and "_secret_" in outcome.client_secret
    assert _payments_ledger(session, account.id) == []
    # The browser runs confirmCardPayment(client_secret): localstripe's dialog.
    intent_id = outcome.client_secret.split("_secret_")[0]
    _authenticate(stripe_env.url, intent_id, outcome.client_secret, passes)
    final = payments.resume_attempt(session, account.id, attempt)
    if passes:
        assert final.status == "succeeded"
        assert ledger.amount_due(session, account.id) == (0, 0)
    else:
        assert final.status == "failed"
        assert "3-D Secure" in final.message
        assert ledger.amount_due(session, account.id) == (6500, 1)


def test_abandoned_3d_secure_is_cancelled_when_paying_again(session, stripe_env):
    account = make_account(session, invoices=(6500,))
    card3ds = payments.register_method(session, account.id, card_from_number("4000002500003155"))
    session.commit()
    first = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                         purpose="amount_due", method_id=card3ds.id)
    assert first.status == "requires_action"
    visa = collect_card(session, account.id)
    second = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                          purpose="amount_due", method_id=visa.id)
    assert second.status == "succeeded"
    assert session.get(Payment, first.payment_id).status == "failed"
    assert _charges(stripe_env.url) == 1


def test_double_click_same_attempt_charges_once(session, stripe_env):
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    attempt = payments.new_attempt_id()
    first = payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                         method_id=card.id)
    second = payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                          method_id=card.id)
    assert first.payment_id == second.payment_id and second.status == "succeeded"
    assert len(_payments_ledger(session, account.id)) == 1
    assert _charges(stripe_env.url) == 1
    # Another tab, another attempt, after the first one paid: nothing is due any more.
    with pytest.raises(PaymentError) as refused:
        payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                     purpose="amount_due", method_id=card.id)
    assert refused.value.code == "nothing_due"


def test_two_tabs_paying_at_the_same_moment_charge_once(session, stripe_env, data_dir):
    from rxportal import db

    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    results, barrier = [], threading.Barrier(2)

    def tab():
        with db.session_scope() as own:
            barrier.wait()
            try:
                results.append(payments.pay(own, account.id, attempt_id=payments.new_attempt_id(),
                                            purpose="amount_due", method_id=card.id).status)
            except PaymentError as error:
                results.append(error.code)

    threads = [threading.Thread(target=tab) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sorted(results) in (["busy", "succeeded"], ["nothing_due", "succeeded"])
    assert _charges(stripe_env.url) == 1
    assert len(_payments_ledger(session, account.id)) == 1


def test_gateway_down_before_the_charge_then_retry(session, gateway_proxy, localstripe):
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    gateway_proxy.down = True
    attempt = payments.new_attempt_id()
    with pytest.raises(PaymentError) as error:
        payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                     method_id=card.id)
    assert error.value.code == "unavailable"
    assert "not answering" in error.value.message
    assert _payments_ledger(session, account.id) == []
    gateway_proxy.down = False
    outcome = payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                           method_id=card.id)
    assert outcome.status == "succeeded"
    assert _charges(localstripe.url) == 1


def test_gateway_answer_lost_mid_payment_is_recorded_once_on_retry(session, gateway_proxy,
                                                                    localstripe):
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    gateway_proxy.lose_answer_to = "/confirm"  # the charge happens, its answer is lost
    attempt = payments.new_attempt_id()
    with pytest.raises(PaymentError) as error:
        payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                     method_id=card.id)
    assert error.value.code == "unavailable"
    assert gateway_proxy.lost and _payments_ledger(session, account.id) == []
    assert _charges(localstripe.url) == 1
    # A new attempt (the customer reloaded the page) first settles the lost one: nothing due.
    with pytest.raises(PaymentError) as refused:
        payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                     purpose="amount_due", method_id=card.id)
    assert refused.value.code == "nothing_due"
    assert len(_payments_ledger(session, account.id)) == 1
    assert payments.resume_attempt(session, account.id, attempt).status == "succeeded"
    assert _charges(localstripe.url) == 1


def test_save_and_remove_a_card(session, stripe_env):
    account = make_account(session)
    kept = collect_card(session, account.id)
    once = collect_card(session, account.id, save=False)
    assert [m.id for m in payments.list_methods(session, account.id)] == [kept.id]
    assert once.saved is False
    payments.remove_method(session, account.id, kept.id)
    session.commit()
    assert payments.list_methods(session, account.id) == []
    with pytest.raises(payments.NotFound):
        payments.get_method(session, account.id, kept.id)


def test_autopay_on_and_off_and_the_isp_lock(session, stripe_env):
    account = make_account(session)
    first = collect_card(session, account.id, autopay=True)
    second = collect_card(session, account.id)
    assert payments.autopay_method(session, account.id).id == first.id
    payments.set_autopay(session, account.id, second.id)
    assert payments.autopay_method(session, account.id).id == second.id
    payments.set_autopay(session, account.id, None)
    assert payments.autopay_method(session, account.id) is None
    payments.set_autopay(session, account.id, first.id)
    isp_settings.put(session, "billing_autopay_locked", True)
    isp_settings.put(session, "billing_keep_last_method", True)
    session.commit()
    with pytest.raises(PaymentError) as locked:
        payments.set_autopay(session, account.id, None)
    assert locked.value.code == "autopay_locked"
    with pytest.raises(PaymentError):
        payments.remove_method(session, account.id, first.id)
    payments.remove_method(session, account.id, second.id)
    with pytest.raises(PaymentError) as last:
        payments.set_autopay(session, account.id, first.id) or \
            payments.remove_method(session, account.id, first.id)
    assert last.value.code in ("last_method", "autopay_locked")


def test_another_customer_is_refused_every_id(session, stripe_env):
    demo = make_account(session, invoices=(6500,))
    demo2 = make_account(session, invoices=(4000,))
    card = collect_card(session, demo.id)
    card2 = collect_card(session, demo2.id)
    attempt = payments.new_attempt_id()
    paid = payments.pay(session, demo.id, attempt_id=attempt, purpose="amount_due",
                        method_id=card.id)
    demo_invoice = session.exec(select(Invoice).where(Invoice.account_id == demo.id)).first()
    for refused in (
        lambda: payments.get_method(session, demo2.id, card.id),
        lambda: payments.remove_method(session, demo2.id, card.id),
        lambda: payments.set_autopay(session, demo2.id, card.id),
        lambda: payments.pay(session, demo2.id, attempt_id=payments.new_attempt_id(),
                             purpose="amount_due", method_id=card.id),
        lambda: payments.pay(session, demo2.id, attempt_id=payments.new_attempt_id(),
                             purpose="invoices", invoice_ids=[demo_invoice.id],
                             method_id=card2.id),
        lambda: payments.pay(session, demo2.id, attempt_id=attempt, purpose="amount_due",
                             method_id=card2.id),
        lambda: payments.resume_attempt(session, demo2.id, attempt),
        lambda: payments.get_payment(session, demo2.id, paid.payment_id),
        lambda: payments.register_method(session, demo2.id, card.gateway_ref),
    ):
        with pytest.raises(payments.NotFound):
            refused()
    assert session.get(PaymentMethod, card.id).removed_at is None
    assert ledger.amount_due(session, demo2.id) == (4000, 1)


def test_gateway_stopped_and_started_again_the_retry_charges_once(session, stripe_env):
    """localstripe itself stopped (connection refused), then started on the same port with its
    data: the same attempt, retried, charges once."""
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    attempt = payments.new_attempt_id()
    stripe_env.stop()
    try:
        with pytest.raises(PaymentError) as error:
            payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                         method_id=card.id)
        assert error.value.code == "unavailable"
        assert _payments_ledger(session, account.id) == []
    finally:
        stripe_env.start()
    outcome = payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                           method_id=card.id)
    assert outcome.status == "succeeded"
    assert len(_payments_ledger(session, account.id)) == 1
    assert _charges(stripe_env.url) == 1
    assert [i["status"] for i in stripe_env.objects("payment_intents")] == ["succeeded"]
