"""Payments: saved payment methods (gateway references only), payment attempts, the gateway
customer of each account, and the webhook events already applied."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, Index, JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from rxportal.models.base import utcnow
from rxportal.models.core import Invoice, Transaction

# The billing page reads one account's ledger by time and sums it: this index covers both, so
# an account with 10,000 transactions loads as fast as a new one (bench/bench_billing_page.py).
Index("ix_transaction_account_time_amount", Transaction.account_id, Transaction.occurred_at,
      Transaction.amount_minor)
# The total balance sums an account's whole ledger: over this narrower index it reads half the
# pages of the one above (SQLite, 20,000 rows: 2.0 → 1.1 ms; bench/bench_history.py).
Index("ix_transaction_account_amount", Transaction.account_id, Transaction.amount_minor)
Index("ix_invoice_account_issued", Invoice.account_id, Invoice.issued_on)
# The amount due sums the open invoices only: an account with years of paid ones reads just those.
Index("ix_invoice_account_status", Invoice.account_id, Invoice.status)

__all__ = ["GatewayCustomer", "PaymentMethod", "Payment", "Refund", "WebhookEvent"]


class GatewayCustomer(SQLModel, table=True):
    """The payment gateway's customer object for an account (one per account and gateway)."""
    __table_args__ = (UniqueConstraint("account_id", "gateway", name="uq_gateway_customer"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    gateway: str = Field(default="stripe", max_length=16)
    customer_ref: str = Field(max_length=120, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class PaymentMethod(SQLModel, table=True):
    """A card or bank account kept by the gateway; we store its reference and what the customer
    needs to recognise it (brand, last four digits, expiry), never a number."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    gateway: str = Field(default="stripe", max_length=16)
    gateway_ref: str = Field(max_length=120, index=True)
    kind: str = Field(max_length=16)  # card | sepa_debit | acss_debit | us_bank_account
    brand: str = Field(default="", max_length=32)  # visa, mastercard... or the bank's name/code
    last4: str = Field(default="", max_length=4)
    exp_month: Optional[int] = None
    exp_year: Optional[int] = None
    autopay: bool = Field(default=False)
    saved: bool = Field(default=True)  # False: used for one payment, not shown in the list
    created_at: datetime = Field(default_factory=utcnow)
    removed_at: Optional[datetime] = None


class Payment(SQLModel, table=True):
    """One payment attempt. `attempt_id` is issued by the server before anything is charged;
    the gateway call carries `idempotency_key`, derived from it (or, for autopay, from the
    invoice and attempt number). The ledger entries are written once, when `applied_at` is set
    in the same transaction."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    attempt_id: str = Field(max_length=64, unique=True, index=True)
    idempotency_key: str = Field(max_length=120, unique=True)
    purpose: str = Field(max_length=16)  # amount_due | invoices | other | autopay | topoff
    invoice_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    method_id: Optional[int] = Field(default=None, foreign_key="paymentmethod.id")
    gateway: str = Field(default="stripe", max_length=16)
    gateway_ref: str = Field(default="", max_length=120, index=True)  # PaymentIntent id
    # created | processing | requires_action | succeeded | failed | interrupted | refunded | disputed
    status: str = Field(default="created", max_length=16, index=True)
    failure_code: str = Field(default="", max_length=64)
    failure_message: str = Field(default="", max_length=300)
    refunded_minor: int = Field(default=0, sa_type=BigInteger)
    disputed_minor: int = Field(default=0, sa_type=BigInteger)
    autopay_attempt: int = Field(default=0)  # 1, 2, 3... for autopay; 0 otherwise
    run_date: Optional[date] = None  # the billing run that made this autopay attempt
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    applied_at: Optional[datetime] = None
    # The account's id while this payment is in flight, NULL otherwise: the unique index lets
    # the database itself refuse a second payment in flight for the same account.
    inflight_account_id: Optional[int] = Field(default=None, unique=True)


class WebhookEvent(SQLModel, table=True):
    """A gateway event already applied: a redelivery finds it here and changes nothing."""
    __table_args__ = (UniqueConstraint("gateway", "event_id", name="uq_webhook_event"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    gateway: str = Field(default="stripe", max_length=16)
    event_id: str = Field(max_length=120)
    type: str = Field(max_length=64)
    object_ref: str = Field(default="", max_length=120)
    received_at: datetime = Field(default_factory=utcnow)
    result: str = Field(default="", max_length=120)


class Refund(SQLModel, table=True):
    """A refund of (part of) a payment, asked for by staff. `number` counts the payment's
    refunds (1, 2...); the gateway call carries `idempotency_key`, fixed by payment and number.
    The ledger entries are written once, when `applied_at` is set with the gateway's answer."""
    __table_args__ = (UniqueConstraint("payment_id", "number", name="uq_refund_number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    number: int
    attempt_id: str = Field(max_length=64, unique=True)  # issued with the form: a repeat resumes
    idempotency_key: str = Field(max_length=120, unique=True)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=200)
    gateway_ref: str = Field(default="", max_length=120)  # re_...
    status: str = Field(default="created", max_length=16)  # created | interrupted | succeeded | failed
    failure_message: str = Field(default="", max_length=300)
    staff_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    applied_at: Optional[datetime] = None
    # The payment's id while this refund is in flight, NULL otherwise: one refund at a time.
    inflight_payment_id: Optional[int] = Field(default=None, unique=True)
