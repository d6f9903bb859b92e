"""Logins, throttling, sessions, registration, recovery and password changes."""
from datetime import timedelta

import pytest
from sqlmodel import select

from rxportal.models import AuthToken, OutboxMail, PortalUser, UserSession, utcnow
from rxportal.services import auth, passwords
from tests.factories import make_account, make_user

PASSWORD = "a long enough secret"


@pytest.fixture()
def pat(session):
    account = make_account(session)
    return make_user(session, account)


def outbox(session, to=None):
    rows = session.exec(select(OutboxMail).order_by(OutboxMail.id)).all()
    return [m for m in rows if to is None or m.to_addr == to]


def test_good_login_starts_a_session_whose_token_is_stored_hashed(session, pat):
    result = auth.login(session, "PAT ", PASSWORD, ip="10.0.0.1")
    current = auth.current_user(session, result.token)
    assert current.user_id == pat.id and current.account_id == pat.account_id
    stored = session.exec(select(UserSession)).one()
    assert stored.token_hash == passwords.token_digest(result.token) != result.token


@pytest.mark.parametrize("username, password", [
    ("pat", "wrong password"), ("nobody", PASSWORD), ("", PASSWORD), ("pat", ""),
    ("pat' OR '1'='1", "x' OR '1'='1"), ("<script>alert(1)</script>", PASSWORD),
    ("p" * 10_000, PASSWORD), ("pat", "x" * 10_000),
])
def test_bad_logins_fail_without_saying_which_part_was_wrong(session, pat, username, password):
    with pytest.raises(auth.AuthError) as failure:
        auth.login(session, username, password)
    assert failure.value.msgid in (auth.LOGIN_FAILED, "Enter your username and password.")


def test_a_disabled_login_cannot_log_in(session, pat):
    pat.disabled = True
    with pytest.raises(auth.AuthError, match="incorrect"):
        auth.login(session, "pat", PASSWORD)


def test_repeated_failures_from_one_address_are_throttled_even_with_the_right_password(session, pat):
    for _ in range(auth.MAX_FAILURES_PER_USER_AND_ADDRESS):
        with pytest.raises(auth.AuthError):
            auth.login(session, "pat", "wrong", ip="203.0.113.5")
    with pytest.raises(auth.AuthError) as failure:
        auth.login(session, "pat", PASSWORD, ip="203.0.113.5")
    assert failure.value.msgid == auth.THROTTLED
    # The real user, elsewhere, still gets in.
    assert auth.login(session, "pat", PASSWORD, ip="198.51.100.7").token


def test_an_attack_from_many_addresses_does_not_lock_out_a_known_browser(session, pat):
    device = auth.login(session, "pat", PASSWORD, ip="198.51.100.7").device_token
    for n in range(auth.MAX_FAILURES_PER_USER + 2):
        with pytest.raises(auth.AuthError):
            auth.login(session, "pat", "guess", ip=f"203.0.113.{n}")
    with pytest.raises(auth.AuthError, match="Too many"):
        auth.login(session, "pat", PASSWORD, ip="192.0.2.1")  # a new browser must wait
    assert auth.login(session, "pat", PASSWORD, ip="192.0.2.1", device_token=device).token


def test_guesses_from_the_users_own_network_do_not_lock_out_their_browser(session, pat):
    device = auth.login(session, "pat", PASSWORD, ip="203.0.113.5").device_token
    for _ in range(auth.MAX_FAILURES_PER_USER_AND_ADDRESS + 1):
        with pytest.raises(auth.AuthError):
            auth.login(session, "pat", "wrong", ip="203.0.113.5")
    with pytest.raises(auth.AuthError, match="Too many"):
        auth.login(session, "pat", PASSWORD, ip="203.0.113.5")
    assert auth.login(session, "pat", PASSWORD, ip="203.0.113.5", device_token=device).token


