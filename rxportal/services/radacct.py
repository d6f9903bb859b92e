"""Usage from FreeRADIUS accounting: the `radacct` table of a FreeRADIUS SQL database
(PostgreSQL or MariaDB/MySQL), read through a SQLAlchemy URL such as
`postgresql+psycopg2://radius:secret@db/radius` or `mysql+pymysql://radius:secret@db/radius`.

- A RADIUS user name belongs to an account through a `RadiusLogin` row, or else when it is the
  account number (with or without an `@realm`).
- Each session (acctuniqueid) is remembered with the counters already counted, so interim
  updates add only what is new and a session's bytes count once however often it is read.
- Counters: with `acctinputgigawords`/`acctoutputgigawords` columns (older schemas) the total is
  gigawords * 2**32 + octets; FreeRADIUS 3 already stores that sum in the octets columns. A
  32-bit counter that went down has wrapped (one wrap between two reads is assumed); a 64-bit
  one that went down was reset by the NAS and counts from zero.
- What is new since the last read is spread over the time it was used (from the last report,
  or the session start, to this report) by the ISP's local days, so a session spanning two
  billing periods counts in both, in proportion to the time in each.
- Download is what the NAS sent to the user (acctoutputoctets), upload what it received.
- Naive timestamps (MariaDB DATETIME, PostgreSQL `timestamp`) are read in the
  `radacct_timezone` setting's zone (FreeRADIUS writes the server's local time).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from rxportal.models import Account, utcnow
from rxportal.models.usage import RadacctSession, RadiusLogin
from rxportal.services import settings as isp_settings
from rxportal.services import usage

WRAP = 2**32
LOOKBACK = timedelta(days=7)  # closed sessions this much older than the last one seen are skipped

isp_settings.register("radacct_url", "", secret=True)
isp_settings.register("radacct_table", "radacct")
isp_settings.register("radacct_timezone", "UTC")


@dataclass(frozen=True)
class Observation:
    """One radacct row as read: counters are totals since the session started."""
    unique_id: str
    username: str
    start: datetime | None
    update: datetime | None
    stop: datetime | None
    octets_in: int  # from the user (upload)
    octets_out: int  # to the user (download)
    wraps_at_32_bits: bool = True

    @property
    def reported_at(self) -> datetime | None:
        return self.stop or self.update or self.start


@dataclass
class Report:
    rows: int = 0
    counted: int = 0  # rows that added bytes
    bytes_down: int = 0
    bytes_up: int = 0
    unmatched: set[str] = field(default_factory=set)


def counter_delta(seen: int, now: int, wraps_at_32_bits: bool) -> int:
    """Bytes counted between two readings of one session's counter."""
    seen, now = int(seen or 0), int(now or 0)
    if now >= seen:
        return now - seen
    if wraps_at_32_bits and seen < WRAP and now < WRAP:
        return now + WRAP - seen
    return now


def total_octets(octets, gigawords=None) -> int:
    return (int(gigawords or 0) << 32) + int(octets or 0)


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def split_by_day(total: int, start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, int]]:
    """Spread `total` bytes over the local days of [start, end] in proportion to time."""
    total = int(total)
    if total <= 0:
        return []
    start_utc, end_utc = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if end_utc <= start_utc:
        return [(end.astimezone(zone).date(), total)]
    pieces: list[tuple[date, int]] = []
    cursor = start_utc
    while cursor < end_utc:
        local_day = cursor.astimezone(zone).date()
        midnight = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)
        piece_end = min(midnight.astimezone(timezone.utc), end_utc)
        pieces.append((local_day, _us(piece_end - cursor)))
        cursor = piece_end
    span = sum(us for _, us in pieces)
    result, given, elapsed = [], 0, 0
    for day, us in pieces:
        elapsed += us
        upto = total * elapsed // span
        if upto > given:
            result.append((day, upto - given))
        given = upto
    return result


