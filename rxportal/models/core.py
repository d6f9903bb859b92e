"""Accounts, portal users and their sessions, services and plans, invoices, the ledger,
ISP settings, the e-mail outbox and the audit log."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from rxportal.models.base import utcnow

__all__ = [
    "Account", "AccountPhone", "PortalUser", "UserSession", "AuthToken", "LoginAttempt",
    "Plan", "AccountService", "Invoice", "InvoiceLine", "Transaction", "Setting",
    "OutboxMail", "AuditLog", "AccountStamp",
]


class Account(SQLModel, table=True):
    """One of the ISP's customers: who is billed, in what currency and language, on what day."""
    id: Optional[int] = Field(default=None, primary_key=True)
    number: str = Field(index=True, unique=True, max_length=32)
    name: str = Field(max_length=200)
    email: str = Field(default="", index=True, max_length=254)
    billing_day: int = Field(default=1)  # 1..31; clamped to the month's last day
    currency: str = Field(default="USD", max_length=3)
    language: str = Field(default="en", max_length=8)
    status: str = Field(default="active", max_length=16)  # active | suspended | closed
    usage_alerts: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class AccountPhone(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    number: str = Field(max_length=32)  # E.164
    label: str = Field(default="", max_length=40)
    position: int = Field(default=0)


class PortalUser(SQLModel, table=True):
    """A login for an account; several may share one account."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    username: str = Field(index=True, unique=True, max_length=64)
    password_hash: str = Field(default="", max_length=100)
    must_change_password: bool = Field(default=False)
    temporary_password_expires_at: Optional[datetime] = None
    language: str = Field(default="", max_length=8)  # empty: the ISP's default
    disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: Optional[datetime] = None


class UserSession(SQLModel, table=True):
    """A login session; only the SHA-256 of its random token is stored."""
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portaluser.id", index=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: Optional[datetime] = None
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class AuthToken(SQLModel, table=True):
    """Single-use, expiring tokens: password reset, e-mail confirmation. Stored hashed."""
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portaluser.id", index=True)
    purpose: str = Field(max_length=32)  # reset | confirm_email
    token_hash: str = Field(index=True, unique=True, max_length=64)
    payload: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: Optional[datetime] = None


class LoginAttempt(SQLModel, table=True):
    """Failed logins and throttled look-ups, counted per username and per address."""
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(default="login", max_length=16, index=True)  # login | register | recover
    username: str = Field(default="", max_length=254, index=True)
    ip: str = Field(default="", max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class Plan(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    price_minor: int = Field(sa_type=BigInteger)  # per billing period
    currency: str = Field(default="USD", max_length=3)
    data_cap_bytes: Optional[int] = Field(default=None, sa_type=BigInteger)
    active: bool = Field(default=True)


class AccountService(SQLModel, table=True):
    """A plan subscribed by an account; billed each period while active."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")
    name: str = Field(max_length=120)
    price_minor: int = Field(sa_type=BigInteger)
    status: str = Field(default="active", max_length=16)  # active | ended
    started_on: date
    ended_on: Optional[date] = None


class Invoice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("account_id", "period_start", name="uq_invoice_period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    number: str = Field(index=True, unique=True, max_length=32)
    issued_on: date
    due_on: date
    period_start: Optional[date] = None
    period_end: Optional[date] = None
    currency: str = Field(max_length=3)
    total_minor: int = Field(sa_type=BigInteger)
    status: str = Field(default="open", max_length=16, index=True)  # open | paid | void
    created_at: datetime = Field(default_factory=utcnow)


class InvoiceLine(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    description: str = Field(max_length=200)
    quantity: int = Field(default=1)
    unit_minor: int = Field(sa_type=BigInteger)
    amount_minor: int = Field(sa_type=BigInteger)
    tax_minor: int = Field(default=0, sa_type=BigInteger)


class Transaction(SQLModel, table=True):
    """The ledger. A signed amount in the account's currency: a charge is positive (the customer
    owes more), a payment or credit negative. Balances are sums of these, never stored."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=16)  # charge | payment | credit | refund | adjustment
    description: str = Field(max_length=200)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    occurred_at: datetime = Field(default_factory=utcnow, index=True)
    invoice_id: Optional[int] = Field(default=None, foreign_key="invoice.id", index=True)
    reference: str = Field(default="", max_length=120)  # e.g. a payment's gateway id


class Setting(SQLModel, table=True):
    """One ISP setting (see services/settings.py for the keys and defaults)."""
    key: str = Field(primary_key=True, max_length=64)
    value: Optional[str] = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(default_factory=utcnow)


class AccountStamp(SQLModel, table=True):
    """A counter that database triggers raise on every write to what an account's pages show
    (account_id 0: what every account's pages share, such as settings and plans). A page whose
    stamp is as it was when the tab loaded it need not be read again (services/change_stamps.py;
    the triggers are in migration 0012)."""
    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = Field(default=0)


class OutboxMail(SQLModel, table=True):
    """Every e-mail goes through here first, so a mail server that is down loses nothing."""
    id: Optional[int] = Field(default=None, primary_key=True)
    to_addr: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(default="", sa_column=Column(Text, nullable=False))
    headers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Files sent with the message: [{"path": relative to the data folder, "filename", "mime"}].
    attachments: Optional[list] = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default="queued", max_length=16, index=True)  # queued | sent | failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    last_error: str = Field(default="", max_length=500)
    message_id: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None


class AuditLog(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_type: str = Field(max_length=16)  # customer | staff | system
    actor_id: Optional[int] = None
    actor_name: str = Field(default="", max_length=100)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=120)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip: str = Field(default="", max_length=64)
