"""The Stripe webhook route: signatures verified, each event applied once, out-of-order delivery
handled (a refund before the success, a failure after it)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from rxportal.api import billing as billing_api
from rxportal.models import Invoice, Transaction
from rxportal.models.billing import Payment, PaymentMethod, WebhookEvent
from rxportal.services import ledger
from tests.billing_factory import make_account

SECRET = "whsec_test_rxportal"


@pytest.fixture()
def client(session, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # never called by webhooks
    return TestClient(Starlette(routes=billing_api.routes))


def signed(payload: bytes, secret: str = SECRET) -> str:
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={signature.hexdigest()}"


def event(event_id: str, kind: str, obj: dict) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "created": 1,
                       "api_version": "2024-06-20", "data": {"object": obj}}).encode()


def intent(ref: str, amount: int) -> dict:
    return {"id": ref, "object": "payment_intent", "amount": amount, "status": "succeeded"}


def charge(ref: str, amount: int, refunded: int) -> dict:
    return {"id": "ch_" + ref, "object": "charge", "payment_intent": ref, "amount": amount,
            "amount_refunded": refunded}


def post(client, body: bytes, signature: str | None = None):
    return client.post(billing_api.WEBHOOK_PATH, content=body,
                       headers={"Stripe-Signature": signature or signed(body)})


def waiting_payment(session, account, amount=6500, status="requires_action") -> Payment:
    method = PaymentMethod(account_id=account.id, gateway_ref="pm_test", kind="card",
                           brand="visa", last4="4242")
    session.add(method)
    session.flush()
    payment = Payment(account_id=account.id, attempt_id=f"a-{account.id}",
                      idempotency_key=f"pay-a-{account.id}", purpose="amount_due",
                      amount_minor=amount, currency="CAD", method_id=method.id,
                      gateway_ref=f"pi_{account.id}_test", status=status,
                      inflight_account_id=account.id)
    session.add(payment)
    session.commit()
    return payment


def ledger_payments(session, account_id):
    return session.exec(select(Transaction).where(Transaction.account_id == account_id,
                                                  Transaction.kind == "payment")).all()


def test_success_delivered_twice_is_applied_once(session, client):
    account = make_account(session, invoices=(6500,))
    payment = waiting_payment(session, account)
    body = event("evt_1", "payment_intent.succeeded", intent(payment.gateway_ref, 6500))
    first, second = post(client, body), post(client, body)
    assert (first.status_code, first.json()["result"]) == (200, "applied")
    assert (second.status_code, second.json()["result"]) == (200, "duplicate")
    assert len(ledger_payments(session, account.id)) == 1
    assert ledger.amount_due(session, account.id) == (0, 0)
    session.refresh(payment)
    assert payment.status == "succeeded" and payment.inflight_account_id is None


def test_a_failure_after_the_success_changes_nothing(session, client):
    account = make_account(session, invoices=(6500,))
    payment = waiting_payment(session, account)
    post(client, event("evt_ok", "payment_intent.succeeded", intent(payment.gateway_ref, 6500)))
    late = post(client, event("evt_fail", "payment_intent.payment_failed",
                              intent(payment.gateway_ref, 6500)))
    assert late.json()["result"] == "stale"
    session.refresh(payment)
    assert payment.status == "succeeded"
    assert ledger.amount_due(session, account.id) == (0, 0)


def test_refund_before_the_success_then_the_success(session, client):
    account = make_account(session, invoices=(6500, 3000))
    payment = waiting_payment(session, account, amount=9500)
    refund = post(client, event("evt_refund", "charge.refunded",
                                charge(payment.gateway_ref, 9500, 3000)))
    assert refund.json()["result"] == "refund"
    success = post(client, event("evt_ok", "payment_intent.succeeded",
                                 intent(payment.gateway_ref, 9500)))
    assert success.json()["result"] == "already"
    # Paid 95.00 then 30.00 given back: the newer invoice is open again.
    assert ledger.amount_due(session, account.id) == (3000, 1)
    assert ledger.total_balance(session, account.id) == 3000
    newer = session.exec(select(Invoice).where(Invoice.account_id == account.id)
                         .order_by(Invoice.id.desc())).first()
    assert newer.status == "open"
    # The same refund, reported again with the cumulative amount, changes nothing.
    again = post(client, event("evt_refund_2", "charge.refunded",
                               charge(payment.gateway_ref, 9500, 3000)))
    assert again.json()["result"] == "already"
    assert ledger.total_balance(session, account.id) == 3000


def test_failure_then_dispute_of_an_unknown_payment_is_ignored(session, client):
    account = make_account(session, invoices=(6500,))
    payment = waiting_payment(session, account)
    failed = post(client, event("evt_f", "payment_intent.payment_failed",
                                intent(payment.gateway_ref, 6500)))
    assert failed.json()["result"] == "failed"
    session.refresh(payment)
    assert payment.status == "failed" and payment.inflight_account_id is None
    unknown = post(client, event("evt_u", "payment_intent.succeeded", intent("pi_unknown", 100)))
    assert unknown.json()["result"] == "ignored"
    assert ledger.amount_due(session, account.id) == (6500, 1)


def test_dispute_takes_the_payment_back(session, client):
    account = make_account(session, invoices=(6500,))
    payment = waiting_payment(session, account)
    post(client, event("evt_ok", "payment_intent.succeeded", intent(payment.gateway_ref, 6500)))
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": payment.gateway_ref,
               "amount": 6500}
    assert post(client, event("evt_d", "charge.dispute.created", dispute)).json()["result"] == \
        "dispute"
    assert ledger.amount_due(session, account.id) == (6500, 1)
    session.refresh(payment)
    assert payment.status == "disputed"


@pytest.mark.parametrize("signature", ["", "t=1,v1=00", "garbage", None])
def test_a_bad_signature_is_refused_and_changes_nothing(session, client, signature):
    account = make_account(session, invoices=(6500,))
    payment = waiting_payment(session, account)
    body = event("evt_bad", "payment_intent.succeeded", intent(payment.gateway_ref, 6500))
    header = signed(body, "whsec_wrong") if signature is None else signature
    response = client.post(billing_api.WEBHOOK_PATH, content=body,
                           headers={"Stripe-Signature": header} if header else {})
    assert response.status_code == 400
    assert ledger_payments(session, account.id) == []
    assert session.exec(select(WebhookEvent)).all() == []


def test_a_tampered_body_is_refused(session, client):
    account = make_account(session, invoices=(6500,))
    payment = waiting_payment(session, account)
    body = event("evt_t", "payment_intent.succeeded", intent(payment.gateway_ref, 6500))
    header = signed(body)
    tampered = body.replace(b"6500", b"6501")
    assert client.post(billing_api.WEBHOOK_PATH, content=tampered,
                       headers={"Stripe-Signature": header}).status_code == 400
