"""Refunds of succeeded payments through the gateway, made by staff, each recorded exactly once.

How a refund is made once, whatever the clicks, retries or webhooks:

1. The form gets an attempt id from the server (`payments.new_attempt_id`); sending it again
   resumes that refund instead of starting another.
2. The Refund row (number n of its payment) is committed before the gateway is called, with
   `inflight_payment_id` set: a unique index lets only one refund per payment be in flight, and
   what is in flight counts as already refunded when the next amount is checked.
3. The gateway call carries the idempotency key `refund-<payment>-<n>` (also in the refund's
   metadata, so that after a lost answer the refund is looked up rather than made again, even
   on localstripe, which ignores idempotency keys).
4. The gateway's answer, the ledger entries and the payment's refunded total are written in one
   transaction, claimed by setting `applied_at` only where it is still empty. The gateway's
   `charge.refunded` webhook (payments.handle_event) carries the payment's cumulative refunded
   amount: it records only what no Refund row of ours accounts for.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from rxportal.models import utcnow
from rxportal.models.billing import Payment, Refund
from rxportal.services import audit, payments
from rxportal.services.gateway import GatewayError, GatewayUnavailable, RefundResult, get_gateway
from rxportal.services.i18n import N_

MAX_REASON = 200
REFUNDABLE_STATUSES = ("succeeded", "refunded")
IN_FLIGHT = ("created", "interrupted")


class RefundError(Exception):
    """A refusal with an English msgid for staff, the form field it is about, and a code."""

    def __init__(self, code: str, msgid: str, field: str = "", **values):
        super().__init__(msgid)
        self.code, self.msgid, self.field, self.values = code, msgid, field, values


def _in_flight(session: Session, payment_id: int) -> list[Refund]:
    return list(session.exec(select(Refund).where(
        Refund.payment_id == payment_id, Refund.applied_at.is_(None),
        Refund.status.in_(IN_FLIGHT))))


def refundable(session: Session, payment: Payment) -> int:
    """What can still be refunded: paid, minus refunds (made or in flight) and disputes."""
    if payment.applied_at is None or payment.status not in REFUNDABLE_STATUSES:
        return 0
    pending = sum(r.amount_minor for r in _in_flight(session, payment.id))
    return max(0, payment.amount_minor - payment.refunded_minor - payment.disputed_minor - pending)


def list_refunds(session: Session, payment_ids: list[int]) -> list[Refund]:
    if not payment_ids:
        return []
    return list(session.exec(select(Refund).where(Refund.payment_id.in_(payment_ids))
                             .order_by(Refund.id)))


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RefundError("reason_empty", N_("Enter the reason for this refund."), "reason")
    if len(reason) > MAX_REASON or any(ord(c) < 32 or ord(c) == 127 for c in reason):
        raise RefundError("reason_format", N_("Use one line of at most 200 characters."), "reason")
    return reason


def refund(session: Session, account_id: int, payment_id: int, *, attempt_id: str,
           amount_minor: int, reason: str, actor: dict) -> Refund:
    """Refund `amount_minor` of one of this account's payments. `actor` holds the audit fields
    of the staff member (services.staff.actor_fields). Commits as it goes (see the module doc)."""
    if not attempt_id or len(attempt_id) > 64:
        raise RefundError("attempt", N_("This form has expired. Please reload the page."))
    existing = session.exec(select(Refund).where(Refund.attempt_id == attempt_id)).first()
    if existing is not None:
        if existing.account_id != account_id or existing.payment_id != payment_id:
            raise payments.NotFound("refund")
        if existing.status == "failed":
            raise RefundError("refused", N_("The payment service refused this refund: {reason}"),
                              reason=existing.failure_message or "failed")
        return _resume(session, existing)
    payment = payments.get_payment(session, account_id, payment_id)
    reason = check_reason(reason)
    _settle_in_flight(session, payment)
    session.refresh(payment)
    available = refundable(session, payment)
    if available <= 0:
        raise RefundError("nothing", N_("Nothing of this payment can be refunded."), "amount")
    if amount_minor <= 0:
        raise RefundError("amount_zero", N_("Enter an amount greater than zero."), "amount")
    if amount_minor > available:
        raise RefundError("too_much", N_("At most {amount} of this payment can be refunded."),
                          "amount", amount=available)  # minor units: the page formats them
    number = 1 + int(session.exec(select(func.coalesce(func.max(Refund.number), 0))
                                  .where(Refund.payment_id == payment.id)).one())
    row = Refund(payment_id=payment.id, account_id=account_id, number=number,
                 attempt_id=attempt_id, idempotency_key=f"refund-{payment.id}-{number}",
                 amount_minor=amount_minor, currency=payment.currency, reason=reason,
                 staff_id=actor.get("actor_id"), inflight_payment_id=payment.id)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # a second click or another tab got there first
        session.rollback()
        same = session.exec(select(Refund).where(Refund.attempt_id == attempt_id)).first()
        if same is not None and same.account_id == account_id:
            return _resume(session, same)
        raise RefundError("busy", N_("Another refund of this payment is in progress. "
                                     "Please wait for it to finish."))
    audit.record(session, "payment.refund_requested", target=f"account:{account_id}",
                 payment_id=payment.id, refund_id=row.id, amount_minor=amount_minor,
                 currency=payment.currency, reason=reason, **actor)
    session.commit()
    return _drive(session, row, payment)


def _resume(session: Session, row: Refund) -> Refund:
    session.refresh(row)
    if row.status in IN_FLIGHT and row.applied_at is None:
        return _drive(session, row, session.get(Payment, row.payment_id))
    return row


def _settle_in_flight(session: Session, payment: Payment) -> None:
    """Before a new refund: finish the ones left in flight (an answer lost, a crash)."""
    for row in _in_flight(session, payment.id):
        if row.status == "created" and _aware(row.created_at) > utcnow() - timedelta(minutes=2):
            raise RefundError("busy", N_("Another refund of this payment is in progress. "
                                         "Please wait for it to finish."))
        try:
            _drive(session, row, payment)
        except RefundError as problem:
            if problem.code != "refused":  # a refused one is over; "unavailable" stops here
                raise


def _aware(value):
    from datetime import timezone
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _drive(session: Session, row: Refund, payment: Payment) -> Refund:
    gateway = get_gateway()
    try:
        result = gateway.find_refund(payment.gateway_ref, row.idempotency_key) \
            if row.status == "interrupted" else None
        if result is None:
            result = gateway.refund(payment.gateway_ref, amount_minor=row.amount_minor,
                                    idempotency_key=row.idempotency_key,
                                    metadata={"payment": payment.id, "refund": row.id,
                                              "reason": row.reason})
    except GatewayUnavailable:
        row.status = "interrupted"
        session.add(row)
        session.commit()
        raise RefundError("unavailable", N_("The payment service is not answering. Nothing "
                                            "was recorded; try again in a moment."))
    except GatewayError as error:
        result = RefundResult(ref="", status="failed", amount_minor=row.amount_minor,
                              failure_message=(error.message or error.code)[:300])
    if result.status in ("failed", "canceled"):
        row.status, row.failure_message, row.inflight_payment_id = "failed", \
            result.failure_message[:300], None
        session.add(row)
        session.commit()
        raise RefundError("refused", N_("The payment service refused this refund: {reason}"),
                          reason=result.failure_message or result.status)
    row.gateway_ref = result.ref
    session.add(row)
    apply_refund(session, row)
    session.commit()
    session.refresh(row)
    return row


def _locked_payment(session: Session, payment_id: int) -> Payment:
    """The payment, locked for the rest of the transaction (PostgreSQL; SQLite has one writer)."""
    payment = session.exec(select(Payment).where(Payment.id == payment_id)
                           .with_for_update()).one()
    session.refresh(payment)
    return payment


def apply_refund(session: Session, row: Refund) -> bool:
    """Claim the refund and write its ledger entries; False when it was already applied."""
    payment = _locked_payment(session, row.payment_id)
    claimed = session.exec(
        update(Refund).where(Refund.id == row.id, Refund.applied_at.is_(None))
        .values(applied_at=utcnow(), status="succeeded", inflight_payment_id=None)
    ).rowcount
    if not claimed:
        return False
    _record(session, payment, row.amount_minor)
    return True


def _record(session: Session, payment: Payment, amount: int) -> None:
    payments._reverse(session, payment, amount, "refund", "Refund")
    payment.refunded_minor += amount
    payment.status = "refunded"
    payment.updated_at = utcnow()
    session.add(payment)
    session.flush()
    payments.after_reversal(session, payment, "refund", amount)  # a top-off gives its data back


def apply_refunded_total(session: Session, payment: Payment, cumulative: int) -> str:
    """The gateway says `cumulative` of this payment is refunded (webhook `charge.refunded`).
    A refund of ours in flight that this total covers is applied (once, as if the gateway had
    answered); what is left is a refund made outside the portal, recorded as such."""
    payment = _locked_payment(session, payment.id)
    delta = min(cumulative, payment.amount_minor) - payment.refunded_minor
    if delta <= 0:
        return "already"
    for row in _in_flight(session, payment.id):
        if row.amount_minor <= delta and apply_refund(session, row):
            delta -= row.amount_minor
    if delta > 0:
        _record(session, payment, delta)
    return "refund"
