"""Staff logins: password, then TOTP enrolment or a code, recovery codes, throttling, roles,
and customer sessions that never open the console."""
from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from rxportal.models import Account, AuditLog, LoginAttempt, PortalUser, utcnow
from rxportal.models.staff import StaffSession, StaffUser
from rxportal.services import auth, passwords, staff
from rxportal.services.staff import StaffAuthError, StaffDenied

PASSWORD = "correct-horse-admin"


def make_staff(session, username="alice", role="administrator"):
    user, _ = staff.create_staff(session, username, role, PASSWORD)
    session.commit()
    return user


def enrol(session, username="alice", role="administrator"):
    """A staff user with an authenticator, and a live verified session token."""
    make_staff(session, username, role)
    result = staff.login(session, username, PASSWORD)
    enrolment = staff.start_enrolment(session, result.token)
    codes = staff.confirm_enrolment(session, result.token, pyotp.TOTP(enrolment.secret).now())
    session.commit()
    return result.token, enrolment.secret, codes


def next_code(secret):
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def attempt(session, fn, *args, **kwargs):
    """Call like a page handler does: errors are caught inside the transaction, which commits."""
    try:
        return fn(session, *args, **kwargs)
    except StaffAuthError as error:
        session.commit()
        return error


def test_create_staff_checks_username_role_and_password(session):
    with pytest.raises(StaffAuthError) as e:
        staff.create_staff(session, "", "administrator", PASSWORD)
    assert e.value.field == "username"
    with pytest.raises(StaffAuthError):
        staff.create_staff(session, "<script>", "administrator", PASSWORD)
    with pytest.raises(StaffAuthError):
        staff.create_staff(session, "x" * 100, "administrator", PASSWORD)
    with pytest.raises(StaffAuthError) as e:
        staff.create_staff(session, "bob", "root", PASSWORD)
    assert e.value.field == "role"
    with pytest.raises(StaffAuthError) as e:
        staff.create_staff(session, "bob", "support", "password")
    assert e.value.field == "password"
    user, generated = staff.create_staff(session, "bob", "support")
    assert passwords.verify_password(generated, user.password_hash)
    with pytest.raises(StaffAuthError, match="already taken"):
        staff.create_staff(session, "BOB", "support", PASSWORD)
    assert session.exec(select(AuditLog).where(AuditLog.action == "staff_created")).first()


def test_first_login_enrols_an_authenticator_with_a_qr_code_and_recovery_codes(session):
    make_staff(session)
    result = staff.login(session, "Alice", PASSWORD)
    assert result.needs_enrolment
    # The pending session opens nothing yet.
    assert staff.current_staff(session, result.token) is None
    enrolment = staff.start_enrolment(session, result.token)
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml;base64,")
    assert "otpauth://totp/" in enrolment.uri and enrolment.secret in enrolment.uri
    assert staff.start_enrolment(session, result.token).secret == enrolment.secret
    wrong = attempt(session, staff.confirm_enrolment, result.token, "000000")
    assert isinstance(wrong, StaffAuthError) and wrong.field == "code"
    codes = staff.confirm_enrolment(session, result.token, pyotp.TOTP(enrolment.secret).now())
    assert len(codes) == 10 and len(set(codes)) == 10
    user = session.exec(select(StaffUser).where(StaffUser.username == "alice")).one()
    assert staff.open_totp_secret(user.totp_secret) == enrolment.secret
    assert not user.totp_pending_secret
    assert all(code not in str(user.recovery_codes) for code in codes)  # stored hashed
    current = staff.current_staff(session, result.token)
    assert current.username == "alice" and current.role == "administrator"


def test_later_logins_need_a_fresh_code_and_a_code_is_used_once(session):
    _, secret, _ = enrol(session)
    result = staff.login(session, "alice", PASSWORD)
    assert not result.needs_enrolment
    with pytest.raises(StaffAuthError):
        staff.start_enrolment(session, result.token)
    # The code used at enrolment cannot be replayed.
    replay = attempt(session, staff.verify_code, result.token, pyotp.TOTP(secret).now())
    assert isinstance(replay, StaffAuthError)
    staff.verify_code(session, result.token, next_code(secret))
    assert staff.current_staff(session, result.token) is not None


