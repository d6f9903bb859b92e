"""Payments: saved methods, paying the amount due, chosen invoices or another amount, and
applying what the gateway answers to the ledger exactly once.

How a payment is charged once, whatever the clicks, tabs, reconnects or timeouts:

1. The page gets an attempt id from the server (`new_attempt_id`) before the customer pays.
   Paying again with the same attempt id resumes that payment instead of starting another.
2. The Payment row is written (and committed) before the gateway is called, with
   `inflight_account_id` set: a unique index lets only one payment per account be in flight,
   so a second tab is refused until the first is settled.
3. The gateway payment is created with an idempotency key derived from the attempt id, its id
   stored and committed, then confirmed. If the gateway does not answer, the payment is marked
   `interrupted`; the next try (same or new attempt) first asks the gateway what became of it.
4. The gateway's answer and the ledger entries (and invoice status) are written in one
   transaction, claimed by setting `applied_at` only where it is still empty, so a webhook and
   the page applying the same success record it once.

Functions that talk to the gateway commit the session they are given between steps.
"""
from __future__ import annotations

import importlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from rxportal.models import Account, Invoice, Transaction, utcnow
from rxportal.models.billing import GatewayCustomer, Payment, PaymentMethod, WebhookEvent
from rxportal.services import audit, i18n, ledger, mail
from rxportal.services import settings as isp_settings
from rxportal.services.gateway import (BANK_KINDS, GatewayError, GatewayEvent,
                                       GatewayUnavailable, PaymentResult, bank_kind, get_gateway)

isp_settings.register("billing_max_credit_minor", 50000)  # pay-ahead limit (credit kept)
isp_settings.register("billing_max_payment_minor", 1_000_000)  # one payment at most
isp_settings.register("billing_autopay_locked", False)  # customers cannot turn autopay off
isp_settings.register("billing_keep_last_method", False)  # nor remove their last method

IN_FLIGHT = ("created", "processing", "interrupted", "requires_action")
METHOD_KINDS = ("card", *BANK_KINDS.values())


class PaymentError(Exception):
    """A refusal with an English message (a msgid) for the customer, and a code for tests."""

    def __init__(self, code: str, message: str, **values):
        super().__init__(message)
        self.code = code
        self.message = message
        self.values = values

    def text(self, lang: str) -> str:
        return i18n.translate(lang, self.message, **self.values)


class NotFound(PaymentError):
    def __init__(self, what: str = "payment"):
        super().__init__("not_found", "Not found.")
        self.what = what


MESSAGES = {
    "declined": "Your card was declined. Please use another payment method.",
    "authentication_failed": "The card's authentication (3-D Secure) failed. Nothing was charged.",
    "unavailable": "The payment service is not answering. Nothing was recorded; please try again "
                   "in a moment.",
    "failed": "The payment failed. Please use another payment method.",
}


@dataclass(frozen=True)
class Purpose:
    """What another feature (top-offs) does when one of its payments settles. Billing writes no
    invoice payment nor billing receipt for these; the feature records its own purchase.
    Each hook runs inside the transaction that settles the payment, once per change."""
    on_success: Callable[[Session, "Payment"], None]
    on_failure: Callable[[Session, "Payment"], None]
    on_reversal: Callable[[Session, "Payment", str, int], None]  # (what: refund|dispute, amount)


PURPOSES: dict[str, Purpose] = {}
# The features that sell through billing payments; each registers its Purpose when imported.
# They are imported at first need, so a webhook or the job worker finds them whatever the
# process imported before.
PURPOSE_MODULES = ("rxportal.services.usage_payments",)


def register_purpose(name: str, purpose: Purpose) -> None:
    PURPOSES[name] = purpose


def _purpose(name: str) -> Purpose | None:
    for module in PURPOSE_MODULES:
        importlib.import_module(module)
    return PURPOSES.get(name)


@dataclass
class PayOutcome:
    status: str  # succeeded | processing | requires_action | failed | interrupted (autopay)
    payment_id: int
    attempt_id: str
    amount_minor: int
    currency: str
    client_secret: str = ""
    message: str = ""  # English msgid for failures


def new_attempt_id() -> str:
    return secrets.token_urlsafe(18)


