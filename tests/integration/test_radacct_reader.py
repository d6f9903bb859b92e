"""The radacct reader against the real PostgreSQL and MariaDB of this machine, with a radacct
table in FreeRADIUS's own schema made by the test (a unique name per run)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from rxportal.models import Account, AccountService, Plan
from rxportal.models.usage import RadacctSession, RadiusLogin, UsagePeriod
from rxportal.services import radacct, usage
from rxportal.services import settings as isp_settings

GB = usage.GB
POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root:@127.0.0.1:3306/test"

# FreeRADIUS 3 raddb/mods-config/sql/main/postgresql/schema.sql (radacct)
POSTGRES_DDL = """
CREATE TABLE {t} (
    RadAcctId bigserial PRIMARY KEY,
    AcctSessionId text NOT NULL,
    AcctUniqueId text NOT NULL UNIQUE,
    UserName text,
    Realm text,
    NASIPAddress inet NOT NULL,
    NASPortId text,
    NASPortType text,
    AcctStartTime timestamp with time zone,
    AcctUpdateTime timestamp with time zone,
    AcctStopTime timestamp with time zone,
    AcctInterval bigint,
    AcctSessionTime bigint,
    AcctAuthentic text,
    ConnectInfo_start text,
    ConnectInfo_stop text,
    AcctInputOctets bigint,
    AcctOutputOctets bigint,
    CalledStationId text,
    CallingStationId text,
    AcctTerminateCause text,
    ServiceType text,
    FramedProtocol text,
    FramedIPAddress inet,
    FramedIPv6Address inet,
    FramedIPv6Prefix inet,
    FramedInterfaceId text,
    DelegatedIPv6Prefix inet,
    Class text
)"""

# FreeRADIUS 3 raddb/mods-config/sql/main/mysql/schema.sql (radacct)
MARIADB_DDL = """
CREATE TABLE {t} (
  radacctid bigint(21) NOT NULL auto_increment,
  acctsessionid varchar(64) NOT NULL default '',
  acctuniqueid varchar(32) NOT NULL default '',
  username varchar(64) NOT NULL default '',
  realm varchar(64) default '',
  nasipaddress varchar(15) NOT NULL default '',
  nasportid varchar(32) default NULL,
  nasporttype varchar(32) default NULL,
  acctstarttime datetime NULL default NULL,
  acctupdatetime datetime NULL default NULL,
  acctstoptime datetime NULL default NULL,
  acctinterval int(12) default NULL,
  acctsessiontime int(12) unsigned default NULL,
  acctauthentic varchar(32) default NULL,
  connectinfo_start varchar(128) default NULL,
  connectinfo_stop varchar(128) default NULL,
  acctinputoctets bigint(20) default NULL,
  acctoutputoctets bigint(20) default NULL,
  calledstationid varchar(50) NOT NULL default '',
  callingstationid varchar(50) NOT NULL default '',
  acctterminatecause varchar(32) NOT NULL default '',
  servicetype varchar(32) default NULL,
  framedprotocol varchar(32) default NULL,
  framedipaddress varchar(15) NOT NULL default '',
  framedipv6address varchar(45) NOT NULL default '',
  framedipv6prefix varchar(45) NOT NULL default '',
  framedinterfaceid varchar(44) NOT NULL default '',
  delegatedipv6prefix varchar(45) NOT NULL default '',
  class varchar(64) default NULL,
  {extra}
  PRIMARY KEY (radacctid),
  UNIQUE KEY acctuniqueid (acctuniqueid),
  KEY username (username),
  KEY acctsessionid (acctsessionid),
  KEY acctstarttime (acctstarttime),
  KEY acctstoptime (acctstoptime)
) ENGINE = INNODB"""

GIGAWORD_COLUMNS = ("acctinputgigawords int(12) default NULL, "
                    "acctoutputgigawords int(12) default NULL,")


class Radius:
    """A radacct table in a real database, written the way FreeRADIUS's queries write it."""

    def __init__(self, url: str, table: str, naive: bool):
        self.url, self.table, self.naive = url, table, naive
        self.engine = sa.create_engine(url)

    def ts(self, value: datetime | None):
        if value is None or not self.naive:
            return value
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def start(self, uid, user, when):
        self._exec(f"INSERT INTO {self.table} (acctsessionid, acctuniqueid, username, "
                   "nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, "
                   "acctoutputoctets) VALUES (:sid, :uid, :user, '10.0.0.1', :t, :t, 0, 0)",
                   sid=uid, uid=uid, user=user, t=self.ts(when))

    def interim(self, uid, when, up, down, **extra):
        sets = ", ".join(f"{k} = :{k}" for k in extra)
        self._exec(f"UPDATE {self.table} SET acctupdatetime = :t, acctinputoctets = :up, "
                   f"acctoutputoctets = :down{', ' + sets if sets else ''} WHERE acctuniqueid = :uid",
                   t=self.ts(when), up=up, down=down, uid=uid, **extra)

    def stop(self, uid, when, up, down):
        self._exec(f"UPDATE {self.table} SET acctstoptime = :t, acctupdatetime = :t, "
                   "acctinputoctets = :up, acctoutputoctets = :down WHERE acctuniqueid = :uid",
                   t=self.ts(when), up=up, down=down, uid=uid)

    def _exec(self, sql, **params):
        with self.engine.begin() as connection:
            connection.execute(sa.text(sql), params)


