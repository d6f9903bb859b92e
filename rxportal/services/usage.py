"""Data usage: figures for the current billing period and the last twelve, the projection to the
end of the period, roll-ups of raw samples into periods, usage alerts, top-offs, and the checks
shared by every way usage comes in (CSV, JSON API).

Bytes are counted in decimal units as ISPs sell them (1 GB = 1000**3 bytes). A period runs from
the account's billing day to the day before the next one (services/periods.py); days are the
ISP's local days (the `timezone` setting).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from babel.units import format_unit
from sqlalchemy import func, update
from sqlmodel import Session, select

from rxportal.models import Account, AccountService, Plan, Transaction, utcnow
from rxportal.models.usage import (TopOffProduct, TopOffPurchase, UsageAlertSent, UsageBatch,
                                   UsagePeriod, UsageSample)
from rxportal.services import audit, i18n, mail, periods
from rxportal.services import settings as isp_settings

KB, MB, GB, TB = 1000, 1000**2, 1000**3, 1000**4
ALERT_THRESHOLDS = (80, 100)
HISTORY_PERIODS = 12
MAX_BYTES = 10**16  # 10 PB in one row: anything larger is a mistake
MAX_ROWS = 100_000


# --- time ------------------------------------------------------------------------------------

def isp_zone(session: Session) -> ZoneInfo:
    try:
        return ZoneInfo(isp_settings.get(session, "timezone") or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_today(session: Session, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(isp_zone(session)).date()


# --- formatting ------------------------------------------------------------------------------

def format_bytes(value: int | None, lang: str, country: str = "") -> str:
    """A byte count as a person reads it, in their language: '412 GB', '3.4 GB', '850 MB',
    '1.25 TB'; in French '412 Go', '3,4 Go'..."""
    value = max(0, int(value or 0))
    if value >= TB:
        unit, divisor, places = "digital-terabyte", TB, 2
    elif value >= 100 * GB:
        unit, divisor, places = "digital-gigabyte", GB, 0
    elif value >= GB:
        unit, divisor, places = "digital-gigabyte", GB, 1
    else:
        unit, divisor, places = "digital-megabyte", MB, 0
    amount = (Decimal(value) / divisor).quantize(Decimal(1).scaleb(-places),
                                                 rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "#" * places if places else "")
    return format_unit(amount, unit, length="short", format=pattern,
                       locale=i18n.locale_for(i18n.normalize_language(lang), country))


def gb_number(value: int) -> float:
    """Gigabytes for a chart axis (display only; never used for money or limits)."""
    return round(int(value or 0) / GB, 2)


# --- figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodFigures:
    start: date
    end: date
    bytes_down: int
    bytes_up: int

    @property
    def used(self) -> int:
        return self.bytes_down + self.bytes_up


@dataclass(frozen=True)
class CurrentUsage:
    start: date
    end: date
    bytes_down: int
    bytes_up: int
    plan_cap: int | None  # None: unlimited
    topoff_bytes: int
    projected: int
    days_left: int

    @property
    def used(self) -> int:
        return self.bytes_down + self.bytes_up

    @property
    def cap(self) -> int | None:
        return None if self.plan_cap is None else self.plan_cap + self.topoff_bytes

    @property
    def percent(self) -> int | None:
        """Share of the cap used, in whole percent (may pass 100); None when unlimited."""
        if not self.cap:
            return None
        return self.used * 100 // self.cap

    @property
    def will_exceed(self) -> bool:
        return self.cap is not None and self.projected > self.cap

    @property
    def over(self) -> bool:
        return self.cap is not None and self.used > self.cap


def plan_cap(session: Session, account_id: int) -> int | None:
    """The data cap of the account's active services (summed when several have one); None
    when no active service has a cap."""
    caps = list(session.exec(
        select(Plan.data_cap_bytes)
        .join(AccountService, AccountService.plan_id == Plan.id)
        .where(AccountService.account_id == account_id, AccountService.status == "active")
    ))
    capped = [int(c) for c in caps if c is not None]
    return sum(capped) if capped else None


# Purchases that were paid: they add their data to their period's cap, less what a refund took
# back (`removed_bytes`).
PAID_STATUSES = ("paid", "partly_refunded", "refunded", "disputed")


def topoff_bytes(session: Session, account_id: int, period_start: date) -> int:
    return topoff_bytes_by_period(session, account_id, period_start).get(period_start, 0)


def topoff_bytes_by_period(session: Session, account_id: int, since: date) -> dict[date, int]:
    """Data added by top-offs to each period that starts on or after `since`."""
    rows = session.exec(
        select(TopOffPurchase.period_start,
               func.sum(TopOffPurchase.bytes - TopOffPurchase.removed_bytes))
        .where(TopOffPurchase.account_id == account_id, TopOffPurchase.period_start >= since,
               TopOffPurchase.status.in_(PAID_STATUSES))
        .group_by(TopOffPurchase.period_start)).all()
    return {start: int(total or 0) for start, total in rows}


def project(used: int, start: date, end: date, today: date) -> int:
    """Usage at the end of the period if the pace so far goes on (today counts as a day)."""
    total_days = (end - start).days + 1
    elapsed = min(max((today - start).days + 1, 1), total_days)
    return int(used) * total_days // elapsed


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError("account not found")
    return account


def period_figures(session: Session, account_id: int, start: date, end: date) -> PeriodFigures:
    row = session.exec(select(UsagePeriod).where(
        UsagePeriod.account_id == account_id, UsagePeriod.period_start == start)).first()
    if row is None:
        return PeriodFigures(start, end, 0, 0)
    return PeriodFigures(start, end, int(row.bytes_down), int(row.bytes_up))


_READ = object()  # "read the plan's cap here"


def current(session: Session, account_id: int, today: date | None = None,
            known_cap: int | None | object = _READ) -> CurrentUsage:
    """This period's usage; the plan's cap is not read again when the caller knows it."""
    account = _account(session, account_id)
    today = today or local_today(session)
    start, end = periods.period_containing(account.billing_day, today)
    figures = period_figures(session, account_id, start, end)
    return CurrentUsage(
        start=start, end=end, bytes_down=figures.bytes_down, bytes_up=figures.bytes_up,
        plan_cap=plan_cap(session, account_id) if known_cap is _READ else known_cap,
        topoff_bytes=topoff_bytes(session, account_id, start),
        projected=project(figures.used, start, end, today),
        days_left=(end - today).days + 1,
    )


@dataclass(frozen=True)
class BillingSummary:
    """What the billing page shows about usage when the service has a cap (guide, Billing
    item 7): texts in the viewer's language and the share of the cap used."""
    used: str
    cap: str
    percent: int
    resets_on: str


