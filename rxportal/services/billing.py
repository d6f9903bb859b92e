"""What the billing page shows, as plain formatted values: the ledger figures, one page of this
period's transactions and of invoices (paged in SQL), saved cards and bank accounts, and the
data cap. Used by the billing state (and timed by bench/bench_billing_page.py)."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from sqlalchemy import func
from sqlmodel import Session, select

from rxportal.models import Account, AccountService, Plan, Transaction
from rxportal.services import i18n, invoices, ledger, payments, periods
from rxportal.services import settings as isp_settings

PAGE_SIZE = 10
KIND_LABELS = {
    "charge": "Charge", "payment": "Payment", "credit": "Credit", "refund": "Refund",
    "adjustment": "Adjustment",
}


def period_start(account: Account, today: date) -> datetime:
    start = periods.period_start_on_or_before(account.billing_day, today)
    return datetime.combine(start, time.min, tzinfo=timezone.utc)


def count_transactions(session: Session, account_id: int, since: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(Transaction).where(
        Transaction.account_id == account_id, Transaction.occurred_at >= since)).one())


def list_transactions(session: Session, account_id: int, since: datetime, offset: int = 0,
                      limit: int = PAGE_SIZE) -> list[Transaction]:
    return list(session.exec(
        select(Transaction).where(Transaction.account_id == account_id,
                                  Transaction.occurred_at >= since)
        .order_by(Transaction.occurred_at.desc(), Transaction.id.desc())
        .offset(max(0, offset)).limit(max(1, min(limit, 100)))))


def data_cap(session: Session, account_id: int) -> int | None:
    caps = session.exec(select(Plan.data_cap_bytes).join(
        AccountService, AccountService.plan_id == Plan.id).where(
        AccountService.account_id == account_id, AccountService.status == "active",
        Plan.data_cap_bytes.is_not(None))).all()
    return sum(caps) if caps else None


def pages(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def _formatters(account: Account, lang: str, country: str):
    """Money in the account's currency, days and labels, in `lang`."""
    return (lambda minor: i18n.format_money(minor, account.currency, lang, country),
            lambda d: i18n.format_day(d, lang, country),
            lambda msgid: i18n.translate(lang, msgid))


def _transactions_page(session: Session, account: Account, formats, since: datetime,
                       page: int) -> dict:
    money, day, tr = formats
    total = count_transactions(session, account.id, since)
    last = pages(total)
    page = min(max(0, page), last - 1)
    rows = [{
        "id": str(row.id),
        "type": row.description if row.kind == "charge" and row.description
        else tr(KIND_LABELS.get(row.kind, row.kind)),
        "kind": tr(KIND_LABELS.get(row.kind, row.kind)),
        "date": day(row.occurred_at),
        "amount": money(row.amount_minor),
    } for row in list_transactions(session, account.id, since, page * PAGE_SIZE)]
    return {"transactions": rows, "tx_page": page, "tx_pages": last, "tx_total": total}


def _invoices_page(session: Session, account: Account, formats, page: int) -> dict:
    money, day, tr = formats
    total = invoices.count_invoices(session, account.id)
    last = pages(total)
    page = min(max(0, page), last - 1)
    rows = [{
        "id": str(row.id),
        "number": row.number,
        "created": day(row.issued_on),
        "due": money(row.due_minor),
        "due_date": day(row.due_on),
        "status": tr("Paid") if row.status == "paid" else tr("Open") if row.status == "open"
        else tr("Void"),
        "open": "1" if row.due_minor > 0 else "",
    } for row in invoices.list_invoices(session, account.id, page * PAGE_SIZE, PAGE_SIZE)]
    return {"invoices": rows, "inv_page": page, "inv_pages": last, "inv_total": total}


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise payments.NotFound("account")
    return account


def table_page(session: Session, account_id: int, lang: str, table: str, page: int,
               today: date | None = None) -> dict:
    """One page of one of the billing page's tables ("transactions" or "invoices"): what its
    previous / next buttons read, without the rest of the page (5 statements instead of 16)."""
    account = _account(session, account_id)
    formats = _formatters(account, lang, isp_settings.get(session, "country"))
    if table == "transactions":
        since = period_start(account, today or date.today())
        return _transactions_page(session, account, formats, since, page)
    return _invoices_page(session, account, formats, page)