@pytest.fixture()
def postgres_radius():
    schema = f"radius_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        connection.execute(sa.text(POSTGRES_DDL.format(t=f"{schema}.radacct")))
    radius = Radius(POSTGRES_URL, f"{schema}.radacct", naive=False)
    yield radius
    radius.engine.dispose()
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _mariadb(extra=""):
    table = f"radacct_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(MARIADB_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(MARIADB_DDL.format(t=table, extra=extra)))
    return engine, Radius(MARIADB_URL, table, naive=True)


@pytest.fixture()
def mariadb_radius():
    engine, radius = _mariadb()
    yield radius
    radius.engine.dispose()
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {radius.table}"))
    engine.dispose()


@pytest.fixture()
def mariadb_gigawords_radius():
    engine, radius = _mariadb(GIGAWORD_COLUMNS)
    yield radius
    radius.engine.dispose()
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {radius.table}"))
    engine.dispose()


def make_account(session, number, billing_day):
    account = Account(number=number, name="Radius Person", email=f"{number}@example.net",
                      billing_day=billing_day, currency="CAD")
    plan = Plan(name="Plan", price_minor=5000, currency="CAD", data_cap_bytes=500 * GB)
    session.add_all([account, plan])
    session.flush()
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name="Plan",
                               price_minor=5000, started_on=date(2025, 1, 1)))
    session.flush()
    return account


def configure(session, radius):
    isp_settings.put(session, "timezone", "UTC")
    isp_settings.put(session, "radacct_url", radius.url)
    isp_settings.put(session, "radacct_table", radius.table)
    isp_settings.put(session, "radacct_timezone", "UTC")
    session.flush()


def periods_of(session, account):
    return {r.period_start: (r.bytes_down, r.bytes_up)
            for r in session.exec(select(UsagePeriod).where(UsagePeriod.account_id == account.id))}


def story_of_a_session(session, radius):
    """Start, interims, a re-read, a stop across a billing date, an unknown user, a mapped one."""
    configure(session, radius)
    alex = make_account(session, "300001", billing_day=15)
    camille = make_account(session, "300002", billing_day=1)
    session.add(RadiusLogin(username="camille@fibre.example", account_id=camille.id))
    session.flush()

    t0 = datetime(2026, 11, 14, 18, 0, tzinfo=timezone.utc)
    radius.start("sess-a", "300001", t0)
    radius.start("sess-c", "camille@fibre.example", t0)
    radius.start("sess-x", "nobody", t0)
    radius.interim("sess-a", t0 + timedelta(hours=3), up=GB, down=3 * GB)   # all on Nov 14
    radius.interim("sess-c", t0 + timedelta(hours=1), up=0, down=GB)
    radius.interim("sess-x", t0 + timedelta(hours=1), up=0, down=GB)
    report = radacct.sync(session)
    assert report.rows == 3 and report.counted == 2 and report.unmatched == {"nobody"}
    assert periods_of(session, alex) == {date(2026, 10, 15): (3 * GB, GB)}

    report = radacct.sync(session)  # nothing new: nothing counted twice
    assert report.counted == 0
    assert periods_of(session, alex) == {date(2026, 10, 15): (3 * GB, GB)}

    # 6 more GB down between 21:00 on the 14th and 09:00 on the 15th (the billing date):
    # 3 hours before midnight, 9 after.
    radius.stop("sess-a", t0 + timedelta(hours=15), up=GB, down=9 * GB)
    radacct.sync(session)
    assert periods_of(session, alex) == {date(2026, 10, 15): (3 * GB + 1_500_000_000, GB),
                                         date(2026, 11, 15): (4_500_000_000, 0)}
    radacct.sync(session)
    assert periods_of(session, alex)[date(2026, 11, 15)] == (4_500_000_000, 0)
    assert session.exec(select(RadacctSession).where(
        RadacctSession.unique_id == "sess-a")).one().closed
    assert periods_of(session, camille) == {date(2026, 11, 1): (GB, 0)}
    return alex


def test_postgresql_radacct_sessions_count_once_and_split(session, postgres_radius):
    story_of_a_session(session, postgres_radius)


