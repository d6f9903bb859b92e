"""Paying a top-off by card through the billing feature's payments (Stripe).

A top-off is a billing `Payment` with purpose "topoff": the same exactly-once rules (attempt id,
idempotency key, one payment in flight per account, reconciliation after an interruption),
3-D Secure in the browser, and signed webhooks. Billing applies no invoice payment for it; the
hooks registered here record the purchase instead (`usage.record_paid` / `record_declined` /
`record_reversal`), so a success, a failure, a refund or a dispute reaches the purchase
whichever way it arrives (the page, a webhook, a staff refund). Bank debits, which settle days
later, are not offered for top-offs.
"""
from __future__ import annotations

from sqlmodel import Session, select

from rxportal.models.billing import Payment
from rxportal.models.usage import TopOffPurchase
from rxportal.services import payments, usage
from rxportal.services.gateway import GatewayUnavailable
from rxportal.services.i18n import N_

PURPOSE = "topoff"


def topoff_methods(session: Session, account_id: int) -> list[dict]:
    """The account's saved cards: {id, label}."""
    return [{"id": str(m.id), "label": f"{(m.brand or 'card').title()} •••• {m.last4}"}
            for m in payments.list_methods(session, account_id, kind="card")]


class TopoffCharge:
    """A `usage.Charge` for one account. After a call, `client_secret` is set when the card
    asks for 3-D Secure (the page then runs confirmCardPayment with it). Raises
    GatewayUnavailable when the gateway does not answer (the same confirmation may be retried:
    it resumes the same payment)."""

    def __init__(self, session: Session, account_id: int, actor_id: int | None = None):
        self.session, self.account_id, self.actor_id = session, account_id, actor_id
        self.client_secret = ""

    def __call__(self, request: usage.ChargeRequest) -> usage.ChargeResult:
        if request.account_id != self.account_id or request.payment_method_id is None:
            return usage.ChargeResult(ok=False, error="no payment method")
        try:
            outcome = payments.charge_purchase(
                self.session, self.account_id, purpose=PURPOSE, attempt_id=request.attempt_id,
                amount_minor=request.amount_minor, currency=request.currency,
                method_id=request.payment_method_id, actor_id=self.actor_id)
        except payments.PaymentError as error:
            if error.code == "unavailable":
                raise GatewayUnavailable(error.message) from error
            return usage.ChargeResult(ok=False, error=error.message[:200])
        return self._result(outcome)

    def _result(self, outcome: payments.PayOutcome) -> usage.ChargeResult:
        payment = self.session.get(Payment, outcome.payment_id)
        reference = payment.gateway_ref if payment else ""
        if outcome.status == "succeeded":
            return usage.ChargeResult(ok=True, reference=reference)
        if outcome.status == "requires_action" and outcome.client_secret:
            self.client_secret = outcome.client_secret
            return usage.ChargeResult(ok=False, reference=reference,
                                      client_secret=outcome.client_secret)
        return usage.ChargeResult(ok=False, reference=reference,
                                  error=outcome.message or payments.MESSAGES["declined"])


def topoff_charge(session: Session, account_id: int, actor_id: int | None = None) -> TopoffCharge:
    return TopoffCharge(session, account_id, actor_id)


def finish_authentication(session: Session, account_id: int, request_key: str) -> TopOffPurchase:
    """After 3-D Secure in the browser: ask the gateway how the payment ended and settle the
    purchase (through the hooks). Another account's purchase is "not found"."""
    purchase = usage.find_purchase(session, account_id, request_key)
    if purchase is None or not purchase.attempt_id:
        raise payments.NotFound("purchase")
    if purchase.status == "authenticating":
        outcome = payments.resume_attempt(session, account_id, purchase.attempt_id)
        if outcome.status == "requires_action":
            # Closed or abandoned: cancel it so it can never be charged later.
            payments.settle_in_flight(session, account_id)
        session.refresh(purchase)
    return purchase


def decline_reason(purchase: TopOffPurchase) -> str:
    """The English msgid telling the customer why a purchase was not paid."""
    if "authentication" in (purchase.error or ""):
        return payments.MESSAGES["authentication_failed"]
    return N_("Your payment was declined. Nothing was charged; choose another payment method.")


# -- hooks: billing settles the payment, the purchase follows ----------------------------------

def _purchase_of(session: Session, payment: Payment) -> TopOffPurchase | None:
    return session.exec(select(TopOffPurchase).where(
        TopOffPurchase.account_id == payment.account_id,
        TopOffPurchase.attempt_id == payment.attempt_id)).first()


def _paid(session: Session, payment: Payment) -> None:
    purchase = _purchase_of(session, payment)
    if purchase is not None:
        usage.record_paid(session, purchase, payment.gateway_ref)


def _failed(session: Session, payment: Payment) -> None:
    purchase = _purchase_of(session, payment)
    if purchase is not None:
        usage.record_declined(session, purchase, payment.failure_code or "declined")


def _reversed(session: Session, payment: Payment, what: str, amount: int) -> None:
    purchase = _purchase_of(session, payment)
    if purchase is not None:
        usage.record_reversal(session, purchase, what, amount)


payments.register_purpose(PURPOSE, payments.Purpose(on_success=_paid, on_failure=_failed,
                                                    on_reversal=_reversed))
