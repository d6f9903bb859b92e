"""Demo usage: twelve billing periods for `demo` against its 500 GB cap (some near it, some
over), the current period on a pace that will pass the cap, top-off products; `demo2` has an
unlimited plan with usage of its own."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from rxportal.models.usage import TopOffProduct
from rxportal.services import periods, usage

ORDER = 40
GB = usage.GB

# GB used in each of the eleven past periods, oldest first (the cap is 500 GB).
DEMO_PAST = [310, 365, 420, 480, 512, 455, 390, 498, 530, 470, 440]
DEMO2_PAST = [820, 905, 760, 990, 1040, 870, 930, 1010, 880, 950, 1100]


def _spread(session: Session, account_id: int, start, days: int, total_gb: int) -> None:
    """`total_gb` over `days` days from `start`, unevenly (weekends heavier), 1/8 of it upload."""
    weights = [3 + (i * 7) % 5 + (2 if (start + timedelta(days=i)).weekday() >= 5 else 0)
               for i in range(days)]
    total, given = total_gb * GB, 0
    for i, weight in enumerate(weights):
        amount = total * sum(weights[: i + 1]) // sum(weights) - given
        given += amount
        up = amount // 8
        usage.add_sample(session, account_id, start + timedelta(days=i), amount - up, up, "demo")


def _history(session: Session, account, past: list[int], pace_gb_per_day: int) -> None:
    today = usage.local_today(session)
    spans = periods.previous_periods(account.billing_day, today, len(past) + 1)
    for (start, end), total in zip(spans, past):
        _spread(session, account.id, start, (end - start).days + 1, total)
    start, _end = spans[-1]
    elapsed = (today - start).days + 1
    _spread(session, account.id, start, elapsed, pace_gb_per_day * elapsed)
    session.flush()
    usage.rollup(session, account.id)


def load(session: Session, ctx: dict) -> None:
    currency = ctx["demo"].currency
    session.add_all([
        TopOffProduct(name="Top-Off 25 GB", bytes=25 * GB, price_minor=500, currency=currency),
        TopOffProduct(name="Top-Off 50 GB", bytes=50 * GB, price_minor=900, currency=currency),
        TopOffProduct(name="Top-Off 100 GB", bytes=100 * GB, price_minor=1500, currency=currency),
    ])
    # 18 GB a day is about 540 GB in a 30-day period: the page warns that the cap will be passed.
    _history(session, ctx["demo"], DEMO_PAST, pace_gb_per_day=18)
    _history(session, ctx["demo2"], DEMO2_PAST, pace_gb_per_day=31)
