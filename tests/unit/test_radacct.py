"""FreeRADIUS accounting rules without a RADIUS database: counter deltas and wrap, the split of
a session over days and billing periods, interim updates counted once, user name mapping."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlmodel import select

from rxportal.models import Account, AccountService, Plan
from rxportal.models.usage import RadacctSession, RadiusLogin, UsagePeriod
from rxportal.services import radacct, usage

GB = usage.GB


def make_account(session, number, billing_day=15, cap_gb=500):
    account = Account(number=number, name="Radius Person", email=f"{number}@example.net",
                      billing_day=billing_day, currency="CAD")
    plan = Plan(name="Plan", price_minor=5000, currency="CAD", data_cap_bytes=cap_gb * GB)
    session.add_all([account, plan])
    session.flush()
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name="Plan",
                               price_minor=5000, started_on=date(2025, 1, 1)))
    session.flush()
    return account

UTC = timezone.utc


def at(day: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def obs(uid, user, start, update=None, stop=None, up=0, down=0, wraps=True):
    return radacct.Observation(unique_id=uid, username=user, start=start, update=update,
                               stop=stop, octets_in=up, octets_out=down, wraps_at_32_bits=wraps)


def utc_isp(session):
    from rxportal.services import settings
    settings.put(session, "timezone", "UTC")


# --- counters ----------------------------------------------------------------------------------

def test_counter_delta_counts_what_is_new():
    assert radacct.counter_delta(0, 500, True) == 500
    assert radacct.counter_delta(500, 800, True) == 300
    assert radacct.counter_delta(800, 800, True) == 0


def test_a_32_bit_counter_that_wraps_counts_across_the_wrap():
    seen = 2**32 - 100
    assert radacct.counter_delta(seen, 50, True) == 150


def test_a_64_bit_counter_that_goes_down_was_reset():
    assert radacct.counter_delta(10 * 2**32, 70, False) == 70
    assert radacct.counter_delta(2**32 - 100, 50, False) == 50


def test_gigawords_make_the_64_bit_total():
    assert radacct.total_octets(5, 2) == 2 * 2**32 + 5
    assert radacct.total_octets(None, None) == 0
    assert radacct.total_octets(123) == 123


# --- split -------------------------------------------------------------------------------------

def test_split_by_day_in_proportion_to_time():
    parts = radacct.split_by_day(1000, at("2026-11-14", 18), at("2026-11-15", 6), ZoneInfo("UTC"))
    assert parts == [(date(2026, 11, 14), 500), (date(2026, 11, 15), 500)]


def test_split_keeps_every_byte_and_uses_local_days():
    zone = ZoneInfo("America/Toronto")  # UTC-5 in November
    parts = radacct.split_by_day(10**15 + 7, at("2026-11-14", 23), at("2026-11-17", 4, 59), zone)
    assert sum(b for _, b in parts) == 10**15 + 7
    assert [d for d, _ in parts] == [date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 16)]
    # 23:00 UTC on the 14th is 18:00 in Toronto: 6 hours of the 14th, 24 of the 15th, 23h59 of the 16th
    assert parts[0][1] < parts[2][1] < parts[1][1]


def test_split_of_an_instant_goes_to_its_day():
    assert radacct.split_by_day(42, at("2026-11-14", 5), at("2026-11-14", 5), ZoneInfo("UTC")) == [
        (date(2026, 11, 14), 42)]
    assert radacct.split_by_day(0, at("2026-11-14"), at("2026-11-15"), ZoneInfo("UTC")) == []


# --- apply -------------------------------------------------------------------------------------

def test_interim_updates_count_each_session_once(session):
    utc_isp(session)
    account = make_account(session, number="200001")
    start = at("2026-11-20", 10)
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-20", 11), down=5 * GB, up=GB)])
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-20", 12), down=8 * GB, up=2 * GB)])
    # the same row read again adds nothing
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-20", 12), down=8 * GB, up=2 * GB)])
    radacct.apply(session, [obs("s1", "200001", start, stop=at("2026-11-20", 13), down=9 * GB, up=2 * GB)])
    # a closed session is never counted again, even if its row changes
    radacct.apply(session, [obs("s1", "200001", start, stop=at("2026-11-20", 13), down=99 * GB, up=2 * GB)])
    figures = usage.current(session, account.id, today=date(2026, 11, 20))
    assert (figures.bytes_down, figures.bytes_up) == (9 * GB, 2 * GB)
    state = session.exec(select(RadacctSession)).one()
    assert state.closed and state.seen_out == 9 * GB


def test_a_wrapped_32_bit_counter_between_interims(session):
    utc_isp(session)
    account = make_account(session, number="200001")
    start = at("2026-11-20", 10)
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-20", 11), down=2**32 - 1000)])
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-20", 12), down=3000)])
    assert usage.current(session, account.id, today=date(2026, 11, 20)).bytes_down == (2**32 - 1000) + 4000


def test_a_session_spanning_two_billing_periods_is_split(session):
    utc_isp(session)
    account = make_account(session, number="200001", billing_day=15)
    # 12 hours on Nov 14 (old period), 12 hours on Nov 15 (new period)
    radacct.apply(session, [obs("s1", "200001", at("2026-11-14", 12), stop=at("2026-11-15", 12),
                                down=100 * GB, up=10 * GB)])
    rows = {r.period_start: r for r in session.exec(select(UsagePeriod))}
    assert rows[date(2026, 10, 15)].bytes_down == 50 * GB
    assert rows[date(2026, 11, 15)].bytes_down == 50 * GB
    assert rows[date(2026, 10, 15)].bytes_up + rows[date(2026, 11, 15)].bytes_up == 10 * GB


def test_interim_after_the_boundary_counts_only_its_time(session):
    utc_isp(session)
    account = make_account(session, number="200001", billing_day=15)
    start = at("2026-11-14", 20)
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-14", 22), down=2 * GB)])
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-15", 2), down=6 * GB)])
    hist = usage.history(session, account.id, today=date(2026, 11, 15), count=2)
    assert [p.bytes_down for p in hist] == [4 * GB, 2 * GB]


def test_user_names_map_to_accounts(session):
    utc_isp(session)
    by_number = make_account(session, number="200001")
    by_login = make_account(session, number="200002")
    session.add(RadiusLogin(username="camille@fibre.example", account_id=by_login.id))
    session.flush()
    report = radacct.apply(session, [
        obs("a", "200001@fibre.example", at("2026-11-20", 1), stop=at("2026-11-20", 2), down=GB),
        obs("b", "camille@fibre.example", at("2026-11-20", 1), stop=at("2026-11-20", 2), down=2 * GB),
        obs("c", "stranger", at("2026-11-20", 1), stop=at("2026-11-20", 2), down=3 * GB),
    ])
    assert report.unmatched == {"stranger"} and report.counted == 2
    assert usage.current(session, by_number.id, today=date(2026, 11, 20)).used == GB
    assert usage.current(session, by_login.id, today=date(2026, 11, 20)).used == 2 * GB
    # the stranger's session is not remembered: linked later, it counts in full
    assert {s.unique_id for s in session.exec(select(RadacctSession))} == {"a", "b"}


def test_radius_usage_triggers_alerts(session):
    utc_isp(session)
    account = make_account(session, number="200001", cap_gb=10)
    today = usage.local_today(session)
    start = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    radacct.apply(session, [obs("s1", "200001", start, update=start + timedelta(minutes=5),
                                down=9 * GB)])
    from rxportal.models.usage import UsageAlertSent
    assert [a.threshold for a in session.exec(select(UsageAlertSent))] == [80]


def test_two_readers_at_once_cannot_both_count_an_update(session):
    """The job and a manual `read-radacct` read the same interim update: one of them fails
    and writes nothing, so the bytes count once."""
    import pytest
    from sqlalchemy.orm.exc import StaleDataError
    from sqlmodel import Session

    from rxportal import db

    utc_isp(session)
    account = make_account(session, number="200001")
    start = at("2026-11-20", 10)
    radacct.apply(session, [obs("s1", "200001", start, update=at("2026-11-20", 11), down=GB)])
    session.commit()
    later = [obs("s1", "200001", start, update=at("2026-11-20", 12), down=3 * GB)]
    first, second = Session(db.get_engine()), Session(db.get_engine())
    try:
        # both load the session's state before either writes (kept: the identity map is weak)
        loaded = [reader.exec(select(RadacctSession)).one() for reader in (first, second)]
        assert [state.seen_out for state in loaded] == [GB, GB]
        radacct.apply(first, later)
        first.commit()
        with pytest.raises(StaleDataError):
            radacct.apply(second, later)
        second.rollback()
    finally:
        first.close()
        second.close()
    session.expire_all()
    assert usage.current(session, account.id, today=date(2026, 11, 20)).bytes_down == 3 * GB
