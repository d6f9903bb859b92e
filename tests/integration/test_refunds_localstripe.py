"""Refunds against a real localstripe: all or part of a paid invoice, checked on localstripe's
side, an answer lost after localstripe made the refund (found again by its key, not made twice:
localstripe ignores idempotency keys), and more than was paid refused."""
from __future__ import annotations

import json
import urllib.request

import pytest
from sqlmodel import select

from rxportal.models import Transaction
from rxportal.services import ledger, payments, refunds
from tests.billing_factory import collect_card, make_account
from tests.integration.localstripe_fixture import gateway_proxy, localstripe, stripe_env  # noqa: F401

ACTOR = {"actor_type": "staff", "actor_id": 1, "actor_name": "alice", "ip": ""}


def _refunded_at_localstripe(url: str, payment_ref: str) -> list[int]:
    request = urllib.request.Request(f"{url}/v1/refunds?payment_intent={payment_ref}",
                                     headers={"Authorization": "Bearer sk_test_x"})
    return sorted(r["amount"] for r in json.loads(urllib.request.urlopen(request, timeout=5)
                                                   .read())["data"])


def _paid(session):
    account = make_account(session, invoices=(6500,))
    card = collect_card(session, account.id)
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=card.id)
    assert outcome.status == "succeeded"
    return account, payments.get_payment(session, account.id, outcome.payment_id)


def _refund(session, account, payment, amount, attempt=None):
    return refunds.refund(session, account.id, payment.id,
                          attempt_id=attempt or payments.new_attempt_id(), amount_minor=amount,
                          reason="Goodwill", actor=ACTOR)


def test_partial_then_full_refund_through_localstripe(session, stripe_env):
    account, payment = _paid(session)
    first = _refund(session, account, payment, 2000)
    assert first.status == "succeeded" and first.gateway_ref.startswith("re_")
    assert ledger.amount_due(session, account.id) == (2000, 1)
    _refund(session, account, payment, 4500)
    assert _refunded_at_localstripe(stripe_env.url, payment.gateway_ref) == [2000, 4500]
    rows = session.exec(select(Transaction).where(Transaction.kind == "refund")).all()
    assert sorted(r.amount_minor for r in rows) == [2000, 4500]
    with pytest.raises(refunds.RefundError) as refused:
        _refund(session, account, payment, 1)
    assert refused.value.code == "nothing"


def test_answer_lost_after_localstripe_refunded_is_found_not_made_again(session, gateway_proxy):
    account, payment = _paid(session)
    gateway_proxy.lose_answer_to = "/v1/refunds"
    attempt = payments.new_attempt_id()
    with pytest.raises(refunds.RefundError) as lost:
        _refund(session, account, payment, 3000, attempt)
    assert lost.value.code == "unavailable" and gateway_proxy.lost
    row = _refund(session, account, payment, 3000, attempt)
    assert row.status == "succeeded" and row.gateway_ref.startswith("re_")
    assert _refunded_at_localstripe(gateway_proxy.url, payment.gateway_ref) == [3000]
    assert ledger.amount_due(session, account.id) == (3000, 1)
