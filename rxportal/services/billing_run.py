"""The billing run: for every active account whose billing day it is, issue the invoice for its
active services (credit applied), then charge autopay for what is still owed, retrying failed
autopay on a schedule. Running it twice for the same date changes nothing the second time:
an invoice is unique per account and period, and an autopay attempt is unique per invoice and
attempt number and is made at most once per run date.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import func, insert, or_
from sqlmodel import Session, select

from rxportal import db
from rxportal.models import (Account, AccountService, AuditLog, Invoice, InvoiceLine,
                             Transaction)
from rxportal.models.base import bulk_rows
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


@dataclass
class RunContext:
    """What every account of a run shares, read once: settings, mail values, autopay accounts,
    and the amounts and dates already formatted (most accounts share them)."""
    due_days: int
    country: str
    mail_values: dict
    autopay_ids: set[int]
    _formatted: dict = field(default_factory=dict)

    def money(self, minor: int, currency: str, lang: str) -> str:
        key = ("money", minor, currency, lang)
        if key not in self._formatted:
            self._formatted[key] = i18n.format_money(minor, currency, lang, self.country)
        return self._formatted[key]

    def day(self, value: date, lang: str) -> str:
        key = ("day", value, lang)
        if key not in self._formatted:
            self._formatted[key] = i18n.format_day(value, lang, self.country)
        return self._formatted[key]


def run_context(session: Session) -> RunContext:
    values = isp_settings.get_many(session, ["invoice_due_days", "country"])
    autopay_ids = set(session.exec(select(PaymentMethod.account_id).where(
        PaymentMethod.autopay.is_(True), PaymentMethod.removed_at.is_(None))).all())
    return RunContext(int(values["invoice_due_days"]), values["country"],
                      mail.shared_values(session), autopay_ids)


def issue_invoice(session: Session, account: Account, day: date) -> Invoice | None:
    """The invoice for the period starting `day` (None when it exists or nothing is billed)."""
    issued = issue_invoices(session, [account.id], day, run_context(session))
    return issued[0] if issued else None


def issue_invoices(session: Session, account_ids: list[int], day: date,
                   context: RunContext) -> list[Invoice]:
    """The invoices for the period starting `day` of these accounts (those not issued yet and
    with something to bill), with a handful of queries for the whole batch."""
    accounts = {a.id: a for a in session.exec(select(Account).where(Account.id.in_(account_ids)))}
    issued = set(session.exec(select(Invoice.account_id).where(
        Invoice.account_id.in_(account_ids), Invoice.period_start == day)).all())
    services: dict[int, list[AccountService]] = defaultdict(list)
    for service in session.exec(select(AccountService).where(
            AccountService.account_id.in_([i for i in account_ids if i not in issued]),
            AccountService.status == "active", AccountService.started_on <= day,
            or_(AccountService.ended_on.is_(None), AccountService.ended_on >= day),
            AccountService.price_minor > 0).order_by(AccountService.account_id, AccountService.id)):
        services[service.account_id].append(service)
    todo = [accounts[i] for i in account_ids if i in accounts and services.get(i)]
    ids = [account.id for account in todo]
    if not todo:
        return []
    counts = dict(session.exec(select(Invoice.account_id, func.count()).where(
        Invoice.account_id.in_(ids)).group_by(Invoice.account_id)).all())
    # Money paid but not applied to an invoice (payments.unapplied_credit, for the batch).
    credits = {account_id: max(0, -int(total)) for account_id, total in session.exec(
        select(Transaction.account_id, func.sum(Transaction.amount_minor)).where(
            Transaction.account_id.in_(ids), Transaction.invoice_id.is_(None))
        .group_by(Transaction.account_id)).all()}
    numbers = {a.id: f"INV-{a.number}-{counts.get(a.id, 0) + 1:04d}" for a in todo}
    taken = set(session.exec(select(Invoice.number).where(
        Invoice.number.in_(list(numbers.values())))).all())
    # Rows, not objects: the batch is written with one INSERT per table.
    drafts = []
    for account in todo:
        number = numbers[account.id]
        total = sum(s.price_minor for s in services[account.id])
        credit = min(credits.get(account.id, 0), total)
        drafts.append({
            "account_id": account.id,
            "number": number if number not in taken else f"INV-{account.number}-{day:%Y%m%d}",
            "issued_on": day, "due_on": day + timedelta(days=context.due_days),
            "period_start": day,
            "period_end": periods.next_period_start(account.billing_day, day) - timedelta(days=1),
            "currency": account.currency, "total_minor": total,
            "status": "paid" if credit == total else "open", "credit": credit})
    ids = session.scalars(insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True),
                          bulk_rows(Invoice, [{k: v for k, v in d.items() if k != "credit"}
                                              for d in drafts])).all()
    lines, ledger_rows, audit_rows, mails = [], [], [], []
    for account, draft, invoice_id in zip(todo, drafts, ids):
        _bill(account, draft, invoice_id, services[account.id], lines, ledger_rows)
        audit_rows.append(audit.entry("invoice.issued", actor_type="system",
                                      target=f"invoice:{invoice_id}",
                                      total_minor=draft["total_minor"],
                                      credit_minor=draft["credit"]))
        if account.email:
            mails.append(_invoice_mail(account, draft, context))
    for model, rows in ((InvoiceLine, lines), (Transaction, ledger_rows), (AuditLog, audit_rows)):
        if rows:
            session.execute(insert(model), bulk_rows(model, rows))
    mail.queue_rows(session, mails)
    return list(session.exec(select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)))


def _bill(account: Account, draft: dict, invoice_id: int, services: list[AccountService],
          lines: list[dict], ledger_rows: list[dict]) -> None:
    """The invoice's lines and ledger entries, with the credit moved onto it."""
    for service in services:
        lines.append({"invoice_id": invoice_id, "description": service.name,
                      "unit_minor": service.price_minor, "amount_minor": service.price_minor})
        ledger_rows.append({"account_id": account.id, "kind": "charge",
                            "description": service.name, "amount_minor": service.price_minor,
                            "currency": account.currency, "invoice_id": invoice_id})
    credit = draft["credit"]
    if credit > 0:
        # Move credit onto the invoice: the total balance does not change.
        ledger_rows.append({"account_id": account.id, "kind": "credit",
                            "description": f"Credit applied to {draft['number']}",
                            "amount_minor": credit, "currency": account.currency,
                            "invoice_id": None})
        ledger_rows.append({"account_id": account.id, "kind": "credit",
                            "description": "Credit applied", "amount_minor": -credit,
                            "currency": account.currency, "invoice_id": invoice_id})


