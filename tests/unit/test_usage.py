"""The usage service: periods and roll-ups, figures and projection, GB formatting, alerts,
CSV checks and import, top-offs."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from rxportal.models import Account, AccountService, OutboxMail, Plan, Transaction
from rxportal.models.usage import (TopOffProduct, TopOffPurchase, UsageAlertSent, UsagePeriod,
                                   UsageSample)
from rxportal.services import periods, usage

GB = usage.GB


def make_account(session, number="200001", billing_day=15, cap_gb=500, email="a@example.net",
                 language="en", currency="CAD", alerts=True):
    account = Account(number=number, name="Test Person", email=email, billing_day=billing_day,
                      currency=currency, language=language, usage_alerts=alerts)
    plan = Plan(name="Plan", price_minor=5000, currency=currency,
                data_cap_bytes=cap_gb * GB if cap_gb else None)
    session.add_all([account, plan])
    session.flush()
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name="Plan",
                               price_minor=5000, started_on=date(2025, 1, 1)))
    session.flush()
    return account


def add(session, account, day, down, up=0):
    usage.add_sample(session, account.id, day, down, up, "test")
    session.flush()
    usage.rollup(session, account.id, [day])


class ChargeFake:
    """A named fake of the billing feature's payment service: records every charge it is
    asked for and answers approved or declined; repeated idempotency keys answer the same."""

    def __init__(self, approve=True):
        self.approve = approve
        self.requests = []
        self.answers = {}

    def __call__(self, request):
        self.requests.append(request)
        if request.idempotency_key not in self.answers:
            self.answers[request.idempotency_key] = usage.ChargeResult(
                ok=True, reference=f"pi_{len(self.answers) + 1}") if self.approve else \
                usage.ChargeResult(ok=False, error="Your card was declined.")
        return self.answers[request.idempotency_key]

    @property
    def distinct_charges(self):
        return len({r.idempotency_key for r in self.requests})


# --- periods and roll-ups ----------------------------------------------------------------------

def test_a_period_runs_from_the_billing_day_to_the_day_before_the_next():
    assert periods.period_containing(15, date(2026, 11, 20)) == (date(2026, 11, 15), date(2026, 12, 14))
    assert periods.period_containing(15, date(2026, 11, 14)) == (date(2026, 10, 15), date(2026, 11, 14))
    assert periods.period_containing(31, date(2026, 2, 28)) == (date(2026, 2, 28), date(2026, 3, 30))


def test_samples_roll_up_into_the_period_of_their_day(session):
    account = make_account(session)
    add(session, account, date(2026, 11, 14), 10 * GB, 1 * GB)
    add(session, account, date(2026, 11, 15), 20 * GB, 2 * GB)
    add(session, account, date(2026, 12, 14), 5 * GB)
    rows = {r.period_start: r for r in session.exec(select(UsagePeriod))}
    assert rows[date(2026, 10, 15)].bytes_down == 10 * GB
    assert rows[date(2026, 10, 15)].bytes_up == 1 * GB
    assert rows[date(2026, 11, 15)].bytes_down == 25 * GB
    assert rows[date(2026, 11, 15)].period_end == date(2026, 12, 14)


def test_a_new_period_starts_at_the_next_billing_date(session):
    account = make_account(session, billing_day=1)
    add(session, account, date(2026, 10, 31), 7 * GB)
    add(session, account, date(2026, 11, 1), 3 * GB)
    figures = usage.current(session, account.id, today=date(2026, 11, 1))
    assert (figures.start, figures.used) == (date(2026, 11, 1), 3 * GB)


def test_rollup_all_follows_a_changed_billing_day(session):
    account = make_account(session, billing_day=1)
    add(session, account, date(2026, 10, 10), 4 * GB)
    add(session, account, date(2026, 10, 20), 6 * GB)
    account.billing_day = 15
    session.add(account)
    usage.rollup_all(session)
    hist = usage.history(session, account.id, today=date(2026, 10, 25), count=2)
    assert [(p.start, p.used) for p in hist] == [(date(2026, 9, 15), 4 * GB),
                                                  (date(2026, 10, 15), 6 * GB)]


def test_history_has_twelve_periods_oldest_first_with_zero_for_missing(session):
    account = make_account(session)
    add(session, account, date(2026, 5, 20), 100 * GB)
    hist = usage.history(session, account.id, today=date(2026, 11, 20))
    assert len(hist) == 12
    assert hist[0].start == date(2025, 12, 15) and hist[-1].start == date(2026, 11, 15)
    assert [p.used for p in hist if p.used] == [100 * GB]
    assert sum(1 for p in hist if p.used == 0) == 11


def test_another_accounts_usage_is_not_counted(session):
    mine = make_account(session, number="1")
    other = make_account(session, number="2")
    add(session, other, date(2026, 11, 20), 50 * GB)
    assert usage.current(session, mine.id, today=date(2026, 11, 21)).used == 0
    assert usage.current(session, other.id, today=date(2026, 11, 21)).used == 50 * GB


# --- figures and projection --------------------------------------------------------------------

def test_projection_follows_the_pace_so_far():
    # 10 days of a 30-day period used 100 GB: 300 GB at the end.
    assert usage.project(100 * GB, date(2026, 11, 15), date(2026, 12, 14), date(2026, 11, 24)) == 300 * GB
    # the last day: what is used is the projection
    assert usage.project(42, date(2026, 11, 15), date(2026, 12, 14), date(2026, 12, 14)) == 42
    # first day counts as one day
    assert usage.project(5, date(2026, 11, 15), date(2026, 12, 14), date(2026, 11, 15)) == 150


def test_current_warns_when_the_projection_passes_the_cap(session):
    account = make_account(session, cap_gb=500)
    add(session, account, date(2026, 11, 16), 200 * GB)
    figures = usage.current(session, account.id, today=date(2026, 11, 24))  # day 10 of 30
    assert figures.cap == 500 * GB
    assert figures.projected == 600 * GB
    assert figures.will_exceed and not figures.over
    assert figures.percent == 40
    assert figures.days_left == 21


def test_unlimited_service_has_no_cap_nor_warning(session):
    account = make_account(session, cap_gb=None)
    add(session, account, date(2026, 11, 16), 2000 * GB)
    figures = usage.current(session, account.id, today=date(2026, 11, 17))
    assert figures.cap is None and figures.percent is None and not figures.will_exceed


def test_cap_includes_top_offs_paid_this_period_only(session):
    account = make_account(session, cap_gb=500)
    product = TopOffProduct(name="50 GB", bytes=50 * GB, price_minor=1000, currency="CAD")
    session.add(product)
    session.flush()
    for start, status in ((date(2026, 11, 15), "paid"), (date(2026, 11, 15), "declined"),
                          (date(2026, 10, 15), "paid")):
        session.add(TopOffPurchase(account_id=account.id, product_id=product.id,
                                   period_start=start, bytes=50 * GB, price_minor=1000,
                                   currency="CAD", request_key=f"{start}{status}", status=status))
    session.flush()
    assert usage.current(session, account.id, today=date(2026, 11, 20)).cap == 550 * GB


# --- formatting ------------------------------------------------------------------------------

@pytest.mark.parametrize("value,en,fr", [
    (412 * GB + 300 * usage.MB, "412 GB", "412 Go"),
    (3_449_000_000, "3.4 GB", "3,4 Go"),
    (850 * usage.MB, "850 MB", "850 Mo"),
    (1_250 * GB, "1.25 TB", "1,25 To"),
    (0, "0 MB", "0 Mo"),
    (12 * GB, "12 GB", "12 Go"),
])
def test_bytes_read_as_a_person_reads_them_in_each_language(value, en, fr):
    assert usage.format_bytes(value, "en") == en
    assert usage.format_bytes(value, "fr", "CA").replace("\u202f", " ").replace("\xa0", " ") == fr


# --- alerts ------------------------------------------------------------------------------------

def test_alerts_at_80_and_100_percent_once_each_per_period(session):
    account = make_account(session, cap_gb=100)
    today = date(2026, 11, 20)
    add(session, account, today, 79 * GB)
    assert usage.check_alerts(session, account.id, today) == []
    add(session, account, today, 2 * GB)
    assert usage.check_alerts(session, account.id, today) == [80]
    assert usage.check_alerts(session, account.id, today) == []
    add(session, account, today, 30 * GB)
    assert usage.check_alerts(session, account.id, today) == [100]
    assert usage.check_alerts(session, account.id, today) == []
    mails = session.exec(select(OutboxMail).where(OutboxMail.to_addr == account.email)).all()
    assert [m.subject for m in mails] == [
        "You have used 80% of your data for this period",
        "You have used 100% of your data for this period"]
    assert "81 GB" in mails[0].text_body and "100 GB" in mails[0].text_body
    # the next period starts over
    add(session, account, date(2026, 12, 20), 90 * GB)
    assert usage.check_alerts(session, account.id, date(2026, 12, 20)) == [80]


def test_jumping_past_the_cap_sends_one_mail_in_the_customers_language(session):
    account = make_account(session, cap_gb=100, language="fr")
    today = date(2026, 11, 20)
    add(session, account, today, 150 * GB)
    assert usage.check_alerts(session, account.id, today) == [80, 100]
    mails = session.exec(select(OutboxMail)).all()
    assert len(mails) == 1
    assert mails[0].subject == "Vous avez utilisé 100 % de vos données pour cette période"
    assert "150 Go" in mails[0].text_body


def test_no_alert_when_the_customer_turned_them_off_or_has_no_cap(session):
    quiet = make_account(session, number="1", cap_gb=100, alerts=False)
    unlimited = make_account(session, number="2", cap_gb=None)
    today = date(2026, 11, 20)
    add(session, quiet, today, 150 * GB)
    add(session, unlimited, today, 150 * GB)
    assert usage.check_alerts(session, quiet.id, today) == []
    assert usage.check_alerts(session, unlimited.id, today) == []
    assert session.exec(select(OutboxMail)).all() == []
    assert session.exec(select(UsageAlertSent)).all() == []


def test_imported_usage_triggers_the_alert(session):
    account = make_account(session, cap_gb=100)
    today = date(2026, 11, 20)
    checked, result = usage.import_csv(session, b"200001,2026-11-19,85000000000,0\n", today=today)
    assert not checked.errors and result.rows == 1
    assert [a.threshold for a in session.exec(select(UsageAlertSent))] == [80]


def test_alert_mail_is_delivered_through_real_smtp(session, smtp_server):
    from rxportal.services import mail

    account = make_account(session, cap_gb=100)
    today = date(2026, 11, 20)
    add(session, account, today, 85 * GB)
    usage.check_alerts(session, account.id, today)
    outbox = session.exec(select(OutboxMail)).one()
    assert mail.deliver(session, outbox.id)
    received = smtp_server.to(account.email)
    assert len(received) == 1 and "80%" in str(received[0]["Subject"])


# --- CSV ---------------------------------------------------------------------------------------

def test_csv_import_with_header_dates_and_periods(session):
    account = make_account(session)
    data = (b"account,date,bytes_down,bytes_up\n"
            b"200001,2026-11-16,1000,10\n"
            b"\n"
            b"200001,2026-10,5000,50\n")
    checked, result = usage.import_csv(session, data, today=date(2026, 11, 20))
    assert checked.errors == [] and result.rows == 2 and not result.duplicate
    samples = session.exec(select(UsageSample).order_by(UsageSample.day)).all()
    assert [(s.day, s.bytes_down, s.bytes_up, s.source) for s in samples] == [
        (date(2026, 10, 15), 5000, 50, "csv"), (date(2026, 11, 16), 1000, 10, "csv")]
    assert usage.current(session, account.id, today=date(2026, 11, 20)).used == 1010


def test_a_bad_csv_imports_nothing_and_names_every_bad_line(session):
    make_account(session)
    data = (b"200001,2026-11-16,1000,10\n"
            b"999999,2026-11-16,1000,10\n"
            b"200001,16/11/2026,1000,10\n"
            b"200001,2026-11-16,-5,10\n"
            b"200001,2026-11-16,1.5,10\n"
            b"200001,2026-11-16,1000\n"
            b"200001,2099-01-01,1000,10\n"
            b"200001,2026-02-30,1,1\n"
            b"<script>alert(1)</script>,2026-11-16,1,1\n"
            b"'; DROP TABLE usagesample; --,2026-11-16,1,1\n")
    checked, result = usage.import_csv(session, data, today=date(2026, 11, 20))
    assert result is None
    assert [line for line, _ in checked.errors] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    problems = dict(checked.errors)
    assert "unknown account '999999'" in problems[2]
    assert "YYYY-MM-DD" in problems[3]
    assert "whole number" in problems[4] or "negative" in problems[4]
    assert "expected 4 fields" in problems[6]
    assert "future" in problems[7]
    assert "not a real date" in problems[8]
    assert session.exec(select(UsageSample)).all() == []
    assert session.exec(select(UsagePeriod)).all() == []


def test_csv_edge_cases_empty_too_long_not_utf8(session):
    make_account(session)
    assert usage.import_csv(session, b"", today=date(2026, 11, 20))[0].errors == [(0, "no usage rows")]
    assert usage.import_csv(session, b"account,date,bytes_down,bytes_up\n",
                            today=date(2026, 11, 20))[0].errors == [(0, "no usage rows")]
    long = ("9" * 40 + ",2026-11-16,1,1\n").encode()
    assert "too long" in usage.import_csv(session, long, today=date(2026, 11, 20))[0].errors[0][1]
    huge = b"200001,2026-11-16,99999999999999999,1\n"
    assert "too large" in usage.import_csv(session, huge, today=date(2026, 11, 20))[0].errors[0][1]
    assert usage.import_csv(session, b"\xff\xfe\x00", today=date(2026, 11, 20))[0].errors == [
        (0, "the file is not UTF-8 text")]
    assert session.exec(select(UsageSample)).all() == []


def test_the_same_csv_imported_twice_counts_once(session):
    account = make_account(session)
    data = b"200001,2026-11-16,1000,10\n"
    first = usage.import_csv(session, data, today=date(2026, 11, 20))[1]
    second = usage.import_csv(session, data, today=date(2026, 11, 20))[1]
    assert not first.duplicate and second.duplicate and second.batch_id == first.batch_id
    assert usage.current(session, account.id, today=date(2026, 11, 20)).used == 1010


def test_cli_import_reports_line_numbers_and_exit_code(session, tmp_path, capsys):
    from rxportal.cli import main

    make_account(session)
    session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_text("200001,2026-11-16,1000,10\nnope,2026-11-16,1,1\n")
    assert main(["import-usage", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 2: unknown account 'nope'" in err and "nothing imported" in err
    good = tmp_path / "good.csv"
    good.write_text("200001,2026-11-16,1000,10\n")
    assert main(["import-usage", str(good)]) == 0
    assert "imported 1 rows" in capsys.readouterr().out
    assert main(["import-usage", str(good)]) == 0
    assert "already imported" in capsys.readouterr().out
    session.expire_all()
    assert len(session.exec(select(UsageSample)).all()) == 1


# --- top-offs ----------------------------------------------------------------------------------

def make_product(session, gb=50, price=1500, currency="CAD", active=True):
    product = TopOffProduct(name=f"{gb} GB", bytes=gb * GB, price_minor=price,
                            currency=currency, active=active)
    session.add(product)
    session.flush()
    return product


def test_a_top_off_raises_the_cap_charges_once_and_writes_the_ledger(session):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    charge = ChargeFake()
    today = date(2026, 11, 20)
    purchase = usage.purchase_topoff(session, account.id, product.id, "key-1", charge, today=today)
    assert purchase.status == "paid" and purchase.payment_reference == "pi_1"
    assert usage.current(session, account.id, today=today).cap == 550 * GB
    ledger = session.exec(select(Transaction).where(Transaction.account_id == account.id)).all()
    assert sorted(t.amount_minor for t in ledger) == [-1500, 1500]
    assert charge.requests[0].amount_minor == 1500 and charge.requests[0].currency == "CAD"
    receipt = session.exec(select(OutboxMail)).one()
    assert receipt.subject == "Receipt for your data top-off" and "550 GB" in receipt.text_body


def test_the_same_confirmation_is_paid_once_whatever_the_clicks(session):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    charge = ChargeFake()
    today = date(2026, 11, 20)
    for _ in range(3):
        usage.purchase_topoff(session, account.id, product.id, "double-click", charge, today=today)
    assert charge.distinct_charges == 1 and len(charge.requests) == 1
    assert usage.current(session, account.id, today=today).cap == 550 * GB
    assert len(session.exec(select(Transaction)).all()) == 2


def test_a_declined_top_off_changes_nothing(session):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    today = date(2026, 11, 20)
    purchase = usage.purchase_topoff(session, account.id, product.id, "k", ChargeFake(approve=False),
                                     today=today)
    assert purchase.status == "declined" and "declined" in purchase.error
    assert usage.current(session, account.id, today=today).cap == 500 * GB
    assert session.exec(select(Transaction)).all() == []
    assert session.exec(select(OutboxMail)).all() == []


def test_a_gateway_that_is_down_leaves_nothing_and_the_retry_uses_the_same_key(session):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    session.commit()
    keys = []

    def down(request):
        keys.append(request.idempotency_key)
        raise ConnectionError("gateway down")

    with pytest.raises(ConnectionError):
        usage.purchase_topoff(session, account.id, product.id, "k", down, today=date(2026, 11, 20))
    session.rollback()
    assert session.exec(select(TopOffPurchase)).all() == []
    charge = ChargeFake()
    usage.purchase_topoff(session, account.id, product.id, "k", charge, today=date(2026, 11, 20))
    assert charge.requests[0].idempotency_key == keys[0]


def test_top_off_refused_for_unlimited_inactive_or_foreign_currency(session):
    unlimited = make_account(session, number="1", cap_gb=None)
    capped = make_account(session, number="2", cap_gb=500)
    product = make_product(session)
    inactive = make_product(session, active=False)
    usd = make_product(session, currency="USD")
    with pytest.raises(usage.TopOffError) as error:
        usage.purchase_topoff(session, unlimited.id, product.id, "a", ChargeFake())
    assert error.value.code == "no_cap"
    for product_id in (inactive.id, usd.id, 99999):
        with pytest.raises(usage.TopOffError) as error:
            usage.purchase_topoff(session, capped.id, product_id, "b", ChargeFake())
        assert error.value.code == "not_found"
    assert [p.id for p in usage.topoff_products(session, capped.id)] == [product.id]


def test_another_accounts_purchase_key_is_not_theirs(session):
    demo = make_account(session, number="1", cap_gb=500)
    demo2 = make_account(session, number="2", cap_gb=500)
    product = make_product(session)
    charge = ChargeFake()
    usage.purchase_topoff(session, demo.id, product.id, "same-key", charge, today=date(2026, 11, 20))
    other = usage.purchase_topoff(session, demo2.id, product.id, "same-key", charge,
                                  today=date(2026, 11, 20))
    assert other.account_id == demo2.id
    assert {r.account_id for r in charge.requests} == {demo.id, demo2.id}
    assert usage.current(session, demo.id, today=date(2026, 11, 20)).cap == 550 * GB
    assert usage.current(session, demo2.id, today=date(2026, 11, 20)).cap == 550 * GB
    assert len(usage.topoff_history(session, demo.id, date(2026, 11, 15))) == 1


def test_billing_summary_only_with_a_cap_in_the_viewers_language(session):
    capped = make_account(session, number="1", cap_gb=500)
    unlimited = make_account(session, number="2", cap_gb=None)
    add(session, capped, date(2026, 11, 20), 125 * GB)
    summary = usage.billing_summary(session, capped.id, "fr", "CA", today=date(2026, 11, 21))
    assert (summary.used.replace("\u202f", " "), summary.cap.replace("\u202f", " "),
            summary.percent) == ("125 Go", "500 Go", 25)
    assert summary.resets_on == "15 déc. 2026"
    assert usage.billing_summary(session, unlimited.id, "en", today=date(2026, 11, 21)) is None


def test_cli_defines_top_off_products_and_radius_logins(session, capsys):
    from rxportal.cli import main
    from rxportal.models.usage import RadiusLogin

    account = make_account(session)
    session.commit()
    assert main(["add-topoff", "Top-Off 10 GB", "10", "300"]) == 0
    assert main(["add-topoff", "", "10", "300"]) == 2
    assert main(["radius-login", "alex@fibre.example", account.number]) == 0
    assert main(["radius-login", "x", "no-such-account"]) == 1
    session.expire_all()
    product = session.exec(select(TopOffProduct)).one()
    assert (product.bytes, product.price_minor, product.currency) == (10 * GB, 300, "CAD")
    assert session.exec(select(RadiusLogin)).one().account_id == account.id
