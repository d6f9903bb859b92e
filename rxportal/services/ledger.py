"""The account's figures, derived from the ledger in SQL and never stored twice.

- amount due: what is still owed on open invoices (each invoice's charges less what was applied
  to it, never below zero);
- total balance: the sum of every transaction (negative means credit);
- next billing cycle amount: the active services' prices, less any credit;
- next billing date: when the next period starts (and data usage resets).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import Integer, bindparam, case, func
from sqlmodel import Session, select

from rxportal.models import Account, AccountService, Invoice, Transaction
from rxportal.services import periods


@dataclass(frozen=True)
class Figures:
    currency: str
    amount_due: int
    open_invoices: int
    total_balance: int
    next_cycle_amount: int
    next_billing_date: date


def invoice_balances_query(account_id: int):
    """(invoice id, balance) for each open invoice of the account."""
    balance = func.coalesce(func.sum(Transaction.amount_minor), 0).label("balance")
    return (
        select(Invoice.id, balance)
        .join(Transaction, Transaction.invoice_id == Invoice.id, isouter=True)
        .where(Invoice.account_id == account_id, Invoice.status == "open")
        .group_by(Invoice.id)
    )


def _amount_due_columns(account_id: int):
    """(amount due, number of open invoices with something still owed), as SQL."""
    balances = invoice_balances_query(account_id).subquery()
    owed = case((balances.c.balance > 0, balances.c.balance), else_=0)
    return (select(func.coalesce(func.sum(owed), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(case((balances.c.balance > 0, 1), else_=0)), 0))
            .scalar_subquery())


def _total_balance_column(account_id: int):
    return select(func.coalesce(func.sum(Transaction.amount_minor), 0)).where(
        Transaction.account_id == account_id).scalar_subquery()


def _services_total_column(account_id: int):
    return select(func.coalesce(func.sum(AccountService.price_minor), 0)).where(
        AccountService.account_id == account_id, AccountService.status == "active"
    ).scalar_subquery()


@lru_cache(maxsize=1)
def _figures_statement():
    """The four figures in one round trip (every page shows the amount due, and each query waits
    on the database), built once: building it took a quarter of a billing page's load."""
    account_id = bindparam("account_id", type_=Integer)
    return select(*_amount_due_columns(account_id), _total_balance_column(account_id),
                  _services_total_column(account_id))


def amount_due(session: Session, account_id: int) -> tuple[int, int]:
    """(amount due, number of open invoices with something still owed)."""
    total, count = session.exec(select(*_amount_due_columns(account_id))).one()
    return int(total), int(count)


def total_balance(session: Session, account_id: int) -> int:
    return int(session.exec(select(_total_balance_column(account_id))).one())


def services_total(session: Session, account_id: int) -> int:
    return int(session.exec(select(_services_total_column(account_id))).one())


def next_cycle_amount(session: Session, account_id: int, balance: int | None = None) -> int:
    balance = total_balance(session, account_id) if balance is None else balance
    return _with_credit(services_total(session, account_id), balance)


def _with_credit(services: int, balance: int) -> int:
    """The next cycle's services, less any credit (a negative balance), never below zero."""
    return max(0, services + min(0, balance))


def figures(session: Session, account_id: int, today: date | None = None) -> Figures:
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError("account not found")
    today = today or date.today()
    due, open_count, balance, services = session.exec(
        _figures_statement(), params={"account_id": account_id}).one()
    return Figures(
        currency=account.currency,
        amount_due=int(due),
        open_invoices=int(open_count),
        total_balance=int(balance),
        next_cycle_amount=_with_credit(int(services), int(balance)),
        next_billing_date=periods.next_period_start(account.billing_day, today),
    )