# -- amounts --------------------------------------------------------------------------------

def parse_amount(text: str, currency: str, max_minor: int) -> int:
    """Validate a typed amount ("12", "12.50", "12,50") into minor units."""
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    value = re.sub(r"^[$€£]|[$€£]$", "", value)
    if not value:
        raise PaymentError("amount_empty", "Enter an amount.")
    if len(value) > 20 or not re.fullmatch(r"\d+([.,]\d+)?", value):
        raise PaymentError("amount_format", "Enter an amount as a number, for example 25.00.")
    digits = get_currency_precision(currency)
    whole, _, fraction = value.replace(",", ".").partition(".")
    if len(fraction) > digits:
        raise PaymentError("amount_decimals", "Use at most {digits} decimals.", digits=digits)
    try:
        minor = int(Decimal(f"{whole}.{fraction or '0'}") * (10 ** digits))
    except InvalidOperation:
        raise PaymentError("amount_format", "Enter an amount as a number, for example 25.00.")
    if minor <= 0:
        raise PaymentError("amount_zero", "Enter an amount greater than zero.")
    if minor > max_minor:
        raise PaymentError("amount_large", "This amount is too large.")
    return minor


def invoice_balances(session: Session, account_id: int) -> list[tuple[Invoice, int]]:
    """Open invoices with something still owed, oldest first, with what is owed on each."""
    balances = ledger.invoice_balances_query(account_id).subquery()
    rows = session.exec(
        select(Invoice, balances.c.balance)
        .join(balances, balances.c.id == Invoice.id)
        .where(balances.c.balance > 0)
        .order_by(Invoice.issued_on, Invoice.id)
    ).all()
    return [(invoice, int(balance)) for invoice, balance in rows]


def unapplied_credit(session: Session, account_id: int) -> int:
    """Money paid but not applied to any invoice (a positive number), from the ledger."""
    total = session.exec(
        select(func.coalesce(func.sum(Transaction.amount_minor), 0)).where(
            Transaction.account_id == account_id, Transaction.invoice_id.is_(None))
    ).one()
    return max(0, -int(total))


# -- gateway customers and payment methods ---------------------------------------------------

def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account")
    return account


def customer_ref(session: Session, account_id: int, gateway=None, create: bool = True) -> str:
    gateway = gateway or get_gateway()
    row = session.exec(select(GatewayCustomer).where(
        GatewayCustomer.account_id == account_id, GatewayCustomer.gateway == gateway.name)).first()
    if row is not None:
        return row.customer_ref
    if not create:
        return ""
    account = _account(session, account_id)
    ref = _gateway_call(gateway.create_customer, email=account.email, name=account.name,
                        account_number=account.number)
    session.add(GatewayCustomer(account_id=account_id, gateway=gateway.name, customer_ref=ref))
    session.flush()
    return ref


def _gateway_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except GatewayUnavailable as error:
        raise PaymentError("unavailable", MESSAGES["unavailable"]) from error
    except GatewayError as error:
        raise PaymentError("gateway", "The payment service refused this request.") from error


def list_methods(session: Session, account_id: int, kind: str | None = None) -> list[PaymentMethod]:
    query = select(PaymentMethod).where(
        PaymentMethod.account_id == account_id, PaymentMethod.removed_at.is_(None),
        PaymentMethod.saved.is_(True))
    if kind:
        query = query.where(PaymentMethod.kind == kind)
    return list(session.exec(query.order_by(PaymentMethod.id)))


def get_method(session: Session, account_id: int, method_id: int) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or method.account_id != account_id or method.removed_at is not None:
        raise NotFound("method")
    return method


def bank_kind_for(session: Session, account_id: int) -> str:
    """The bank account type of this account's currency (the ISP's), or "" when none fits."""
    return bank_kind(_account(session, account_id).currency) or ""