def view(session: Session, account_id: int, lang: str, tx_page: int = 0, inv_page: int = 0,
         today: date | None = None) -> dict:
    """Everything the billing page shows for one account, formatted for `lang`."""
    account = _account(session, account_id)
    today = today or date.today()
    country = isp_settings.get(session, "country")
    formats = _formatters(account, lang, country)
    money, day, tr = formats

    figures = ledger.figures(session, account_id, today)
    since = period_start(account, today)
    tx_table = _transactions_page(session, account, formats, since, tx_page)
    inv_table = _invoices_page(session, account, formats, inv_page)

    cards, banks = [], []
    for method in payments.list_methods(session, account_id):
        entry = {
            "id": str(method.id),
            "brand": (method.brand or "card").title() if method.kind == "card" else
            method.brand or tr("Bank account"),
            "last4": method.last4,
            "masked": f"•••• {method.last4}",
            "expiry": f"{method.exp_month:02d}/{method.exp_year}" if method.exp_month else "",
            "autopay": "1" if method.autopay else "",
        }
        (cards if method.kind == "card" else banks).append(entry)

    cap = data_cap(session, account_id)
    usage = _usage_summary(session, account_id, lang, country, today, cap) if cap else None
    return {
        "account_name": account.name,
        "currency": account.currency,
        "amount_due": money(figures.amount_due),
        "amount_due_minor": figures.amount_due,
        "open_invoices": figures.open_invoices,
        "total_balance": money(figures.total_balance),
        "next_cycle_amount": money(figures.next_cycle_amount),
        "next_billing_date": day(figures.next_billing_date),
        "period_start": day(since),
        **tx_table,
        **inv_table,
        "cards": cards, "banks": banks,
        "bank_kind": payments.bank_kind_for(session, account_id),
        "has_cap": cap is not None,
        "cap": (usage.cap if usage else
                i18n.format_number(round(cap / 1000**3), lang, country) + " GB") if cap else "",
        "usage_used": usage.used if usage else "",
        "usage_percent": int(usage.percent) if usage else 0,
    }


def _usage_summary(session: Session, account_id: int, lang: str, country: str, today: date,
                   cap: int):
    """The usage feature's summary for this page (used, cap, percent), when it is installed."""
    try:
        from rxportal.services import usage
    except ImportError:
        return None
    summary = getattr(usage, "billing_summary", None)
    return summary(session, account_id, lang, country, today, known_cap=cap) if summary else None


def _for_session(token: str, read):
    """(user, read(session, user)) for a live session token, in one session; (None, None)
    otherwise."""
    from rxportal import db
    from rxportal.services import auth

    if not token:
        return None, None
    with db.session_scope() as session:  # one connection from the pool for both
        user = auth.current_user(session, token)
        if user is None:
            return None, None
        return user, read(session, user)


def load_for_session(token: str, lang: str, tx_page: int = 0, inv_page: int = 0):
    """The billing page's load through the service layer: check the session, then read the
    page's data, in one session (BillingState.load_billing does the same work through
    `page_load` and `load_for_account`; the benches time this one)."""
    return _for_session(token, lambda session, user: view(session, user.account_id, lang,
                                                          tx_page, inv_page))


def table_for_session(token: str, lang: str, table: str, page: int):
    """A table's previous / next page: check the session, then read that page only."""
    return _for_session(token, lambda session, user: table_page(session, user.account_id,
                                                                lang, table, page))


def load_for_account(account_id: int, lang: str, tx_page: int = 0, inv_page: int = 0) -> dict:
    """The billing view of an account whose session was just checked (the page's load)."""
    from rxportal import db

    with db.session_scope() as session:
        return view(session, account_id, lang, tx_page, inv_page)


def open_invoice_choices(session: Session, account_id: int, lang: str, limit: int = 50) -> list[dict]:
    """The open invoices a customer can choose to pay, oldest first."""
    account = session.get(Account, account_id)
    country = isp_settings.get(session, "country")
    return [{
        "id": str(invoice.id), "number": invoice.number,
        "due": i18n.format_money(balance, account.currency, lang, country),
        "due_date": i18n.format_day(invoice.due_on, lang, country),
    } for invoice, balance in payments.invoice_balances(session, account_id)[:limit]]