def test_a_forged_device_token_does_not_bypass_throttling(session, pat):
    for n in range(auth.MAX_FAILURES_PER_USER):
        with pytest.raises(auth.AuthError):
            auth.login(session, "pat", "guess", ip=f"203.0.113.{n}")
    with pytest.raises(auth.AuthError, match="Too many"):
        auth.login(session, "pat", PASSWORD, ip="192.0.2.1", device_token=f"{pat.id}.aa.bb")


def test_logout_ends_the_session_on_the_server(session, pat):
    token = auth.login(session, "pat", PASSWORD).token
    auth.logout(session, token)
    assert auth.current_user(session, token) is None


def test_idle_and_expired_sessions_end(session, pat):
    idle = auth.login(session, "pat", PASSWORD).token
    expired = auth.login(session, "pat", PASSWORD).token
    rows = {r.token_hash: r for r in session.exec(select(UserSession))}
    rows[passwords.token_digest(idle)].last_seen_at = utcnow() - timedelta(hours=2)
    rows[passwords.token_digest(expired)].expires_at = utcnow() - timedelta(seconds=1)
    assert auth.current_user(session, idle) is None
    assert auth.current_user(session, expired) is None
    assert auth.current_user(session, "not-a-token") is None
    assert auth.current_user(session, "") is None


def test_changing_the_password_ends_the_other_sessions_and_sends_a_notice(session, pat):
    here = auth.login(session, "pat", PASSWORD).token
    elsewhere = auth.login(session, "pat", PASSWORD).token
    current = auth.current_user(session, here)
    auth.change_password(session, current, PASSWORD, "new correct horse", "new correct horse")
    assert auth.current_user(session, here) is not None
    assert auth.current_user(session, elsewhere) is None
    assert auth.login(session, "pat", "new correct horse").token
    assert "changed" in outbox(session, "pat@example.org")[-1].subject


@pytest.mark.parametrize("old, new, confirm, field", [
    ("wrong", "new correct horse", "new correct horse", "current_password"),
    ("", "new correct horse", "new correct horse", "current_password"),
    (PASSWORD, "new correct horse", "new correct hors", "confirm_password"),
    (PASSWORD, "short", "short", "new_password"),
    (PASSWORD, "password1", "password1", "new_password"),
    (PASSWORD, "x" * 73, "x" * 73, "new_password"),
    (PASSWORD, "é" * 40, "é" * 40, "new_password"),  # 80 bytes: refused, never cut
    (PASSWORD, "", "", "new_password"),
])
def test_password_change_failures_name_the_field(session, pat, old, new, confirm, field):
    current = auth.current_user(session, auth.login(session, "pat", PASSWORD).token)
    with pytest.raises(auth.AuthError) as failure:
        auth.change_password(session, current, old, new, confirm)
    assert failure.value.field == field
    assert passwords.verify_password(PASSWORD, session.get(PortalUser, pat.id).password_hash)


def test_a_64_character_password_is_accepted():
    passwords.check_rules("a" * 30 + "b" * 34)


def test_reset_link_is_single_use_expiring_and_stored_hashed(session, pat):
    auth.request_password_reset(session, "Pat@Example.org", ip="10.0.0.1")
    mail = outbox(session, "pat@example.org")[-1]
    token = mail.text_body.split("/reset/")[1].split()[0]
    stored = session.exec(select(AuthToken)).one()
    assert stored.token_hash == passwords.token_digest(token)
    assert len(token) >= 22  # at least 128 random bits, url-safe
    auth.reset_password(session, token, "brand new phrase", "brand new phrase")
    assert auth.login(session, "pat", "brand new phrase").token
    with pytest.raises(auth.AuthError, match="expired or was already used"):
        auth.reset_password(session, token, "another new phrase", "another new phrase")