def test_recovery_code_works_once(session):
    _, _, codes = enrol(session)
    first = staff.login(session, "alice", PASSWORD)
    staff.verify_code(session, first.token, codes[0].upper())
    assert staff.current_staff(session, first.token) is not None
    second = staff.login(session, "alice", PASSWORD)
    again = attempt(session, staff.verify_code, second.token, codes[0])
    assert isinstance(again, StaffAuthError)
    staff.verify_code(session, second.token, codes[1])


def test_wrong_password_unknown_user_and_disabled_user_get_the_same_answer(session):
    enrol(session)
    messages = {attempt(session, staff.login, "alice", "wrong-password-1").msgid,
                attempt(session, staff.login, "nobody", PASSWORD).msgid}
    user = session.exec(select(StaffUser).where(StaffUser.username == "alice")).one()
    user.disabled = True
    session.add(user)
    session.commit()
    messages.add(attempt(session, staff.login, "alice", PASSWORD).msgid)
    assert messages == {staff.LOGIN_FAILED}
    assert attempt(session, staff.login, "", "").msgid == "Enter your username and password."


def test_password_guesses_are_throttled_without_locking_out_a_known_browser(session):
    enrol(session)
    good = staff.login(session, "alice", PASSWORD, ip="10.0.0.1")
    for n in range(5):
        assert attempt(session, staff.login, "alice", f"guess-{n}-xxxx", ip="10.0.0.9").msgid == staff.LOGIN_FAILED
    assert attempt(session, staff.login, "alice", PASSWORD, ip="10.0.0.9").msgid == staff.THROTTLED
    # Spread over many addresses: the user is throttled, except from a browser that logged in before.
    for n in range(5):
        attempt(session, staff.login, "alice", f"guess-{n}-yyyy", ip=f"10.0.1.{n}")
    assert attempt(session, staff.login, "alice", PASSWORD, ip="10.0.2.1").msgid == staff.THROTTLED
    known = staff.login(session, "alice", PASSWORD, ip="10.0.2.1", device_token=good.device_token)
    assert known.token


def test_wrong_codes_end_the_pending_login_after_five(session):
    _, secret, _ = enrol(session)
    result = staff.login(session, "alice", PASSWORD)
    for n in range(5):
        assert isinstance(attempt(session, staff.verify_code, result.token, f"{n:06d}"), StaffAuthError)
    late = attempt(session, staff.verify_code, result.token, next_code(secret))
    assert isinstance(late, StaffAuthError)
    assert staff.current_staff(session, result.token) is None
    assert session.exec(select(LoginAttempt).where(LoginAttempt.kind == "staff_2fa")).all()


def test_hostile_codes_are_refused(session):
    _, _, _ = enrol(session)
    result = staff.login(session, "alice", PASSWORD)
    for code in ["", "<script>alert(1)</script>", "' OR 1=1 --", "9" * 5000]:
        assert isinstance(attempt(session, staff.verify_code, result.token, code), StaffAuthError)


def test_a_customer_session_never_opens_the_console(session):
    account = Account(number="1", name="A", email="a@example.net")
    session.add(account)
    session.flush()
    session.add(PortalUser(account_id=account.id, username="cust",
                           password_hash=passwords.hash_password(PASSWORD)))
    session.commit()
    customer = auth.login(session, "cust", PASSWORD)
    assert staff.current_staff(session, customer.token) is None
    for area in staff.AREAS:
        with pytest.raises(StaffDenied):
            staff.require(session, customer.token, area)
    # A staff user with the same name as a customer is a different login.
    assert attempt(session, staff.login, "cust", PASSWORD).msgid == staff.LOGIN_FAILED