def billing_summary(session: Session, account_id: int, lang: str, country: str = "",
                    today: date | None = None, known_cap: int | None | object = _READ
                    ) -> BillingSummary | None:
    """None when no active service has a data cap."""
    figures = current(session, account_id, today, known_cap)
    if figures.cap is None:
        return None
    return BillingSummary(used=format_bytes(figures.used, lang, country),
                          cap=format_bytes(figures.cap, lang, country),
                          percent=int(figures.percent or 0),
                          resets_on=i18n.format_day(figures.end + timedelta(days=1), lang, country))


def history(session: Session, account_id: int, today: date | None = None,
            count: int = HISTORY_PERIODS) -> list[PeriodFigures]:
    """The last `count` periods, oldest first, ending with the current one."""
    account = _account(session, account_id)
    today = today or local_today(session)
    spans = periods.previous_periods(account.billing_day, today, count)
    rows = {
        row.period_start: row
        for row in session.exec(select(UsagePeriod).where(
            UsagePeriod.account_id == account_id,
            UsagePeriod.period_start >= spans[0][0], UsagePeriod.period_start <= spans[-1][0]))
    }
    return [
        PeriodFigures(start, end, int(rows[start].bytes_down) if start in rows else 0,
                      int(rows[start].bytes_up) if start in rows else 0)
        for start, end in spans
    ]


# --- roll-ups ----------------------------------------------------------------------------------