def _invoice_mail(account: Account, draft: dict, context: RunContext) -> dict:
    lang = i18n.normalize_language(account.language)
    money = lambda minor: context.money(minor, draft["currency"], lang)  # noqa: E731
    day = lambda d: context.day(d, lang)  # noqa: E731
    due = draft["total_minor"] - draft["credit"]
    note = i18n.translate(lang, "It will be charged automatically to your autopay method.") \
        if account.id in context.autopay_ids and due > 0 else ""
    return mail.compose(account.email, "invoice_issued", lang, context.mail_values,
                        name=account.name, number=draft["number"],
                        total=money(draft["total_minor"]), amount_due=money(due),
                        due_on=day(draft["due_on"]),
                        period=f"{day(draft['period_start'])} – {day(draft['period_end'])}",
                        autopay_note=note)


def autopay_offsets(session: Session) -> list[int]:
    retries = isp_settings.get(session, "autopay_retry_days") or []
    return [0] + sorted(int(d) for d in retries if int(d) > 0)


def autopay_due(session: Session, account_id: int, day: date) -> list[tuple[Invoice, int]]:
    """(invoice, attempt number) for each autopay charge to make today on this account."""
    offsets = autopay_offsets(session)
    window = day - timedelta(days=offsets[-1])
    open_invoices = [invoice for invoice, _balance in payments.invoice_balances(session, account_id)
                     if window <= invoice.issued_on <= day]
    if not open_invoices:
        return []
    all_attempts = session.exec(select(Payment).where(
        Payment.purpose == "autopay", Payment.account_id == account_id)
        .order_by(Payment.autopay_attempt)).all()
    todo = []
    for invoice in open_invoices:
        attempts = [p for p in all_attempts if invoice.id in (p.invoice_ids or [])]
        if any(p.run_date == day for p in attempts):
            continue  # this date's run already tried it
        if any(p.status in payments.IN_FLIGHT + ("succeeded",) for p in attempts):
            continue
        number = len(attempts) + 1
        if number > len(offsets) or day < invoice.issued_on + timedelta(days=offsets[number - 1]):
            continue
        todo.append((invoice, number))
    return todo


def _interrupted_autopay(session: Session) -> dict[int, list[int]]:
    """Autopay charges that an earlier run could not make (the gateway was down), per account:
    one query for the whole run."""
    rows = session.exec(select(Payment.account_id, Payment.id).where(
        Payment.purpose == "autopay", Payment.status == "interrupted")).all()
    found: dict[int, list[int]] = {}
    for account_id, payment_id in rows:
        found.setdefault(account_id, []).append(payment_id)
    return found


def _retry_interrupted(session: Session, account_id: int, interrupted: list[int]) -> int:
    """Make the account's interrupted autopay charges now, with their own idempotency key.
    How many succeeded."""
    if not interrupted:
        return 0
    try:
        payments.settle_in_flight(session, account_id, ("interrupted",), retry_autopay=True)
    except payments.PaymentError:
        return 0  # still down: the settling job or the next run tries again
    return len(session.exec(select(Payment.id).where(
        Payment.id.in_(interrupted), Payment.status == "succeeded")).all())


BATCH_SIZE = 500


def run(day: date, scope: Callable = db.session_scope,
        progress: Callable[[int], None] | None = None) -> RunResult:
    """Bill every account due on `day`, a batch of accounts per transaction. A batch that fails
    is rolled back whole and done again one account per transaction, so that one account's
    problem does not stop the others. `progress` gets the number of accounts done so far."""
    result = RunResult(day=day)
    with scope() as session:
        due_ids = accounts_billed_on(session, day)
        context = run_context(session)
        interrupted = _interrupted_autopay(session)
    for start in range(0, len(due_ids), BATCH_SIZE):
        batch = due_ids[start:start + BATCH_SIZE]
        try:
            with scope() as session:
                result.invoiced += len(issue_invoices(session, batch, day, context))
        except Exception:  # noqa: BLE001 - find the account at fault, bill the others
            for account_id in batch:
                try:
                    with scope() as session:
                        result.invoiced += len(issue_invoices(session, [account_id], day, context))
                except Exception as error:  # noqa: BLE001
                    result.errors.append(f"account {account_id}: {error}")
        result.accounts += len(batch)
        if progress:
            progress(result.accounts)
    for account_id in sorted(context.autopay_ids):
        try:
            with scope() as session:
                result.charged += _retry_interrupted(session, account_id,
                                                     interrupted.get(account_id, []))
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
