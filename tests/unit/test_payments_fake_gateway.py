"""What localstripe cannot show, with a FAKE gateway (named as such) that behaves like real
Stripe: idempotency keys honoured (the same key returns the same PaymentIntent), an answer lost
after the PaymentIntent was created, and a bank debit (SEPA) that stays "processing" until a
webhook says it succeeded or failed."""
from __future__ import annotations

import pytest

from rxportal.models.billing import PaymentMethod
from rxportal.services import ledger, payments
from rxportal.services.gateway import GatewayEvent
from tests.billing_factory import make_account
from tests.fake_gateway import fake  # noqa: F401


def saved(session, account, kind="card"):
    method = PaymentMethod(account_id=account.id, gateway_ref=f"pm_fake_{kind}", kind=kind,
                           brand="visa", last4="4242")
    session.add(method)
    session.commit()
    return method


def test_answer_lost_after_the_intent_was_created_then_retried_charges_once(session, fake):
    account = make_account(session, invoices=(6500,))
    method = saved(session, account)
    fake.lose_next_create_answer = True
    attempt = payments.new_attempt_id()
    with pytest.raises(payments.PaymentError) as error:
        payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                     method_id=method.id)
    assert error.value.code == "unavailable"
    assert ledger.amount_due(session, account.id) == (6500, 1)
    outcome = payments.pay(session, account.id, attempt_id=attempt, purpose="amount_due",
                           method_id=method.id)
    assert outcome.status == "succeeded"
    assert len(fake.intents) == 1 and fake.charges == 1  # the same key found the same intent
    assert ledger.amount_due(session, account.id) == (0, 0)


def test_bank_debit_stays_processing_until_the_webhook(session, fake):
    account = make_account(session, invoices=(6500,))
    method = saved(session, account, "sepa_debit")
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=method.id)
    assert outcome.status == "processing"
    assert ledger.amount_due(session, account.id) == (6500, 1)
    # While the debit is pending, no second payment can start (it would pay twice).
    with pytest.raises(payments.PaymentError) as busy:
        payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                     purpose="amount_due", method_id=method.id)
    assert busy.value.code == "busy"
    ref = next(iter(fake.intents))
    fake.intents[ref]["status"] = "succeeded"
    result = payments.handle_event(session, GatewayEvent(
        id="evt_sepa", type="payment_intent.succeeded", object_ref=ref, created=1))
    assert result == "applied"
    assert ledger.amount_due(session, account.id) == (0, 0)


def test_bank_debit_failing_later_leaves_the_invoice_open(session, fake):
    account = make_account(session, invoices=(6500,))
    method = saved(session, account, "sepa_debit")
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=method.id)
    ref = next(iter(fake.intents))
    assert payments.handle_event(session, GatewayEvent(
        id="evt_fail", type="payment_intent.payment_failed", object_ref=ref, created=1)) == \
        "failed"
    assert payments.get_payment(session, account.id, outcome.payment_id).status == "failed"
    assert ledger.amount_due(session, account.id) == (6500, 1)


def test_stripe_keys_from_the_staff_settings_win_over_the_environment(session, monkeypatch):
    from rxportal.services import settings as isp_settings
    from rxportal.services.gateway import stripe_settings

    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setenv("RXPORTAL_LOCAL_STRIPE", "http://127.0.0.1:8499")
    local = stripe_settings()
    assert (local.local, local.api_base) == (True, "http://127.0.0.1:8499")
    assert local.js_url == "http://127.0.0.1:8499/js.stripe.com/v3/"
    isp_settings.put(session, "stripe_secret_key", "sk_live_abc")
    isp_settings.put(session, "stripe_publishable_key", "pk_live_abc")
    session.commit()
    real = stripe_settings()
    assert (real.local, real.api_base, real.publishable_key, real.js_url) == (
        False, "https://api.stripe.com", "pk_live_abc", "https://js.stripe.com/v3/")
    assert isp_settings.masked(session)["stripe_secret_key"] == "••••_abc"