def test_roles(session):
    admin_token, _, _ = enrol(session, "alice", "administrator")
    support_token, _, _ = enrol(session, "sam", "support")
    for area in staff.AREAS:
        assert staff.require(session, admin_token, area).username == "alice"
    for area in ("customers", "tickets"):
        assert staff.require(session, support_token, area).username == "sam"
    for area in ("settings", "audit", "staff", "billing", "contracts", "usage", "unknown"):
        with pytest.raises(StaffDenied):
            staff.require(session, support_token, area)
    with pytest.raises(StaffDenied):
        staff.require(session, "", "customers")
    with pytest.raises(StaffDenied):
        staff.require(session, "x" * 5000, "customers")


def test_sessions_expire_when_idle_and_end_at_logout(session):
    token, _, _ = enrol(session)
    row = session.exec(select(StaffSession).where(StaffSession.verified.is_(True))).one()
    row.last_seen_at = utcnow() - timedelta(minutes=staff.SESSION_IDLE_MINUTES + 1)
    session.add(row)
    session.commit()
    assert staff.current_staff(session, token) is None
    row.last_seen_at = utcnow()
    session.add(row)
    session.commit()
    assert staff.current_staff(session, token) is not None
    staff.logout(session, token)
    assert staff.current_staff(session, token) is None


def test_pending_login_expires(session):
    make_staff(session)
    result = staff.login(session, "alice", PASSWORD)
    row = session.exec(select(StaffSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert staff.pending_needs_enrolment(session, result.token) is None
    with pytest.raises(StaffAuthError):
        staff.start_enrolment(session, result.token)


def test_disabling_and_resetting_the_second_factor_end_sessions(session):
    admin_token, _, _ = enrol(session, "alice")
    sam_token, _, _ = enrol(session, "sam", "support")
    admin = staff.current_staff(session, admin_token)
    sam = session.exec(select(StaffUser).where(StaffUser.username == "sam")).one()
    with pytest.raises(StaffAuthError):
        staff.set_disabled(session, admin, admin.staff_id, True)
    staff.reset_second_factor(session, admin, sam.id)
    assert staff.current_staff(session, sam_token) is None
    assert staff.login(session, "sam", PASSWORD).needs_enrolment
    staff.set_disabled(session, admin, sam.id, True)
    assert attempt(session, staff.login, "sam", PASSWORD).msgid == staff.LOGIN_FAILED


def test_change_password_ends_other_sessions(session):
    token, secret, _ = enrol(session)
    other = staff.login(session, "alice", PASSWORD)
    staff.verify_code(session, other.token, next_code(secret))
    current = staff.current_staff(session, token)
    with pytest.raises(StaffAuthError):
        staff.change_password(session, current, "bad", "another-long-pass", "another-long-pass")
    with pytest.raises(StaffAuthError):
        staff.change_password(session, current, PASSWORD, "another-long-pass", "different-pass")
    staff.change_password(session, current, PASSWORD, "another-long-pass", "another-long-pass")
    assert staff.current_staff(session, token) is not None
    assert staff.current_staff(session, other.token) is None


def test_cli_creates_staff_and_demo_has_admin(data_dir, capsys):
    from rxportal import db
    from rxportal.cli import main
    from rxportal.services import migrations

    migrations.upgrade()
    assert main(["create-staff", "Carol", "--role", "administrator"]) == 0
    out = capsys.readouterr().out
    assert "carol (administrator)" in out and "password: " in out
    password = out.split("password: ")[1].split()[0]
    assert main(["create-staff", "carol"]) == 2
    with db.session_scope() as s:
        assert staff.login(s, "carol", password).needs_enrolment
    assert main(["demo"]) == 0
    with db.session_scope() as s:
        result = staff.login(s, "admin", "correct-horse-admin")
        assert result.needs_enrolment
        admin = s.exec(select(StaffUser).where(StaffUser.username == "admin")).one()
        assert admin.role == "administrator"


def test_a_code_in_other_digits_is_refused_not_an_error():
    """'١٢٣٤٥٦' matches \\d in Python; hmac.compare_digest then raised TypeError (found by fuzzing)."""
    import pyotp

    secret = pyotp.random_base32()
    assert staff._totp_counter(secret, "١٢٣٤٥٦", 0) is None
    assert staff._totp_counter(secret, "𝟗𝟗𝟗𝟗𝟗𝟗", 0) is None
