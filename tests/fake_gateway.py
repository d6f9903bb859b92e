"""A FAKE payment gateway (not a network server) that behaves like real Stripe where localstripe
cannot show it: idempotency keys honoured (the same key returns the same object), answers lost
after the gateway acted, bank debits (SEPA, ACSS, ACH) that stay "processing" until a webhook,
the SetupIntents of the bank types localstripe lacks (acss_debit, us_bank_account), and refunds
(with Stripe's rules: never more than was charged, the same key makes one refund)."""
from __future__ import annotations

import itertools

import pytest

from rxportal.services import gateway as gateway_module
from rxportal.services.gateway import GatewayError, GatewayUnavailable, MethodInfo, PaymentResult, \
    RefundResult

BANK_KINDS = ("sepa_debit", "acss_debit", "us_bank_account")


class FakeStripe:
    name = "stripe"

    def __init__(self):
        self.ids = itertools.count(1)
        self.by_key: dict[str, str] = {}
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.setup_intents: list[dict] = []
        self.methods: dict[str, MethodInfo] = {}
        self.charges = 0
        self.lose_next_create_answer = False
        self.lose_next_refund_answer = False
        self.down = False
        self.bank_status = "processing"

    def _up(self):
        if self.down:
            raise GatewayUnavailable("connection refused", "unavailable")

    def create_customer(self, **_):
        return "cus_fake"

    def create_setup_intent(self, customer_ref, kind, currency=""):
        self._up()
        self.setup_intents.append({"customer": customer_ref, "kind": kind, "currency": currency})
        return f"seti_fake_{len(self.setup_intents)}", f"seti_fake_{len(self.setup_intents)}_secret_x"

    def get_method(self, ref):
        return self.methods.get(ref) or MethodInfo(ref, "card", "visa", "4242", 12, 2030, "cus_fake")

    attach_method = lambda self, ref, customer: self.get_method(ref)  # noqa: E731

    def detach_method(self, ref):
        pass

    def create_payment(self, *, amount_minor, currency, customer_ref, method_ref, kind,
                       idempotency_key, metadata):
        self._up()
        if idempotency_key not in self.by_key:  # real Stripe: same key, same object
            ref = f"pi_fake_{next(self.ids)}"
            self.by_key[idempotency_key] = ref
            self.intents[ref] = {"status": "requires_confirmation", "amount": amount_minor,
                                 "kind": kind}
        ref = self.by_key[idempotency_key]
        if self.lose_next_create_answer:
            self.lose_next_create_answer = False
            raise GatewayUnavailable("timed out", "unavailable")
        return self.get_payment(ref)

    def confirm_payment(self, ref, *, idempotency_key, off_session):
        self._up()
        intent = self.intents[ref]
        if intent["status"] == "requires_confirmation":
            self.charges += 1
            intent["status"] = self.bank_status if intent["kind"] in BANK_KINDS else "succeeded"
        return self.get_payment(ref)

    def get_payment(self, ref):
        self._up()
        intent = self.intents[ref]
        return PaymentResult(ref=ref, status=intent["status"], amount_minor=intent["amount"])

    def cancel_payment(self, ref):
        return self.get_payment(ref)

    def refunded(self, payment_ref) -> int:
        return sum(r["amount"] for r in self.refunds.values() if r["payment"] == payment_ref)

    def refund(self, payment_ref, *, amount_minor, idempotency_key, metadata):
        self._up()
        if idempotency_key not in self.by_key:
            intent = self.intents.get(payment_ref)
            if intent is None or intent["status"] != "succeeded":
                raise GatewayError("This payment cannot be refunded.", "charge_not_refundable")
            if amount_minor > intent["amount"] - self.refunded(payment_ref):
                raise GatewayError("Refund amount is greater than unrefunded amount.",
                                   "amount_too_large")
            ref = f"re_fake_{next(self.ids)}"
            self.by_key[idempotency_key] = ref
            self.refunds[ref] = {"payment": payment_ref, "amount": amount_minor, "key": idempotency_key,
                                 "metadata": dict(metadata)}
        ref = self.by_key[idempotency_key]
        if self.lose_next_refund_answer:
            self.lose_next_refund_answer = False
            raise GatewayUnavailable("timed out", "unavailable")
        return RefundResult(ref=ref, status="succeeded", amount_minor=self.refunds[ref]["amount"])

    def find_refund(self, payment_ref, idempotency_key):
        self._up()
        for ref, refund in self.refunds.items():
            if refund["payment"] == payment_ref and refund["key"] == idempotency_key:
                return RefundResult(ref=ref, status="succeeded", amount_minor=refund["amount"])
        return None

    def parse_webhook(self, payload, signature):
        raise NotImplementedError


@pytest.fixture()
def fake():
    gateway = FakeStripe()
    gateway_module.set_gateway(gateway)
    yield gateway
    gateway_module.set_gateway(None)
