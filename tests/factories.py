"""Small builders for test data (real rows in the test database)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from rxportal.models import Account, AccountService, Invoice, Plan, PortalUser, Transaction
from rxportal.services import passwords


def make_account(session, number="900001", email="pat@example.org", billing_day=1,
                 currency="CAD", language="en", name="Pat Doe") -> Account:
    account = Account(number=number, name=name, email=email, billing_day=billing_day,
                      currency=currency, language=language)
    session.add(account)
    session.flush()
    return account


def make_user(session, account, username="pat", password="a long enough secret",
              **fields) -> PortalUser:
    user = PortalUser(account_id=account.id, username=username,
                      password_hash=passwords.hash_password(password), **fields)
    session.add(user)
    session.flush()
    return user


def make_service(session, account, price_minor=5000, active=True) -> AccountService:
    plan = Plan(name="Plan", price_minor=price_minor, currency=account.currency)
    session.add(plan)
    session.flush()
    service = AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                             price_minor=price_minor, status="active" if active else "ended",
                             started_on=date(2026, 1, 1))
    session.add(service)
    session.flush()
    return service


def make_invoice(session, account, total_minor, paid_minor=0, status="open",
                 number=None, issued=date(2026, 10, 1)) -> Invoice:
    invoice = Invoice(account_id=account.id, number=number or f"T-{account.id}-{total_minor}-{paid_minor}-{issued}",
                      issued_on=issued, due_on=issued, currency=account.currency,
                      total_minor=total_minor, status=status, period_start=None)
    session.add(invoice)
    session.flush()
    at = datetime(issued.year, issued.month, issued.day, tzinfo=timezone.utc)
    session.add(Transaction(account_id=account.id, kind="charge", description="Service",
                            amount_minor=total_minor, currency=account.currency,
                            occurred_at=at, invoice_id=invoice.id))
    if paid_minor:
        session.add(Transaction(account_id=account.id, kind="payment", description="Payment",
                                amount_minor=-paid_minor, currency=account.currency,
                                occurred_at=at, invoice_id=invoice.id))
    session.flush()
    return invoice


def add_transaction(session, account, amount_minor, kind="credit") -> Transaction:
    tx = Transaction(account_id=account.id, kind=kind, description=kind,
                     amount_minor=amount_minor, currency=account.currency)
    session.add(tx)
    session.flush()
    return tx