def test_mariadb_radacct_sessions_count_once_and_split(session, mariadb_radius):
    story_of_a_session(session, mariadb_radius)


def test_mariadb_naive_times_read_in_the_radius_servers_zone(session, mariadb_radius):
    configure(session, mariadb_radius)
    isp_settings.put(session, "radacct_timezone", "America/Toronto")
    account = make_account(session, "300001", billing_day=15)
    # 20:00 Toronto on Nov 14 is 01:00 UTC on Nov 15: the new period (ISP days in UTC here)
    local = datetime(2026, 11, 14, 20, 0)
    mariadb_radius._exec(
        f"INSERT INTO {mariadb_radius.table} (acctsessionid, acctuniqueid, username, nasipaddress,"
        " acctstarttime, acctupdatetime, acctstoptime, acctinputoctets, acctoutputoctets) VALUES"
        " ('s', 's', '300001', '10.0.0.1', :t, :t2, :t2, 0, :down)",
        t=local, t2=local + timedelta(hours=1), down=GB)
    radacct.sync(session)
    assert periods_of(session, account) == {date(2026, 11, 15): (GB, 0)}


def test_mariadb_32_bit_counters_with_gigaword_columns(session, mariadb_gigawords_radius):
    radius = mariadb_gigawords_radius
    configure(session, radius)
    account = make_account(session, "300001", billing_day=1)
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    radius.start("g", "300001", t0)
    radius.interim("g", t0 + timedelta(hours=1), up=100, down=2**32 - 10,
                   acctinputgigawords=0, acctoutputgigawords=0)
    radacct.sync(session)
    # the 32-bit octets counter wrapped; the gigawords column says so
    radius.interim("g", t0 + timedelta(hours=2), up=100, down=90,
                   acctinputgigawords=0, acctoutputgigawords=3)
    radacct.sync(session)
    assert periods_of(session, account) == {date(2026, 11, 1): (3 * 2**32 + 90, 100)}


def test_postgresql_32_bit_counter_wrap_without_gigawords(session, postgres_radius):
    configure(session, postgres_radius)
    account = make_account(session, "300001", billing_day=1)
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    postgres_radius.start("w", "300001", t0)
    postgres_radius.interim("w", t0 + timedelta(hours=1), up=0, down=2**32 - 500)
    radacct.sync(session)
    postgres_radius.interim("w", t0 + timedelta(hours=2), up=0, down=1500)
    radacct.sync(session)
    assert periods_of(session, account) == {date(2026, 11, 1): (2**32 + 1500, 0)}


def test_an_unreachable_radius_database_raises_and_writes_nothing(session):
    isp_settings.put(session, "radacct_url", "postgresql+psycopg2://postgres@127.0.0.1:1/none")
    with pytest.raises(sa.exc.OperationalError):
        radacct.sync(session)
    assert session.exec(select(RadacctSession)).all() == []


def test_no_url_configured_is_a_clear_error(session):
    with pytest.raises(ValueError, match="radacct_url"):
        radacct.sync(session)


def test_cli_reads_radacct_and_reports_unknown_users(session, postgres_radius, capsys):
    from rxportal.cli import main

    account = make_account(session, "300001", billing_day=1)
    isp_settings.put(session, "timezone", "UTC")
    session.commit()
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    postgres_radius.start("c1", "300001", t0)
    postgres_radius.stop("c1", t0 + timedelta(hours=1), up=GB, down=4 * GB)
    postgres_radius.start("c2", "ghost", t0)
    assert main(["read-radacct", "--url", postgres_radius.url,
                 "--table", postgres_radius.table]) == 0
    out = capsys.readouterr().out
    assert "read 2 rows, 1 with new bytes" in out and "ghost" in out
    session.expire_all()
    assert periods_of(session, account) == {date(2026, 11, 1): (4 * GB, GB)}
    assert main(["read-radacct"]) == 2  # no URL configured
    assert main(["read-radacct", "--url", "postgresql+psycopg2://postgres@127.0.0.1:1/x"]) == 1


def test_the_periodic_job_reads_radacct_when_configured(session, mariadb_radius):
    from rxportal.tasks.usage import read_radacct as job

    assert job.call_local() == 0  # nothing configured: nothing to do
    configure(session, mariadb_radius)
    account = make_account(session, "300001", billing_day=1)
    session.commit()
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    mariadb_radius.start("j", "300001", t0)
    mariadb_radius.interim("j", t0 + timedelta(minutes=5), up=10, down=20)
    assert job.call_local() == 1
    assert job.call_local() == 0
    session.expire_all()
    assert periods_of(session, account) == {date(2026, 11, 1): (20, 10)}
    isp_settings.put(session, "radacct_url", "mysql+pymysql://root:@127.0.0.1:1/none")
    session.commit()
    assert job.call_local() == 0  # the RADIUS database is down: logged, retried next run
