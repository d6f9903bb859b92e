"""Billing periods. A period starts on the account's billing day (clamped to the month's last
day, so day 31 means Feb 28/29 in February) and ends the day before the next one starts."""
from __future__ import annotations

import calendar
from datetime import date, timedelta


def billing_date_in_month(billing_day: int, year: int, month: int) -> date:
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(max(1, billing_day), last_day))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def period_start_on_or_before(billing_day: int, day: date) -> date:
    this_month = billing_date_in_month(billing_day, day.year, day.month)
    if this_month <= day:
        return this_month
    year, month = _add_months(day.year, day.month, -1)
    return billing_date_in_month(billing_day, year, month)


def next_period_start(billing_day: int, day: date) -> date:
    """The first billing date strictly after `day`: when the next invoice is issued."""
    start = period_start_on_or_before(billing_day, day)
    year, month = _add_months(start.year, start.month, 1)
    return billing_date_in_month(billing_day, year, month)


def period_containing(billing_day: int, day: date) -> tuple[date, date]:
    """(first day, last day) of the billing period that contains `day`."""
    start = period_start_on_or_before(billing_day, day)
    return start, next_period_start(billing_day, day) - timedelta(days=1)


def previous_periods(billing_day: int, day: date, count: int) -> list[tuple[date, date]]:
    """The `count` periods ending with the one containing `day`, oldest first."""
    periods = []
    start, end = period_containing(billing_day, day)
    for _ in range(count):
        periods.append((start, end))
        start, end = period_containing(billing_day, start - timedelta(days=1))
    return list(reversed(periods))
