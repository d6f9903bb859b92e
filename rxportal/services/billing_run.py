"""The billing run: for every active account whose billing day it is, issue the invoice for its
active services (credit applied), then charge autopay for what is still owed, retrying failed
autopay on a schedule. Running it twice for the same date changes nothing the second time:
an invoice is unique per account and period, and an autopay attempt is unique per invoice and
attempt number and is made at most once per run date.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import func, or_
from sqlmodel import Session, select

from rxportal import db
from rxportal.models import Account, AccountService, Invoice, InvoiceLine, Transaction
from rxportal.models.billing import Payment, PaymentMethod
from rxportal.services import audit, i18n, mail, payments, periods
from rxportal.services import settings as isp_settings

isp_settings.register("invoice_due_days", 14)
isp_settings.register("autopay_retry_days", [3, 7])  # days after the invoice to try again


@dataclass
class RunResult:
    day: date
    accounts: int = 0
    invoiced: int = 0
    charged: int = 0
    failed: int = 0
    interrupted: int = 0  # autopay charges the gateway did not answer: made again later
    errors: list[str] = field(default_factory=list)


def accounts_billed_on(session: Session, day: date) -> list[int]:
    """Active accounts whose billing date (the billing day clamped to the month) is `day`."""
    last = calendar.monthrange(day.year, day.month)[1]
    condition = Account.billing_day == day.day if day.day < last else Account.billing_day >= day.day
    return list(session.exec(select(Account.id).where(Account.status == "active", condition)
                             .order_by(Account.id)))


def issue_invoice(session: Session, account: Account, day: date) -> Invoice | None:
    """The invoice for the period starting `day` (None when it exists or nothing is billed)."""
    if session.exec(select(Invoice.id).where(Invoice.account_id == account.id,
                                             Invoice.period_start == day)).first() is not None:
        return None
    services = session.exec(select(AccountService).where(
        AccountService.account_id == account.id, AccountService.status == "active",
        AccountService.started_on <= day,
        or_(AccountService.ended_on.is_(None), AccountService.ended_on >= day))
        .order_by(AccountService.id)).all()
    services = [s for s in services if s.price_minor > 0]
    if not services:
        return None
    total = sum(s.price_minor for s in services)
    count = session.exec(select(func.count()).select_from(Invoice).where(
        Invoice.account_id == account.id)).one()
    number = f"INV-{account.number}-{count + 1:04d}"
    if session.exec(select(Invoice.id).where(Invoice.number == number)).first() is not None:
        number = f"INV-{account.number}-{day:%Y%m%d}"
    due_days = int(isp_settings.get(session, "invoice_due_days"))
    invoice = Invoice(account_id=account.id, number=number, issued_on=day,
                      due_on=day + timedelta(days=due_days), period_start=day,
                      period_end=periods.next_period_start(account.billing_day, day)
                      - timedelta(days=1),
                      currency=account.currency, total_minor=total)
    session.add(invoice)
    session.flush()
    for service in services:
        session.add(InvoiceLine(invoice_id=invoice.id, description=service.name,
                                unit_minor=service.price_minor, amount_minor=service.price_minor))
        session.add(Transaction(account_id=account.id, kind="charge", description=service.name,
                                amount_minor=service.price_minor, currency=account.currency,
                                invoice_id=invoice.id))
    credit = min(payments.unapplied_credit(session, account.id), total)
    if credit > 0:
        # Move credit onto the invoice: the total balance does not change.
        session.add(Transaction(account_id=account.id, kind="credit",
                                description=f"Credit applied to {number}", amount_minor=credit,
                                currency=account.currency))
        session.add(Transaction(account_id=account.id, kind="credit",
                                description="Credit applied", amount_minor=-credit,
                                currency=account.currency, invoice_id=invoice.id))
        if credit == total:
            invoice.status = "paid"
    session.add(invoice)
    audit.record(session, "invoice.issued", actor_type="system", target=f"invoice:{invoice.id}",
                 total_minor=total, credit_minor=credit)
    _queue_invoice_mail(session, account, invoice, total - credit)
    return invoice


def _queue_invoice_mail(session: Session, account: Account, invoice: Invoice, due: int) -> None:
    if not account.email:
        return
    lang = i18n.normalize_language(account.language)
    country = isp_settings.get(session, "country")
    money = lambda minor: i18n.format_money(minor, invoice.currency, lang, country)  # noqa: E731
    day = lambda d: i18n.format_day(d, lang, country)  # noqa: E731
    has_autopay = payments.autopay_method(session, account.id) is not None
    note = i18n.translate(lang, "It will be charged automatically to your autopay method.") \
        if has_autopay and due > 0 else ""
    mail.queue(session, account.email, "invoice_issued", lang, name=account.name,
               number=invoice.number, total=money(invoice.total_minor), amount_due=money(due),
               due_on=day(invoice.due_on),
               period=f"{day(invoice.period_start)} – {day(invoice.period_end)}",
               autopay_note=note)


def autopay_offsets(session: Session) -> list[int]:
    retries = isp_settings.get(session, "autopay_retry_days") or []
    return [0] + sorted(int(d) for d in retries if int(d) > 0)


def autopay_due(session: Session, account_id: int, day: date) -> list[tuple[Invoice, int]]:
    """(invoice, attempt number) for each autopay charge to make today on this account."""
    offsets = autopay_offsets(session)
    window = day - timedelta(days=offsets[-1])
    todo = []
    for invoice, _balance in payments.invoice_balances(session, account_id):
        if not (window <= invoice.issued_on <= day):
            continue
        attempts = session.exec(select(Payment).where(
            Payment.purpose == "autopay", Payment.account_id == account_id)
            .order_by(Payment.autopay_attempt)).all()
        attempts = [p for p in attempts if invoice.id in (p.invoice_ids or [])]
        if any(p.run_date == day for p in attempts):
            continue  # this date's run already tried it
        if any(p.status in payments.IN_FLIGHT + ("succeeded",) for p in attempts):
            continue
        number = len(attempts) + 1
        if number > len(offsets) or day < invoice.issued_on + timedelta(days=offsets[number - 1]):
            continue
        todo.append((invoice, number))
    return todo


def _retry_interrupted(session: Session, account_id: int) -> int:
    """Autopay charges that an earlier run could not make (the gateway was down): made now, with
    their own idempotency key. How many succeeded."""
    interrupted = session.exec(select(Payment.id).where(
        Payment.account_id == account_id, Payment.purpose == "autopay",
        Payment.status == "interrupted")).all()
    if not interrupted:
        return 0
    try:
        payments.settle_in_flight(session, account_id, ("interrupted",), retry_autopay=True)
    except payments.PaymentError:
        return 0  # still down: the settling job or the next run tries again
    return len(session.exec(select(Payment.id).where(
        Payment.id.in_(interrupted), Payment.status == "succeeded")).all())


def run(day: date, scope: Callable = db.session_scope,
        progress: Callable[[int], None] | None = None) -> RunResult:
    """Bill every account due on `day`, each in its own transaction."""
    result = RunResult(day=day)
    with scope() as session:
        due_ids = accounts_billed_on(session, day)
        autopay_ids = set(session.exec(select(PaymentMethod.account_id).where(
            PaymentMethod.autopay.is_(True), PaymentMethod.removed_at.is_(None))).all())
    for index, account_id in enumerate(due_ids):
        result.accounts += 1
        try:
            with scope() as session:
                account = session.get(Account, account_id)
                if issue_invoice(session, account, day) is not None:
                    result.invoiced += 1
        except Exception as error:  # noqa: BLE001 - one account's problem does not stop the run
            result.errors.append(f"account {account_id}: {error}")
        if progress:
            progress(index)
    for account_id in sorted(autopay_ids):
        try:
            with scope() as session:
                result.charged += _retry_interrupted(session, account_id)
                for invoice, attempt in autopay_due(session, account_id, day):
                    outcome = payments.charge_autopay(session, invoice, attempt, day)
                    if outcome is None:
                        continue
                    if outcome.status == "succeeded":
                        result.charged += 1
                    elif outcome.status == "failed":
                        result.failed += 1
                    elif outcome.status == "interrupted":
                        result.interrupted += 1
        except Exception as error:  # noqa: BLE001
            result.errors.append(f"autopay {account_id}: {error}")
    return result