def _aware(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(timezone.utc)


class AccountResolver:
    def __init__(self, session: Session):
        self.session = session
        self.cache: dict[str, int | None] = {}

    def __call__(self, username: str) -> int | None:
        if username not in self.cache:
            self.cache[username] = self._find(username)
        return self.cache[username]

    def _find(self, username: str) -> int | None:
        if not username:
            return None
        login = self.session.exec(
            select(RadiusLogin).where(RadiusLogin.username == username)).first()
        if login is not None:
            return login.account_id
        for candidate in dict.fromkeys([username, username.split("@", 1)[0]]):
            account = self.session.exec(
                select(Account).where(Account.number == candidate)).first()
            if account is not None:
                return account.id
        return None


def apply(session: Session, observations: list[Observation], source: str = "default",
          now: datetime | None = None) -> Report:
    """Count what is new in these radacct rows (in order of reading) and roll it up."""
    now = now or utcnow()
    zone = usage.isp_zone(session)
    resolve = AccountResolver(session)
    report = Report()
    states: dict[str, RadacctSession] = {}
    ids = sorted({o.unique_id for o in observations})
    for index in range(0, len(ids), 500):
        for state in session.exec(select(RadacctSession).where(
                RadacctSession.source == source,
                RadacctSession.unique_id.in_(ids[index:index + 500]))):
            states[state.unique_id] = state
    touched: dict[int, set[date]] = {}
    for obs in observations:
        report.rows += 1
        state = states.get(obs.unique_id)
        if state is not None and state.closed:
            continue
        account_id = state.account_id if state is not None else resolve(obs.username)
        if account_id is None:
            report.unmatched.add(obs.username)
            continue
        reported_at = obs.reported_at or now
        if state is None:
            state = RadacctSession(source=source, unique_id=obs.unique_id[:64],
                                   username=obs.username[:253], account_id=account_id,
                                   seen_in=0, seen_out=0, seen_at=obs.start or reported_at)
            states[obs.unique_id] = state
        since = state.seen_at if state.seen_at.tzinfo else state.seen_at.replace(tzinfo=timezone.utc)
        reported_at = max(reported_at, since)
        up = counter_delta(state.seen_in, obs.octets_in, obs.wraps_at_32_bits)
        down = counter_delta(state.seen_out, obs.octets_out, obs.wraps_at_32_bits)
        days = touched.setdefault(account_id, set())
        down_parts = dict(split_by_day(down, since, reported_at, zone))
        up_parts = dict(split_by_day(up, since, reported_at, zone))
        for day in sorted(set(down_parts) | set(up_parts)):
            usage.add_sample(session, account_id, day, down_parts.get(day, 0),
                             up_parts.get(day, 0), "radius")
            days.add(day)
        if down or up:
            report.counted += 1
            report.bytes_down += down
            report.bytes_up += up
        state.seen_in, state.seen_out = int(obs.octets_in), int(obs.octets_out)
        state.seen_at, state.closed = reported_at, obs.stop is not None
        state.updated_at = utcnow()
        session.add(state)
    session.flush()
    usage.after_ingest(session, {k: v for k, v in touched.items() if v})
    return report


def _table(engine: sa.Engine, name: str) -> sa.Table:
    schema, _, table = name.rpartition(".")
    return sa.Table(table, sa.MetaData(), autoload_with=engine, schema=schema or None)


def read(url: str, table_name: str = "radacct", since: datetime | None = None,
         naive_zone: str = "UTC") -> list[Observation]:
    """The radacct rows that may hold new bytes: open sessions, and sessions that stopped
    after `since` (all of them when `since` is None)."""
    zone = ZoneInfo(naive_zone or "UTC")
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        table = _table(engine, table_name)
        cols = {c.name.lower(): c for c in table.columns}
        gigawords = "acctinputgigawords" in cols and "acctoutputgigawords" in cols
        wanted = ["acctuniqueid", "username", "acctstarttime", "acctupdatetime", "acctstoptime",
                  "acctinputoctets", "acctoutputoctets"]
        if gigawords:
            wanted += ["acctinputgigawords", "acctoutputgigawords"]
        query = sa.select(*[cols[name] for name in wanted])
        if since is not None:
            stop = cols["acctstoptime"]
            naive_since = since.astimezone(zone).replace(tzinfo=None)
            is_aware = getattr(stop.type, "timezone", False)
            query = query.where(sa.or_(stop.is_(None), stop >= (since if is_aware else naive_since)))
        order = cols.get("radacctid")
        if order is not None:
            query = query.order_by(order)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    observations = []
    for row in rows:
        values = dict(zip(wanted, row))
        octets_in = total_octets(values["acctinputoctets"], values.get("acctinputgigawords"))
        octets_out = total_octets(values["acctoutputoctets"], values.get("acctoutputgigawords"))
        observations.append(Observation(
            unique_id=str(values["acctuniqueid"]), username=str(values["username"] or ""),
            start=_aware(values["acctstarttime"], zone), update=_aware(values["acctupdatetime"], zone),
            stop=_aware(values["acctstoptime"], zone), octets_in=octets_in,
            octets_out=octets_out, wraps_at_32_bits=not gigawords))
    return observations


def last_closed(session: Session, source: str) -> datetime | None:
    value = session.exec(select(sa.func.max(RadacctSession.seen_at)).where(
        RadacctSession.source == source, RadacctSession.closed == True)).one()  # noqa: E712
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def sync(session: Session, url: str | None = None, table: str | None = None,
         source: str = "default", naive_zone: str | None = None) -> Report:
    """Read the configured radacct table and count what is new. Raises ValueError when no
    URL is configured, and SQLAlchemy's errors when the RADIUS database is unreachable."""
    settings = isp_settings.get_many(session, ["radacct_url", "radacct_table", "radacct_timezone"])
    url = url or settings["radacct_url"]
    if not url:
        raise ValueError("no radacct URL configured (setting radacct_url)")
    newest = last_closed(session, source)
    observations = read(url, table or settings["radacct_table"],
                        since=newest - LOOKBACK if newest else None,
                        naive_zone=naive_zone or settings["radacct_timezone"])
    return apply(session, observations, source=source)
