"""The two demo customers, their plans, a year of invoices and the ledger behind them."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session

from rxportal.demo import DEMO_PASSWORD
from rxportal.models import (Account, AccountPhone, AccountService, Invoice, InvoiceLine, Plan,
                             PortalUser, Transaction)
from rxportal.services import passwords, periods

ORDER = 10
GB = 1000**3


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=timezone.utc)


def _account(session, number, name, email, billing_day, language, username, plan, phones):
    account = Account(number=number, name=name, email=email, billing_day=billing_day,
                      currency="CAD", language=language)
    session.add(account)
    session.flush()
    session.add(PortalUser(account_id=account.id, username=username, language=language,
                           password_hash=passwords.hash_password(DEMO_PASSWORD)))
    for position, (number_e164, label) in enumerate(phones):
        session.add(AccountPhone(account_id=account.id, number=number_e164, label=label,
                                 position=position))
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                               price_minor=plan.price_minor,
                               started_on=date.today() - timedelta(days=400)))
    return account


def issue_history(session: Session, account: Account, plan: Plan, months: int,
                  unpaid: int, partly_paid_minor: int = 0) -> None:
    """`months` past invoices; the last `unpaid` of them open, the oldest open one partly paid."""
    today = date.today()
    starts = [start for start, _ in periods.previous_periods(account.billing_day, today, months)]
    for index, start in enumerate(starts):
        open_invoice = index >= months - unpaid
        invoice = Invoice(account_id=account.id, number=f"INV-{account.number}-{index + 1:04d}",
                          issued_on=start, due_on=start + timedelta(days=14),
                          period_start=start, period_end=start + timedelta(days=27),
                          currency=account.currency, total_minor=plan.price_minor,
                          status="open" if open_invoice else "paid")
        session.add(invoice)
        session.flush()
        session.add(InvoiceLine(invoice_id=invoice.id, description=plan.name,
                                unit_minor=plan.price_minor, amount_minor=plan.price_minor))
        session.add(Transaction(account_id=account.id, kind="charge", description=plan.name,
                                amount_minor=plan.price_minor, currency=account.currency,
                                occurred_at=_at(start), invoice_id=invoice.id))
        paid = plan.price_minor if not open_invoice else (
            partly_paid_minor if index == months - unpaid else 0)
        if paid:
            session.add(Transaction(account_id=account.id, kind="payment",
                                    description="Payment — thank you", amount_minor=-paid,
                                    currency=account.currency,
                                    occurred_at=_at(start + timedelta(days=5)),
                                    invoice_id=invoice.id))


def load(session: Session, ctx: dict) -> None:
    capped = Plan(name="Fibre 100 — 500 GB", price_minor=6500, currency="CAD",
                  data_cap_bytes=500 * GB)
    unlimited = Plan(name="Fibre 300 Unlimited", price_minor=8999, currency="CAD")
    session.add_all([capped, unlimited])
    session.flush()
    demo = _account(session, "100001", "Alex Martin", "demo@example.net", 15, "en", "demo",
                    capped, [("+16135550142", "Mobile"), ("+16135550199", "Home")])
    demo2 = _account(session, "100002", "Camille Roy", "demo2@example.net", 1, "fr", "demo2",
                     unlimited, [("+15145550123", "Mobile")])
    issue_history(session, demo, capped, months=12, unpaid=2, partly_paid_minor=2000)
    issue_history(session, demo2, unlimited, months=6, unpaid=1)
    ctx.update(demo=demo, demo2=demo2, plans={"capped": capped, "unlimited": unlimited})