def start_method_setup(session: Session, account_id: int, kind: str = "card") -> str:
    """A SetupIntent client secret for Stripe.js to collect a card, or (kind "bank") a bank
    account of the type that fits the account's currency."""
    if kind == "bank":
        kind = bank_kind_for(session, account_id)
    if kind not in METHOD_KINDS:
        raise PaymentError("kind", "This payment method type is not supported.")
    account = _account(session, account_id)
    if kind != "card" and bank_kind(account.currency) != kind:
        raise PaymentError("kind", "This payment method type is not supported.")
    gateway = get_gateway()
    ref = customer_ref(session, account_id, gateway)
    session.commit()
    _intent, client_secret = _gateway_call(gateway.create_setup_intent, ref, kind,
                                           currency=account.currency)
    return client_secret


def register_method(session: Session, account_id: int, method_ref: str, *, save: bool = True,
                    autopay: bool = False, actor_id: int | None = None) -> PaymentMethod:
    """Record a method Stripe.js collected. A method belonging to another customer is refused."""
    if not re.fullmatch(r"(pm|card|src)_[A-Za-z0-9_]{1,100}", method_ref or ""):
        raise NotFound("method")
    existing = session.exec(select(PaymentMethod).where(
        PaymentMethod.gateway_ref == method_ref)).first()
    if existing is not None:
        if existing.account_id != account_id:
            raise NotFound("method")
        if existing.removed_at is None:
            if save and not existing.saved:
                existing.saved = True
                session.add(existing)
            return existing
    gateway = get_gateway()
    ours = customer_ref(session, account_id, gateway)
    info = _gateway_call(gateway.get_method, method_ref)
    if info.customer_ref and info.customer_ref != ours:
        raise NotFound("method")
    info = _gateway_call(gateway.attach_method, method_ref, ours)
    method = PaymentMethod(account_id=account_id, gateway=gateway.name, gateway_ref=info.ref,
                           kind=info.kind, brand=info.brand, last4=info.last4,
                           exp_month=info.exp_month, exp_year=info.exp_year, saved=save)
    session.add(method)
    session.flush()
    if save and autopay:
        set_autopay(session, account_id, method.id, actor_id=actor_id)
    audit.record(session, "payment_method.added", actor_type="customer", actor_id=actor_id,
                 target=f"account:{account_id}", kind=info.kind, last4=info.last4, saved=save)
    return method


def set_autopay(session: Session, account_id: int, method_id: int | None, *,
                actor_id: int | None = None) -> None:
    """Use one saved method for autopay, or none (unless the ISP forbids turning it off)."""
    methods = list_methods(session, account_id)
    if method_id is None:
        if isp_settings.get(session, "billing_autopay_locked") and any(m.autopay for m in methods):
            raise PaymentError("autopay_locked", "Your provider requires autopay to stay on. "
                                                 "You can choose another method for it.")
    else:
        get_method(session, account_id, method_id)
    for method in methods:
        method.autopay = method.id == method_id
        session.add(method)
    audit.record(session, "autopay.changed", actor_type="customer", actor_id=actor_id,
                 target=f"account:{account_id}", method_id=method_id)


def remove_method(session: Session, account_id: int, method_id: int, *,
                  actor_id: int | None = None) -> None:
    method = get_method(session, account_id, method_id)
    others = [m for m in list_methods(session, account_id) if m.id != method.id]
    if isp_settings.get(session, "billing_keep_last_method") and not others:
        raise PaymentError("last_method", "Your provider requires at least one payment method "
                                          "on file. Add another one before removing this one.")
    if method.autopay and isp_settings.get(session, "billing_autopay_locked"):
        raise PaymentError("autopay_locked", "This method is used for autopay, which your "
                                             "provider requires. Choose another method for "
                                             "autopay first.")
    _gateway_call(get_gateway().detach_method, method.gateway_ref)
    method.removed_at = utcnow()
    method.autopay = False
    session.add(method)
    audit.record(session, "payment_method.removed", actor_type="customer", actor_id=actor_id,
                 target=f"account:{account_id}", method_id=method.id, last4=method.last4)


def autopay_method(session: Session, account_id: int) -> PaymentMethod | None:
    return next((m for m in list_methods(session, account_id) if m.autopay), None)


# -- paying ---------------------------------------------------------------------------------