def test_an_expired_reset_link_is_refused(session, pat):
    auth.request_password_reset(session, "pat@example.org")
    token = outbox(session)[-1].text_body.split("/reset/")[1].split()[0]
    session.exec(select(AuthToken)).one().expires_at = utcnow() - timedelta(minutes=1)
    assert not auth.reset_token_is_valid(session, token)


def test_recovery_for_an_unknown_address_sends_nothing_and_says_nothing(session, pat):
    auth.request_password_reset(session, "stranger@example.org")
    auth.request_username_reminder(session, "stranger@example.org")
    assert outbox(session) == []


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 300 + "@example.org",
                                   "<script>@example.org", "pat@example.org' OR 1=1 --"])
def test_recovery_refuses_malformed_addresses(session, pat, email):
    with pytest.raises(auth.AuthError) as failure:
        auth.request_password_reset(session, email)
    assert failure.value.field == "email"


def test_username_reminder_lists_the_usernames(session, pat):
    auth.request_username_reminder(session, "pat@example.org")
    assert "pat" in outbox(session, "pat@example.org")[-1].text_body


def test_recovery_requests_are_throttled(session, pat):
    for _ in range(auth.MAX_LOOKUPS_PER_EMAIL):
        auth.request_password_reset(session, "pat@example.org", ip="10.0.0.9")
    with pytest.raises(auth.AuthError, match="Too many"):
        auth.request_password_reset(session, "pat@example.org", ip="10.0.0.10")


def test_registration_with_a_known_address_mails_a_username_and_temporary_password(session):
    account = make_account(session, email="new@example.org", name="New Customer")
    assert auth.register(session, "new@example.org") is True
    mail = outbox(session, "new@example.org")[-1]
    user = session.exec(select(PortalUser).where(PortalUser.account_id == account.id)).one()
    assert user.must_change_password and user.username in mail.text_body
    temporary = mail.text_body.split("Temporary password: ")[1].split()[0]
    result = auth.login(session, user.username, temporary)
    assert result.must_change_password
    current = auth.current_user(session, result.token)
    auth.set_first_password(session, current, "my own good phrase", "my own good phrase")
    assert not auth.login(session, user.username, "my own good phrase").must_change_password


def test_registration_with_an_unknown_address_is_refused(session):
    assert auth.register(session, "stranger@example.org") is False


def test_registering_again_does_not_reset_the_existing_password(session, pat):
    assert auth.register(session, "pat@example.org") is True
    assert auth.login(session, "pat", PASSWORD).token
    assert "/reset/" in outbox(session, "pat@example.org")[-1].text_body


def test_registration_lookups_are_throttled(session):
    for n in range(auth.MAX_LOOKUPS_PER_ADDRESS):
        auth.register(session, f"guess{n}@example.org", ip="10.1.1.1")
    with pytest.raises(auth.AuthError, match="Too many"):
        auth.register(session, "guess-last@example.org", ip="10.1.1.1")


def test_an_expired_temporary_password_is_refused(session):
    account = make_account(session, email="late@example.org")
    user, temporary = auth.create_login(session, account)
    user.temporary_password_expires_at = utcnow() - timedelta(days=1)
    with pytest.raises(auth.AuthError, match="expired"):
        auth.login(session, user.username, temporary)


def test_email_change_takes_effect_only_after_confirmation_and_tells_the_old_address(session, pat):
    current = auth.current_user(session, auth.login(session, "pat", PASSWORD).token)
    auth.request_email_change(session, current, "pat.new@example.org")
    from rxportal.models import Account

    assert session.get(Account, pat.account_id).email == "pat@example.org"
    link = outbox(session, "pat.new@example.org")[-1].text_body
    token = link.split("/confirm-email/")[1].split()[0]
    assert auth.confirm_email_change(session, token) == "pat.new@example.org"
    assert session.get(Account, pat.account_id).email == "pat.new@example.org"
    assert "pat.new@example.org" in outbox(session, "pat@example.org")[-1].text_body
    with pytest.raises(auth.AuthError):
        auth.confirm_email_change(session, token)