def rollup(session: Session, account_id: int, days: Iterable[date] | None = None) -> int:
    """Recompute the per-period totals of an account from its samples: for the periods that
    contain `days`, or for every period that has samples. Returns how many periods were written."""
    account = _account(session, account_id)
    if days is None:
        first = session.exec(select(func.min(UsageSample.day)).where(
            UsageSample.account_id == account_id)).one()
        existing = session.exec(select(func.min(UsagePeriod.period_start)).where(
            UsagePeriod.account_id == account_id)).one()
        starts = [d for d in (first, existing) if d is not None]
        if not starts:
            return 0
        spans, day = [], min(starts)
        last = max(local_today(session), session.exec(select(func.max(UsageSample.day)).where(
            UsageSample.account_id == account_id)).one() or day)
        while day <= last:
            span = periods.period_containing(account.billing_day, day)
            spans.append(span)
            day = span[1] + timedelta(days=1)
    else:
        spans = sorted({periods.period_containing(account.billing_day, d) for d in days})
    for start, end in spans:
        down, up = session.exec(
            select(func.coalesce(func.sum(UsageSample.bytes_down), 0),
                   func.coalesce(func.sum(UsageSample.bytes_up), 0))
            .where(UsageSample.account_id == account_id,
                   UsageSample.day >= start, UsageSample.day <= end)
        ).one()
        row = session.exec(select(UsagePeriod).where(
            UsagePeriod.account_id == account_id, UsagePeriod.period_start == start)).first()
        if row is None:
            row = UsagePeriod(account_id=account_id, period_start=start, period_end=end)
        row.period_end, row.bytes_down, row.bytes_up = end, int(down), int(up)
        row.updated_at = utcnow()
        session.add(row)
    session.flush()
    return len(spans)


def rollup_all(session: Session) -> int:
    """Recompute every account's periods (after a billing-day change, or as a nightly check)."""
    written = 0
    for account_id in session.exec(select(UsageSample.account_id).distinct()):
        written += rollup(session, account_id)
    return written


# --- alerts ------------------------------------------------------------------------------------

def check_alerts(session: Session, account_id: int, today: date | None = None) -> list[int]:
    """E-mail the customer when the current period passes 80% and 100% of the cap, once each
    per period, unless they turned usage alerts off. Passing both at once sends one e-mail (the
    100% one) and marks both. Returns the thresholds newly marked."""
    account = _account(session, account_id)
    figures = current(session, account_id, today)
    if figures.percent is None or not account.usage_alerts or not account.email:
        return []
    already = set(session.exec(select(UsageAlertSent.threshold).where(
        UsageAlertSent.account_id == account_id,
        UsageAlertSent.period_start == figures.start)))
    reached = [t for t in ALERT_THRESHOLDS if figures.percent >= t and t not in already]
    if not reached:
        return []
    for threshold in reached:
        session.add(UsageAlertSent(account_id=account_id, period_start=figures.start,
                                   threshold=threshold))
    lang = i18n.normalize_language(account.language)
    country = isp_settings.get(session, "country")
    mail.queue(session, account.email, "usage_alert", lang,
               name=account.name, percent=max(reached),
               used=format_bytes(figures.used, lang, country),
               cap=format_bytes(figures.cap, lang, country),
               period_end=i18n.format_day(figures.end, lang, country))
    session.flush()
    return reached


# --- incoming usage: checks shared by the CSV import and the API --------------------------------

@dataclass(frozen=True)
class UsageRow:
    line: int
    account_id: int
    day: date
    bytes_down: int
    bytes_up: int


@dataclass
class Checked:
    rows: list[UsageRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line or record number, why)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERIOD = re.compile(r"^\d{4}-\d{2}$")
_DIGITS = re.compile(r"^\d{1,17}$")


def parse_day(text: str, billing_day: int, today: date) -> date:
    """A day (YYYY-MM-DD) or a billing period (YYYY-MM: the period that starts that month,
    dated on its first day). Raises ValueError with the reason."""
    text = text.strip()
    if _DAY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a real date: {text!r}") from None
    elif _PERIOD.match(text):
        year, month = int(text[:4]), int(text[5:])
        if not 1 <= month <= 12:
            raise ValueError(f"not a real month: {text!r}")
        day = periods.billing_date_in_month(billing_day, year, month)
    else:
        raise ValueError(f"date must be YYYY-MM-DD or a period YYYY-MM, not {text[:40]!r}")
    if day.year < 2000:
        raise ValueError(f"date too old: {text!r}")
    if day > today + timedelta(days=1):
        raise ValueError(f"date in the future: {text!r}")
    return day


