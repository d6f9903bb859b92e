"""Paying a top-off with a saved card, through the billing feature's gateway (Stripe).

The top-off is charged directly on the gateway with an idempotency key fixed by the customer's
confirmation (`usage.purchase_topoff` writes the ledger entries and the receipt). No billing
`Payment` row is made, so the billing webhooks ignore these payments and never apply them to
invoices. A card that asks for 3-D Secure is cancelled and reported as declined (the customer
can choose another card); bank debits, which settle days later, are not offered for top-offs.
"""
from __future__ import annotations

from sqlmodel import Session

from rxportal.services import payments, usage
from rxportal.services.gateway import GatewayError, GatewayUnavailable, get_gateway


def topoff_methods(session: Session, account_id: int) -> list[dict]:
    """The account's saved cards: {id, label}."""
    return [{"id": str(m.id), "label": f"{(m.brand or 'card').title()} •••• {m.last4}"}
            for m in payments.list_methods(session, account_id, kind="card")]


def topoff_charge(session: Session, account_id: int) -> usage.Charge:
    """A `usage.Charge` for this account. Raises GatewayUnavailable when the gateway does not
    answer (nothing is written; the same confirmation may be retried)."""

    def charge(request: usage.ChargeRequest) -> usage.ChargeResult:
        if request.account_id != account_id or request.payment_method_id is None:
            return usage.ChargeResult(ok=False, error="no payment method")
        try:
            method = payments.get_method(session, account_id, request.payment_method_id)
        except payments.NotFound:
            return usage.ChargeResult(ok=False, error="no such payment method")
        if method.kind != "card":
            return usage.ChargeResult(ok=False, error="top-offs are paid by card")
        gateway = get_gateway()
        key = request.idempotency_key
        try:
            customer = payments.customer_ref(session, account_id, gateway)
            result = gateway.create_payment(
                amount_minor=request.amount_minor, currency=request.currency,
                customer_ref=customer, method_ref=method.gateway_ref, kind=method.kind,
                idempotency_key=f"{key}-create",
                metadata={"topoff": key, "account": account_id})
            if result.status == "requires_confirmation":
                result = gateway.confirm_payment(result.ref, idempotency_key=f"{key}-confirm",
                                                 off_session=False)
            if result.status == "requires_action":
                gateway.cancel_payment(result.ref)
                return usage.ChargeResult(ok=False, reference=result.ref,
                                          error="card authentication required")
        except GatewayUnavailable:
            raise
        except payments.PaymentError as error:
            if error.code == "unavailable":
                raise GatewayUnavailable(error.message) from error
            return usage.ChargeResult(ok=False, error=error.message[:200])
        except GatewayError as error:
            return usage.ChargeResult(ok=False, error=(error.message or error.code or "refused")[:200])
        if result.status == "succeeded":
            return usage.ChargeResult(ok=True, reference=result.ref)
        return usage.ChargeResult(ok=False, reference=result.ref,
                                  error=(result.failure_message or result.status)[:200])

    return charge
