"""Random and hostile input into the services behind every foundation form: no unhandled
error, and nothing half-saved. (Feature forms add their own fuzz tests beside their services.)"""
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from rxportal.models import Account, AccountPhone
from rxportal.services import accounts, auth, customer_import
from tests.factories import make_account, make_user

HOSTILE = st.sampled_from([
    "<script>alert(1)</script>", "' OR '1'='1", "'; DROP TABLE account; --", "\x00", "\u202e",
    "😀" * 50, "a" * 10_000, "%s%s%n", "{email}", "$username", "\r\nBcc: x@example.org",
])
TEXT = st.one_of(st.text(max_size=300), HOSTILE)
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(username=TEXT, password=TEXT, ip=st.text(string.printable, max_size=80))
def test_login_never_fails_unexpectedly(session, username, password, ip):
    try:
        auth.login(session, username, password, ip=ip)
    except auth.AuthError:
        pass


@FUZZ
@given(email=TEXT)
def test_registration_and_recovery_never_fail_unexpectedly(session, email):
    for action in (auth.register, auth.request_password_reset, auth.request_username_reminder):
        try:
            action(session, email, ip="192.0.2.1")
        except auth.AuthError:
            pass
    session.rollback()


@FUZZ
@given(name=TEXT, phones=st.lists(st.tuples(TEXT, TEXT), max_size=12))
def test_details_are_saved_whole_or_not_at_all(session, name, phones):
    account = session.exec(select(Account).where(Account.number == "fuzz")).first() or \
        make_account(session, number="fuzz", email="fuzz@example.org", name="Before")
    before = (account.name, session.exec(select(AccountPhone.number)
                                         .where(AccountPhone.account_id == account.id)).all())
    try:
        accounts.update_details(session, account.id, name=name, phones=phones, country="CA")
    except accounts.InvalidDetails:
        after = (account.name, session.exec(select(AccountPhone.number)
                                            .where(AccountPhone.account_id == account.id)).all())
        assert after == before


@FUZZ
@given(body=st.lists(st.lists(TEXT, min_size=8, max_size=8), max_size=5))
def test_customer_import_never_fails_unexpectedly(session, body):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["number", "name", "email", "phone", "billing_day", "currency", "language", "plan"])
    writer.writerows(body)
    report = customer_import.import_customers(session, out.getvalue())
    assert report.errors or report.created + report.updated == len(body)
    session.rollback()


def test_fuzzed_logins_do_not_disturb_the_real_user(session):
    make_user(session, make_account(session, number="real"), username="real", password="real phrase here")
    assert auth.login(session, "real", "real phrase here", ip="198.51.100.1").token
