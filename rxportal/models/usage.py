"""Data usage: per-period roll-ups, the raw samples they come from (CSV, API, RADIUS, demo),
the import state of FreeRADIUS accounting sessions, top-off products and purchases, usage alert
markers and the ISP's API tokens.

Byte counts are 64-bit (BigInteger): a month of fibre is well past 2**31 bytes.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from rxportal.models.base import utcnow

__all__ = [
    "UsagePeriod", "UsageBatch", "UsageSample", "RadiusLogin", "RadacctSession",
    "TopOffProduct", "TopOffPurchase", "UsageAlertSent", "ApiToken",
]


class UsagePeriod(SQLModel, table=True):
    """The roll-up: bytes used by an account in one billing period (recomputed from samples)."""
    __table_args__ = (UniqueConstraint("account_id", "period_start", name="uq_usage_period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    period_start: date
    period_end: date
    bytes_down: int = Field(default=0, sa_type=BigInteger)
    bytes_up: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow)


class UsageBatch(SQLModel, table=True):
    """One delivery of samples (a CSV file, an API call). The key makes a resent batch a no-op."""
    __table_args__ = (UniqueConstraint("source", "key", name="uq_usage_batch_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # csv | api | radius | demo
    key: str = Field(max_length=128)
    rows: int = Field(default=0)
    api_token_id: Optional[int] = Field(default=None, foreign_key="apitoken.id")
    created_at: datetime = Field(default_factory=utcnow)


class UsageSample(SQLModel, table=True):
    """Raw usage of an account on one day (a whole-period figure is dated on its first day).
    RADIUS samples are kept one per account, day and source and grow as sessions report."""
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    day: date = Field(index=True)
    bytes_down: int = Field(default=0, sa_type=BigInteger)
    bytes_up: int = Field(default=0, sa_type=BigInteger)
    source: str = Field(max_length=16)
    batch_id: Optional[int] = Field(default=None, foreign_key="usagebatch.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class RadiusLogin(SQLModel, table=True):
    """A RADIUS user name that belongs to an account (when it is not the account number)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=253)
    account_id: int = Field(foreign_key="account.id", index=True)


_RADACCT_VERSION = Column("version", Integer, nullable=False)


class RadacctSession(SQLModel, table=True):
    """How much of one FreeRADIUS accounting session has been counted already, so interim
    updates add only what is new and each session's bytes count once."""
    __table_args__ = (UniqueConstraint("source", "unique_id", name="uq_radacct_session"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(default="default", max_length=64)
    unique_id: str = Field(max_length=64)  # radacct.acctuniqueid
    username: str = Field(default="", max_length=253)
    account_id: int = Field(foreign_key="account.id", index=True)
    seen_in: int = Field(default=0, sa_type=BigInteger)  # raw counters as last read
    seen_out: int = Field(default=0, sa_type=BigInteger)
    seen_at: datetime  # the time those counters were reported
    closed: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)
    # Optimistic lock: two readers counting the same update at once cannot both commit.
    version: int = Field(default=1, sa_column=_RADACCT_VERSION)

    __mapper_args__ = {"version_id_col": _RADACCT_VERSION}


class TopOffProduct(SQLModel, table=True):
    """Extra data for the current period that the ISP sells."""
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    bytes: int = Field(sa_type=BigInteger)
    price_minor: int
    currency: str = Field(default="USD", max_length=3)
    active: bool = Field(default=True)


class TopOffPurchase(SQLModel, table=True):
    """A top-off bought (or tried) by an account. `request_key` is fixed when the customer
    confirms, so the same confirmation is charged once whatever the clicks."""
    __table_args__ = (
        UniqueConstraint("account_id", "request_key", name="uq_topoff_request"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    product_id: int = Field(foreign_key="topoffproduct.id")
    period_start: date
    bytes: int = Field(sa_type=BigInteger)
    price_minor: int
    currency: str = Field(max_length=3)
    request_key: str = Field(max_length=64)
    # pending | authenticating (3-D Secure in the browser) | paid | declined
    # | partly_refunded | refunded | disputed
    status: str = Field(default="pending", max_length=16)
    payment_reference: str = Field(default="", max_length=120)
    # The billing Payment that pays it (Payment.attempt_id): refunds and disputes find the
    # purchase through it.
    attempt_id: str = Field(default="", max_length=64, index=True)
    error: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    paid_at: Optional[datetime] = None
    refunded_minor: int = Field(default=0)  # total refunded so far
    removed_bytes: int = Field(default=0, sa_type=BigInteger)  # taken off the cap by a refund


class UsageAlertSent(SQLModel, table=True):
    """The 80% and 100% e-mails go out once each per account and period."""
    __table_args__ = (
        UniqueConstraint("account_id", "period_start", "threshold", name="uq_usage_alert"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    period_start: date
    threshold: int  # percent: 80 | 100
    sent_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A token the ISP's own systems use on the JSON API. Only its SHA-256 is stored."""
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    prefix: str = Field(max_length=16)  # the first characters, to recognise it in a list
    scope: str = Field(default="usage", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None