def get_payment(session: Session, account_id: int, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.account_id != account_id:
        raise NotFound("payment")
    return payment


def list_payments(session: Session, account_id: int, offset: int = 0,
                  limit: int = 10) -> list[Payment]:
    return list(session.exec(
        select(Payment).where(Payment.account_id == account_id)
        .order_by(Payment.id.desc()).offset(offset).limit(limit)))


def quote(session: Session, account_id: int, purpose: str, invoice_ids=(),
          amount_text: str = "") -> int:
    """The amount a payment would charge, validated (raises PaymentError)."""
    account = _account(session, account_id)
    open_invoices = invoice_balances(session, account_id)
    due = sum(balance for _, balance in open_invoices)
    if purpose == "amount_due":
        if due <= 0:
            raise PaymentError("nothing_due", "There is nothing to pay right now.")
        return due
    if purpose == "invoices":
        wanted = {int(i) for i in invoice_ids}
        if not wanted:
            raise PaymentError("no_invoice", "Choose at least one invoice.")
        owed = {invoice.id: balance for invoice, balance in open_invoices}
        if not wanted <= set(owed):
            raise NotFound("invoice")
        return sum(owed[i] for i in wanted)
    if purpose == "other":
        limits = isp_settings.get_many(session, ["billing_max_payment_minor",
                                                 "billing_max_credit_minor"])
        amount = parse_amount(amount_text, account.currency, int(limits["billing_max_payment_minor"]))
        credit_after = unapplied_credit(session, account_id) + max(0, amount - due)
        if amount > due and credit_after > int(limits["billing_max_credit_minor"]):
            limit = int(limits["billing_max_credit_minor"])
            if limit <= 0:
                raise PaymentError("credit_limit", "You can pay at most the amount due.")
            raise PaymentError(
                "credit_limit", "You can pay ahead up to {limit} of credit.",
                limit=i18n.format_money(limit, account.currency, account.language))
        return amount
    raise PaymentError("purpose", "Choose what to pay.")


def pay(session: Session, account_id: int, *, attempt_id: str, purpose: str, method_id: int,
        invoice_ids=(), amount_text: str = "", actor_id: int | None = None) -> PayOutcome:
    """Charge a saved (or just collected) method. Commits as it goes (see the module doc)."""
    existing = _attempt(session, account_id, attempt_id)
    if existing is not None:
        return resume(session, existing)
    method = get_method(session, account_id, method_id)
    settle_in_flight(session, account_id)
    amount = quote(session, account_id, purpose, invoice_ids, amount_text)
    account = _account(session, account_id)
    payment = Payment(account_id=account_id, attempt_id=attempt_id,
                      idempotency_key=f"pay-{attempt_id}", purpose=purpose,
                      invoice_ids=sorted({int(i) for i in invoice_ids}) if purpose == "invoices"
                      else [], amount_minor=amount, currency=account.currency,
                      method_id=method.id, gateway=method.gateway, status="created",
                      inflight_account_id=account_id)
    return _start(session, payment, actor_id=actor_id)


def _attempt(session: Session, account_id: int, attempt_id: str) -> Payment | None:
    """The payment already made for this attempt (a second click), if any."""
    if not attempt_id or len(attempt_id) > 64:
        raise PaymentError("attempt", "This payment form has expired. Please reload the page.")
    existing = session.exec(select(Payment).where(Payment.attempt_id == attempt_id)).first()
    if existing is not None and existing.account_id != account_id:
        raise NotFound("payment")
    return existing


def charge_purchase(session: Session, account_id: int, *, purpose: str, attempt_id: str,
                    amount_minor: int, currency: str, method_id: int,
                    actor_id: int | None = None) -> PayOutcome:
    """Charge a card for another feature's purchase (a registered `Purpose`), with the same
    exactly-once rules, 3-D Secure and reconciliation as `pay`. Commits as it goes."""
    if _purpose(purpose) is None:
        raise ValueError(f"unregistered payment purpose {purpose!r}")
    existing = _attempt(session, account_id, attempt_id)
    if existing is not None:
        return resume(session, existing)
    method = get_method(session, account_id, method_id)
    if method.kind != "card":
        raise PaymentError("kind", "This payment method type is not supported.")
    settle_in_flight(session, account_id)
    payment = Payment(account_id=account_id, attempt_id=attempt_id,
                      idempotency_key=f"pay-{attempt_id}", purpose=purpose, invoice_ids=[],
                      amount_minor=amount_minor, currency=currency, method_id=method.id,
                      gateway=method.gateway, status="created", inflight_account_id=account_id)
    return _start(session, payment, actor_id=actor_id)


def _start(session: Session, payment: Payment, actor_id: int | None = None,
           off_session: bool = False) -> PayOutcome:
    session.add(payment)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        same = session.exec(select(Payment).where(Payment.attempt_id == payment.attempt_id)).first()
        if same is not None and same.account_id == payment.account_id:
            return resume(session, same)
        raise PaymentError("busy", "Another payment is already in progress on your account. "
                                   "Please wait for it to finish.")
    audit.record(session, "payment.started", actor_type="customer" if actor_id else "system",
                 actor_id=actor_id, target=f"payment:{payment.id}",
                 amount_minor=payment.amount_minor, purpose=payment.purpose)
    session.commit()
    return _drive(session, payment, off_session=off_session)


def _drive(session: Session, payment: Payment, off_session: bool = False) -> PayOutcome:
    gateway = get_gateway()
    try:
        if not payment.gateway_ref:
            method = session.get(PaymentMethod, payment.method_id)
            ref = customer_ref(session, payment.account_id, gateway)
            result = gateway.create_payment(
                amount_minor=payment.amount_minor, currency=payment.currency, customer_ref=ref,
                method_ref=method.gateway_ref, kind=method.kind,
                idempotency_key=f"{payment.idempotency_key}-create",
                metadata={"attempt": payment.attempt_id, "account": payment.account_id,
                          "payment": payment.id})
            payment.gateway_ref = result.ref
            payment.status = "processing"
            payment.updated_at = utcnow()
            session.add(payment)
            session.commit()
        else:
            result = gateway.get_payment(payment.gateway_ref)
        if result.status == "requires_confirmation":
            result = gateway.confirm_payment(
                payment.gateway_ref, idempotency_key=f"{payment.idempotency_key}-confirm",
                off_session=off_session)
    except GatewayUnavailable:
        payment.status = "interrupted"
        payment.updated_at = utcnow()
        session.add(payment)
        session.commit()
        raise PaymentError("unavailable", MESSAGES["unavailable"])
    except GatewayError as error:
        result = PaymentResult(ref=payment.gateway_ref, status="failed",
                               failure_code=error.code or "gateway",
                               failure_message=error.message[:300])
    return settle(session, payment, result)


def resume(session: Session, payment: Payment) -> PayOutcome:
    """Carry on with a payment already started (a second click, a reconnect, after 3-D Secure)."""
    session.refresh(payment)
    if payment.status in ("succeeded", "failed", "refunded", "disputed"):
        return _outcome(payment)
    return _drive(session, payment, off_session=payment.purpose == "autopay")


def resume_attempt(session: Session, account_id: int, attempt_id: str) -> PayOutcome:
    payment = session.exec(select(Payment).where(Payment.attempt_id == attempt_id)).first()
    if payment is None or payment.account_id != account_id:
        raise NotFound("payment")
    return resume(session, payment)


def settle_in_flight(session: Session, account_id: int, statuses=IN_FLIGHT,
                     retry_autopay: bool = False) -> None:
    """Before a new payment: find out what became of this account's unsettled ones. A payment
    waiting for 3-D Secure that was abandoned is cancelled. An autopay charge the gateway never
    answered (it was down) is made again when `retry_autopay` (the billing run, the settling
    job); otherwise (the customer pays now) it is dropped."""
    pending = session.exec(select(Payment).where(
        Payment.account_id == account_id, Payment.status.in_(statuses))).all()
    gateway = get_gateway()
    for payment in pending:
        if not payment.gateway_ref:
            if payment.status == "created" and payment.created_at and \
                    _aware(payment.created_at) > utcnow() - timedelta(minutes=2):
                continue  # being started right now by another request
            if retry_autopay and payment.purpose == "autopay" and payment.status == "interrupted":
                _retry_autopay(session, payment)
                continue
            _mark_failed(session, payment, "abandoned", "")
            session.commit()
            continue
        try:
            result = gateway.get_payment(payment.gateway_ref)
            if result.status in ("requires_action", "requires_confirmation",
                                 "requires_payment_method"):
                result = gateway.cancel_payment(payment.gateway_ref)
        except GatewayError:
            raise PaymentError("unavailable", MESSAGES["unavailable"])
        settle(session, payment, result)


def _retry_autopay(session: Session, payment: Payment) -> None:
    """The same autopay attempt (same idempotency key) again, for what the invoice still owes."""
    owed = dict((inv.id, bal) for inv, bal in invoice_balances(session, payment.account_id))
    amount = min(payment.amount_minor, sum(owed.get(i, 0) for i in payment.invoice_ids or []))
    if amount <= 0:
        _mark_failed(session, payment, "abandoned", "")
        session.commit()
        return
    payment.amount_minor = amount
    _drive(session, payment, off_session=True)


def _aware(value):
    from datetime import timezone
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def settle(session: Session, payment: Payment, result: PaymentResult) -> PayOutcome:
    """Write what the gateway answered (ledger included) in one transaction."""
    if result.status == "succeeded":
        apply_success(session, payment)
    elif result.status == "requires_action":
        payment.status = "requires_action"
        payment.updated_at = utcnow()
        session.add(payment)
    elif result.status == "processing":
        payment.status = "processing"
        payment.updated_at = utcnow()
        session.add(payment)
    elif result.status in ("failed", "canceled", "requires_payment_method"):
        _mark_failed(session, payment, result.failure_code or result.status,
                     result.failure_message)
    session.commit()
    session.refresh(payment)
    outcome = _outcome(payment)
    if result.status == "requires_action":
        outcome.client_secret = result.client_secret
    return outcome


def _mark_failed(session: Session, payment: Payment, code: str, message: str) -> None:
    claimed = session.exec(
        update(Payment).where(Payment.id == payment.id, Payment.applied_at.is_(None),
                              Payment.status.in_(IN_FLIGHT))
        .values(status="failed", failure_code=code[:64], failure_message=message[:300],
                inflight_account_id=None, updated_at=utcnow())
    ).rowcount
    if claimed:
        session.refresh(payment)
        # "abandoned": never charged nor declined (the customer paid another way): no mail.
        if payment.purpose == "autopay" and code != "abandoned":
            _queue_failure_mail(session, payment)
        elif (purpose := _purpose(payment.purpose)) is not None:
            purpose.on_failure(session, payment)


def _outcome(payment: Payment) -> PayOutcome:
    message = ""
    if payment.status == "failed":
        code = payment.failure_code
        message = MESSAGES["authentication_failed"] if "authentication" in code else \
            MESSAGES["declined"] if "decline" in code or code == "card_declined" else \
            MESSAGES["failed"]
    return PayOutcome(status=payment.status if payment.status != "created" else "processing",
                      payment_id=payment.id, attempt_id=payment.attempt_id,
                      amount_minor=payment.amount_minor, currency=payment.currency,
                      message=message)


def apply_success(session: Session, payment: Payment) -> bool:
    """Claim the payment and write its ledger entries; False when it was already applied."""
    now = utcnow()
    claimed = session.exec(
        update(Payment).where(Payment.id == payment.id, Payment.applied_at.is_(None))
        .values(applied_at=now, status="succeeded", inflight_account_id=None, updated_at=now,
                failure_code="", failure_message="")
    ).rowcount
    if not claimed:
        return False
    session.refresh(payment)
    purpose = _purpose(payment.purpose)
    if purpose is not None:
        purpose.on_success(session, payment)
        audit.record(session, "payment.succeeded", actor_type="system",
                     target=f"payment:{payment.id}", amount_minor=payment.amount_minor,
                     reference=payment.gateway_ref, purpose=payment.purpose)
        return True
    remaining = payment.amount_minor
    open_invoices = invoice_balances(session, payment.account_id)
    first = [pair for pair in open_invoices if pair[0].id in set(payment.invoice_ids or [])]
    rest = [pair for pair in open_invoices if pair[0].id not in set(payment.invoice_ids or [])]
    applied = []
    for invoice, balance in first + rest:
        if remaining <= 0:
            break
        take = min(balance, remaining)
        session.add(Transaction(account_id=payment.account_id, kind="payment",
                                description=f"Payment {invoice.number}", amount_minor=-take,
                                currency=payment.currency, occurred_at=now,
                                invoice_id=invoice.id, reference=payment.gateway_ref))
        if take == balance:
            invoice.status = "paid"
            session.add(invoice)
        applied.append((invoice.number, take))
        remaining -= take
    if remaining > 0:
        session.add(Transaction(account_id=payment.account_id, kind="payment",
                                description="Payment (credit)", amount_minor=-remaining,
                                currency=payment.currency, occurred_at=now,
                                reference=payment.gateway_ref))
    session.flush()
    audit.record(session, "payment.succeeded", actor_type="system", target=f"payment:{payment.id}",
                 amount_minor=payment.amount_minor, reference=payment.gateway_ref)
    _queue_receipt(session, payment, applied, remaining)
    return True


def _queue_receipt(session: Session, payment: Payment, applied, credit: int) -> None:
    account = session.get(Account, payment.account_id)
    if not account or not account.email:
        return
    lang = i18n.normalize_language(account.language)
    country = isp_settings.get(session, "country")
    money = lambda minor: i18n.format_money(minor, payment.currency, lang, country)  # noqa: E731
    lines = [f"{number}: {money(take)}" for number, take in applied]
    if credit:
        lines.append(i18n.translate(lang, "Credit kept on your account: {amount}",
                                    amount=money(credit)))
    mail.queue(session, account.email, "payment_receipt", lang,
               name=account.name, amount=money(payment.amount_minor),
               date=i18n.format_day(utcnow(), lang, country),
               reference=payment.gateway_ref, applied="\n".join(lines),
               amount_due=money(ledger.amount_due(session, account.id)[0]))


def _queue_failure_mail(session: Session, payment: Payment) -> None:
    account = session.get(Account, payment.account_id)
    if not account or not account.email:
        return
    lang = i18n.normalize_language(account.language)
    country = isp_settings.get(session, "country")
    reason = _outcome(payment).message or MESSAGES["failed"]
    mail.queue(session, account.email, "autopay_failed", lang, name=account.name,
               amount=i18n.format_money(payment.amount_minor, payment.currency, lang, country),
               reason=i18n.translate(lang, reason))


# -- reversals (refunds, disputes) -----------------------------------------------------------

def _reverse(session: Session, payment: Payment, amount: int, kind: str, description: str) -> None:
    """Take back `amount` of a payment: first from the credit it left, then from the invoices it
    paid, newest first (they are open again)."""
    rows = session.exec(select(Transaction).where(
        Transaction.account_id == payment.account_id, Transaction.reference == payment.gateway_ref)
        .order_by(Transaction.id)).all()
    net: dict[int | None, int] = {}
    for row in rows:  # what of this payment is still applied, per invoice (None: credit)
        net[row.invoice_id] = net.get(row.invoice_id, 0) - row.amount_minor
    order = [None] + [row.invoice_id for row in reversed(rows)
                      if row.kind == "payment" and row.invoice_id is not None]
    remaining = amount
    seen = set()
    for invoice_id in order:
        if remaining <= 0:
            break
        if invoice_id in seen:
            continue
        seen.add(invoice_id)
        take = min(remaining, max(0, net.get(invoice_id, 0)))
        if take <= 0:
            continue
        session.add(Transaction(account_id=payment.account_id, kind=kind, description=description,
                                amount_minor=take, currency=payment.currency,
                                invoice_id=invoice_id, reference=payment.gateway_ref))
        if invoice_id is not None:
            invoice = session.get(Invoice, invoice_id)
            if invoice.status == "paid":
                invoice.status = "open"
                session.add(invoice)
        remaining -= take
    if remaining > 0:
        session.add(Transaction(account_id=payment.account_id, kind=kind, description=description,
                                amount_minor=remaining, currency=payment.currency,
                                reference=payment.gateway_ref))


# -- webhooks -------------------------------------------------------------------------------

def handle_event(session: Session, event: GatewayEvent, gateway_name: str = "stripe") -> str:
    """Apply a verified gateway event once. Redeliveries and out-of-order events change nothing
    they should not: a success is applied once, a failure never undoes a success, a refund
    reported before the success applies the success first."""
    seen = session.exec(select(WebhookEvent.id).where(
        WebhookEvent.gateway == gateway_name, WebhookEvent.event_id == event.id[:120])).first()
    if seen is not None:
        return "duplicate"
    record = WebhookEvent(gateway=gateway_name, event_id=event.id[:120], type=event.type[:64],
                          object_ref=event.object_ref[:120])
    session.add(record)
    payment = session.exec(select(Payment).where(
        Payment.gateway == gateway_name, Payment.gateway_ref == event.object_ref)).first() \
        if event.object_ref else None
    result = "ignored"
    if payment is not None:
        if event.type == "payment_intent.succeeded":
            result = "applied" if apply_success(session, payment) else "already"
        elif event.type in ("payment_intent.payment_failed", "payment_intent.canceled"):
            if payment.applied_at is None and payment.status in IN_FLIGHT:
                _mark_failed(session, payment, "webhook_" + event.type.split(".")[-1], "")
                result = "failed"
            else:
                result = "stale"
        elif event.type == "charge.refunded":
            result = _apply_reversal(session, payment, event.amount_minor, "refund")
        elif event.type == "charge.dispute.created":
            result = _apply_reversal(session, payment, event.amount_minor, "dispute")
    record.result = result
    session.add(record)
    try:
        session.commit()
    except IntegrityError:  # the same event, delivered twice at once: the other one applied it
        session.rollback()
        return "duplicate"
    return result


def _apply_reversal(session: Session, payment: Payment, amount: int, what: str) -> str:
    apply_success(session, payment)  # a refund or dispute implies the charge went through
    session.refresh(payment)
    if what == "refund":
        from rxportal.services import refunds

        return refunds.apply_refunded_total(session, payment, amount)  # amount is cumulative
    else:
        delta = min(amount, payment.amount_minor) - payment.disputed_minor
        if delta <= 0:
            return "already"
        _reverse(session, payment, delta, "adjustment", "Disputed payment")
        payment.disputed_minor += delta
        payment.status = "disputed"
    payment.updated_at = utcnow()
    session.add(payment)
    after_reversal(session, payment, what, delta)
    return what


def after_reversal(session: Session, payment: Payment, what: str, amount: int) -> None:
    """Tell the feature that sold what this payment paid for (a top-off) that `amount` more of
    it was refunded or disputed. Whoever records a refund or dispute of a payment calls this
    once per recorded change, in the same transaction."""
    purpose = _purpose(payment.purpose)
    if purpose is not None:
        purpose.on_reversal(session, payment, what, amount)


# -- autopay (used by the billing run) -------------------------------------------------------

def charge_autopay(session: Session, invoice: Invoice, attempt: int, run_date: date) -> PayOutcome | None:
    """Charge the account's autopay method for what is owed on one invoice, with an idempotency
    key fixed by the invoice and the attempt number. None when there is nothing to do."""
    method = autopay_method(session, invoice.account_id)
    if method is None:
        return None
    owed = dict((inv.id, bal) for inv, bal in invoice_balances(session, invoice.account_id))
    amount = owed.get(invoice.id, 0)
    if amount <= 0:
        return None
    key = f"autopay-{invoice.id}-{attempt}"
    if session.exec(select(Payment).where(Payment.idempotency_key == key)).first() is not None:
        return None
    try:
        settle_in_flight(session, invoice.account_id)
    except PaymentError:
        return None
    payment = Payment(account_id=invoice.account_id, attempt_id=key, idempotency_key=key,
                      purpose="autopay", invoice_ids=[invoice.id], amount_minor=amount,
                      currency=invoice.currency, method_id=method.id, gateway=method.gateway,
                      status="created", inflight_account_id=invoice.account_id,
                      autopay_attempt=attempt, run_date=run_date)
    try:
        return _start(session, payment, off_session=True)
    except PaymentError as problem:
        if problem.code == "unavailable":  # kept "interrupted": made again once it answers
            return PayOutcome(status="interrupted", payment_id=payment.id, attempt_id=key,
                              amount_minor=amount, currency=invoice.currency)
        return None