def parse_bytes(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number of bytes")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(f"{name} must be a whole number of bytes, not {str(value)[:40]!r}")
    if number < 0:
        raise ValueError(f"{name} cannot be negative")
    if number > MAX_BYTES:
        raise ValueError(f"{name} is too large")
    return number


def check_records(session: Session, records: Iterable[tuple[int, dict]],
                  today: date | None = None) -> Checked:
    """Check every record (account, date, bytes_down, bytes_up) before anything is written.
    Unknown accounts are reported like malformed rows."""
    today = today or local_today(session)
    checked = Checked()
    accounts: dict[str, Account | None] = {}
    for line, record in records:
        if len(checked.rows) + len(checked.errors) >= MAX_ROWS:
            checked.errors.append((line, f"too many rows (at most {MAX_ROWS} per batch)"))
            break
        if not isinstance(record, dict):
            checked.errors.append((line, "not a record"))
            continue
        problems = []
        number = str(record.get("account", "") if record.get("account") is not None else "")
        number = number.strip()
        account = None
        if not number:
            problems.append("account is missing")
        elif len(number) > 32:
            problems.append("account is too long")
        else:
            if number not in accounts:
                accounts[number] = session.exec(
                    select(Account).where(Account.number == number)).first()
            account = accounts[number]
            if account is None:
                problems.append(f"unknown account {number[:32]!r}")
        day = None
        raw_day = record.get("date")
        if not isinstance(raw_day, str) or not raw_day.strip():
            problems.append("date is missing")
        elif account is not None:
            try:
                day = parse_day(raw_day, account.billing_day, today)
            except ValueError as error:
                problems.append(str(error))
        values = {}
        for name in ("bytes_down", "bytes_up"):
            try:
                values[name] = parse_bytes(record.get(name), name)
            except ValueError as error:
                problems.append(str(error))
        if problems:
            checked.errors.append((line, "; ".join(problems)))
        elif account is not None and day is not None:
            checked.rows.append(UsageRow(line, account.id, day, values["bytes_down"],
                                         values["bytes_up"]))
    if not checked.rows and not checked.errors:
        checked.errors.append((0, "no usage rows"))
    return checked


@dataclass(frozen=True)
class ImportResult:
    batch_id: int
    rows: int
    duplicate: bool


def find_batch(session: Session, source: str, key: str) -> UsageBatch | None:
    return session.exec(select(UsageBatch).where(
        UsageBatch.source == source, UsageBatch.key == key)).first()


def import_rows(session: Session, source: str, key: str, rows: list[UsageRow],
                api_token_id: int | None = None, today: date | None = None) -> ImportResult:
    """Store one checked batch of samples, roll them up and send any alerts, all in the
    caller's transaction. A batch whose key was seen before changes nothing."""
    earlier = find_batch(session, source, key)
    if earlier is not None:
        return ImportResult(earlier.id, earlier.rows, duplicate=True)
    batch = UsageBatch(source=source, key=key[:128], rows=len(rows), api_token_id=api_token_id)
    session.add(batch)
    session.flush()
    touched: dict[int, set[date]] = {}
    for row in rows:
        session.add(UsageSample(account_id=row.account_id, day=row.day, source=source,
                                bytes_down=row.bytes_down, bytes_up=row.bytes_up,
                                batch_id=batch.id))
        touched.setdefault(row.account_id, set()).add(row.day)
    session.flush()
    after_ingest(session, touched, today)
    return ImportResult(batch.id, len(rows), duplicate=False)


def after_ingest(session: Session, touched: dict[int, set[date]], today: date | None = None) -> None:
    """Roll up the periods that new samples fall in, then check the alerts."""
    for account_id, days in touched.items():
        rollup(session, account_id, days)
        check_alerts(session, account_id, today)


def add_sample(session: Session, account_id: int, day: date, bytes_down: int, bytes_up: int,
               source: str) -> None:
    """Add bytes to the account's single sample for that day and source (RADIUS, demo)."""
    sample = session.exec(select(UsageSample).where(
        UsageSample.account_id == account_id, UsageSample.day == day,
        UsageSample.source == source, UsageSample.batch_id.is_(None))).first()
    if sample is None:
        sample = UsageSample(account_id=account_id, day=day, source=source)
    sample.bytes_down = int(sample.bytes_down or 0) + int(bytes_down)
    sample.bytes_up = int(sample.bytes_up or 0) + int(bytes_up)
    session.add(sample)


# --- top-offs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChargeRequest:
    """What the top-off asks the payment service to charge. `attempt_id` names the payment:
    the same purchase is always charged under the same one."""
    account_id: int
    amount_minor: int
    currency: str
    description: str
    idempotency_key: str
    payment_method_id: int | None = None
    attempt_id: str = ""


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    reference: str = ""  # the gateway's payment id
    error: str = ""  # why it was declined (an English msgid for the customer)
    client_secret: str = ""  # set when the card asks for 3-D Secure in the browser

    @property
    def requires_action(self) -> bool:
        return not self.ok and bool(self.client_secret)


Charge = Callable[[ChargeRequest], ChargeResult]
SETTLED = ("paid", "declined") + PAID_STATUSES


class TopOffError(Exception):
    """`code`: not_found (no such product for this account) | no_cap (unlimited service)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def topoff_products(session: Session, account_id: int) -> list[TopOffProduct]:
    """The active products the account can buy (in its currency), smallest first."""
    account = _account(session, account_id)
    return list(session.exec(
        select(TopOffProduct)
        .where(TopOffProduct.active == True, TopOffProduct.currency == account.currency)  # noqa: E712
        .order_by(TopOffProduct.bytes, TopOffProduct.id)))


def topoff_history(session: Session, account_id: int, period_start: date) -> list[TopOffPurchase]:
    return list(session.exec(
        select(TopOffPurchase).where(TopOffPurchase.account_id == account_id,
                                     TopOffPurchase.period_start == period_start,
                                     TopOffPurchase.status.in_(PAID_STATUSES))
        .order_by(TopOffPurchase.id)))


def recent_purchases(session: Session, account_id: int, limit: int = 10) -> list[TopOffPurchase]:
    """The account's latest paid top-offs (whatever became of them since), newest first."""
    return list(session.exec(
        select(TopOffPurchase).where(TopOffPurchase.account_id == account_id,
                                     TopOffPurchase.status.in_(PAID_STATUSES))
        .order_by(TopOffPurchase.paid_at.desc(), TopOffPurchase.id.desc()).limit(limit)))


def find_purchase(session: Session, account_id: int, request_key: str) -> TopOffPurchase | None:
    return session.exec(select(TopOffPurchase).where(
        TopOffPurchase.account_id == account_id,
        TopOffPurchase.request_key == (request_key or "").strip())).first()


def purchase_topoff(session: Session, account_id: int, product_id: int, request_key: str,
                    charge: Charge, payment_method_id: int | None = None,
                    today: date | None = None, actor_id: int | None = None,
                    ip: str = "") -> TopOffPurchase:
    """Buy a top-off for the current period and pay it through `charge`.

    `request_key` is fixed when the customer confirms: the same key is charged once whatever the
    clicks or retries (it names the payment attempt). A declined payment changes nothing but
    the purchase's status. A card that asks for 3-D Secure leaves the purchase `authenticating`
    until the payment service settles it (`record_paid` / `record_declined`). When `charge`
    raises (gateway down), nothing is paid and the same key may be retried safely.
    """
    request_key = (request_key or "").strip()
    if not request_key or len(request_key) > 64:
        raise ValueError("request key required")
    earlier = find_purchase(session, account_id, request_key)
    if earlier is not None and earlier.status in SETTLED:
        return earlier
    account = _account(session, account_id)
    product = session.get(TopOffProduct, product_id)
    if (product is None or not product.active or product.currency != account.currency
            or (earlier is not None and earlier.product_id != product_id)):
        raise TopOffError("not_found")
    if plan_cap(session, account_id) is None:
        raise TopOffError("no_cap")
    today = today or local_today(session)
    start, _end = periods.period_containing(account.billing_day, today)
    purchase = earlier or TopOffPurchase(
        account_id=account_id, product_id=product.id, period_start=start, bytes=product.bytes,
        price_minor=product.price_minor, currency=product.currency, request_key=request_key)
    session.add(purchase)
    session.flush()
    if not purchase.attempt_id:
        purchase.attempt_id = f"topoff-{purchase.id}"
        session.add(purchase)
        session.flush()
    result = charge(ChargeRequest(
        account_id=account_id, amount_minor=purchase.price_minor, currency=purchase.currency,
        description=_description(session, purchase),
        idempotency_key=f"topoff-{account_id}-{request_key}",
        payment_method_id=payment_method_id, attempt_id=purchase.attempt_id))
    session.refresh(purchase)
    if result.ok:
        record_paid(session, purchase, result.reference, actor_id=actor_id, ip=ip)
    elif result.requires_action:
        if purchase.status == "pending":
            purchase.status, purchase.payment_reference = "authenticating", result.reference[:120]
            session.add(purchase)
            session.flush()
    else:
        record_declined(session, purchase, result.error, actor_id=actor_id, ip=ip)
    session.refresh(purchase)
    return purchase


def _claim(session: Session, purchase: TopOffPurchase, values: dict) -> bool:
    """Move a purchase out of pending/authenticating once, whoever gets there first."""
    claimed = session.exec(
        update(TopOffPurchase).where(TopOffPurchase.id == purchase.id,
                                     TopOffPurchase.status.in_(("pending", "authenticating")))
        .values(**values)).rowcount
    session.refresh(purchase)
    return bool(claimed)


def _description(session: Session, purchase: TopOffPurchase) -> str:
    account = _account(session, purchase.account_id)
    lang = i18n.normalize_language(account.language)
    amount = format_bytes(purchase.bytes, lang, isp_settings.get(session, "country"))
    return i18n.translate(lang, "Data top-off: {amount}", amount=amount)[:200]


def record_declined(session: Session, purchase: TopOffPurchase, error: str, *,
                    actor_id: int | None = None, ip: str = "") -> bool:
    if not _claim(session, purchase, {"status": "declined",
                                      "error": (error or "declined")[:200]}):
        return False
    audit.record(session, "usage.topoff_declined", actor_type="customer" if actor_id else "system",
                 actor_id=actor_id, target=f"account:{purchase.account_id}", ip=ip,
                 product=purchase.product_id)
    session.flush()
    return True


def record_paid(session: Session, purchase: TopOffPurchase, reference: str, *,
                actor_id: int | None = None, ip: str = "") -> bool:
    """The payment went through: raise the cap, write the ledger, send the receipt. Once."""
    reference = (reference or "")[:120]
    if not _claim(session, purchase, {"status": "paid", "payment_reference": reference,
                                      "paid_at": utcnow(), "error": ""}):
        return False
    account = _account(session, purchase.account_id)
    lang = i18n.normalize_language(account.language)
    country = isp_settings.get(session, "country")
    description = _description(session, purchase)
    session.add(Transaction(account_id=account.id, kind="charge", description=description,
                            amount_minor=purchase.price_minor, currency=purchase.currency,
                            reference=f"topoff:{purchase.id}"))
    session.add(Transaction(account_id=account.id, kind="payment",
                            description=i18n.translate(lang, "Payment for a data top-off")[:200],
                            amount_minor=-purchase.price_minor, currency=purchase.currency,
                            reference=reference))
    audit.record(session, "usage.topoff_paid", actor_type="customer" if actor_id else "system",
                 actor_id=actor_id, target=f"account:{account.id}", ip=ip,
                 product=purchase.product_id, amount_minor=purchase.price_minor)
    session.flush()
    if account.email:
        figures = current(session, account.id, purchase.period_start)
        mail.queue(session, account.email, "topoff_receipt", lang, name=account.name,
                   data=format_bytes(purchase.bytes, lang, country),
                   price=i18n.format_money(purchase.price_minor, purchase.currency, lang, country),
                   cap=format_bytes(figures.cap, lang, country),
                   period_end=i18n.format_day(figures.end, lang, country),
                   reference=reference or str(purchase.id))
    return True


def record_reversal(session: Session, purchase: TopOffPurchase, what: str, amount: int) -> None:
    """`amount` more of the purchase's payment was refunded (`what` = refund) or disputed.

    The payment's own reversal (money back, or the disputed amount owed again) is written by
    the billing feature. A refund here also takes the same amount off the top-off's charge, so
    the customer owes nothing for what was refunded. Once the whole price is refunded the data
    comes off its period's cap, but never below the usage already recorded in that period:
    the customer keeps what they already used and is never put over the cap by our refund.
    A partial refund is a price reduction: the data stays. A disputed top-off keeps its data
    while the dispute runs, and its price is owed again.
    """
    if amount <= 0:
        return
    if what == "dispute":
        if purchase.status != "refunded":
            purchase.status = "disputed"
        audit.record(session, "usage.topoff_disputed", actor_type="system",
                     target=f"account:{purchase.account_id}", purchase=purchase.id,
                     amount_minor=amount)
        session.add(purchase)
        session.flush()
        return
    amount = min(amount, purchase.price_minor - purchase.refunded_minor)
    if amount <= 0:
        return
    account = _account(session, purchase.account_id)
    lang = i18n.normalize_language(account.language)
    session.add(Transaction(
        account_id=account.id, kind="credit",
        description=i18n.translate(lang, "Top-off refunded: {amount}", amount=format_bytes(
            purchase.bytes, lang, isp_settings.get(session, "country")))[:200],
        amount_minor=-amount, currency=purchase.currency, reference=f"topoff:{purchase.id}"))
    purchase.refunded_minor += amount
    if purchase.refunded_minor >= purchase.price_minor:
        purchase.status = "refunded"
        purchase.removed_bytes = _unused_part(session, purchase)
    else:
        purchase.status = "partly_refunded"
    session.add(purchase)
    audit.record(session, "usage.topoff_refunded", actor_type="system",
                 target=f"account:{account.id}", purchase=purchase.id, amount_minor=amount,
                 removed_bytes=purchase.removed_bytes)
    session.flush()


def _unused_part(session: Session, purchase: TopOffPurchase) -> int:
    """How much of the purchase's data can come off its period's cap without going under the
    usage already recorded in that period."""
    account = _account(session, purchase.account_id)
    cap = plan_cap(session, account.id)
    if cap is None:
        return purchase.bytes
    start, end = periods.period_containing(account.billing_day, purchase.period_start)
    used = period_figures(session, account.id, start, end).used
    cap_now = cap + topoff_bytes(session, account.id, start)
    return max(0, min(purchase.bytes - purchase.removed_bytes, cap_now - used))


# --- CSV files -------------------------------------------------------------------------------

CSV_FIELDS = ("account", "date", "bytes_down", "bytes_up")


def parse_csv(text: str) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """Rows of a usage CSV file (account number, date or period, bytes down, bytes up; an
    optional header line) as (line number, record), and the lines that are not four fields."""
    import csv
    import io

    records: list[tuple[int, dict]] = []
    errors: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    first = True
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if first and cells[0].strip().lower().replace(" ", "_") in ("account", "account_number"):
                first = False
                continue
            first = False
            if len(cells) != 4:
                errors.append((line, f"expected 4 fields (account, date, bytes down, bytes up), "
                                     f"found {len(cells)}"))
                continue
            records.append((line, dict(zip(CSV_FIELDS, (c.strip() for c in cells)))))
    except csv.Error as error:
        errors.append((reader.line_num, f"unreadable CSV: {error}"))
    return records, errors


def check_csv(session: Session, text: str, today: date | None = None) -> Checked:
    records, shape_errors = parse_csv(text)
    checked = check_records(session, records, today) if records else Checked()
    checked.errors = sorted(shape_errors + [e for e in checked.errors if e[0] or not shape_errors])
    if not checked.rows and not checked.errors:
        checked.errors.append((0, "no usage rows"))
    return checked


def import_csv(session: Session, data: bytes, today: date | None = None) -> tuple[Checked, ImportResult | None]:
    """Check every row of a CSV file, then import all of them, or nothing when any is bad.
    The same file imported twice is stored once (its SHA-256 is the batch key)."""
    import hashlib

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Checked(errors=[(0, "the file is not UTF-8 text")]), None
    checked = check_csv(session, text, today)
    if checked.errors:
        return checked, None
    key = hashlib.sha256(data).hexdigest()
    return checked, import_rows(session, "csv", key, checked.rows, today=today)
