"""TOTP secrets are stored encrypted with a key derived from RXPORTAL_SECRET_KEY; the migration
encrypts the plaintext secrets of earlier releases."""
from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import text

from rxportal import db
from rxportal.models.staff import StaffUser
from rxportal.services import secrets_store, staff
from tests.unit.test_staff import PASSWORD, attempt, enrol, next_code


def stored_columns(username: str) -> tuple[str, str]:
    with db.get_engine().connect() as connection:
        return connection.execute(text(
            "SELECT totp_secret, totp_pending_secret FROM staffuser WHERE username = :u"),
            {"u": username}).one()


def test_the_stored_column_does_not_hold_the_secret(session):
    make = staff.create_staff(session, "alice", "administrator", PASSWORD)[0]
    session.commit()
    result = staff.login(session, make.username, PASSWORD)
    enrolment = staff.start_enrolment(session, result.token)
    session.commit()
    pending_stored = stored_columns("alice")[1]
    assert pending_stored.startswith("enc1:") and enrolment.secret not in pending_stored
    staff.confirm_enrolment(session, result.token, pyotp.TOTP(enrolment.secret).now())
    session.commit()
    secret_stored, pending_stored = stored_columns("alice")
    assert secret_stored.startswith("enc1:") and pending_stored == ""
    assert enrolment.secret not in secret_stored
    assert enrolment.secret.lower() not in secret_stored.lower()
    assert staff.open_totp_secret(secret_stored) == enrolment.secret


def test_encryption_is_randomised_and_bound_to_its_purpose(data_dir):
    first, second = (secrets_store.encrypt("JBSWY3DPEHPK3PXP", "staff-totp") for _ in range(2))
    assert first != second
    assert secrets_store.decrypt(first, "staff-totp") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(secrets_store.Undecryptable):
        secrets_store.decrypt(first, "another-purpose")
    tampered = first[:-4] + ("AAAA" if first[-4:] != "AAAA" else "BBBB")
    with pytest.raises(secrets_store.Undecryptable):
        secrets_store.decrypt(tampered, "staff-totp")
    with pytest.raises(secrets_store.Undecryptable):
        secrets_store.decrypt("JBSWY3DPEHPK3PXP", "staff-totp")  # plaintext is never accepted
    assert secrets_store.encrypt("", "staff-totp") == secrets_store.decrypt("", "staff-totp") == ""


def test_a_changed_secret_key_refuses_codes_but_recovery_codes_still_work(session, monkeypatch):
    _, secret, codes = enrol(session)
    monkeypatch.setenv("RXPORTAL_SECRET_KEY", "another-secret-key")
    result = staff.login(session, "alice", PASSWORD)
    refused = attempt(session, staff.verify_code, result.token, next_code(secret))
    assert isinstance(refused, staff.StaffAuthError)
    assert refused.msgid == staff.UNREADABLE_SECRET
    staff.verify_code(session, result.token, codes[0])
    assert staff.current_staff(session, result.token) is not None


def test_the_migration_encrypts_plaintext_secrets_of_earlier_releases(data_dir):
    from alembic import command

    from rxportal.services import migrations

    command.upgrade(migrations.alembic_config(), "0009")  # the release before it
    secret, pending = pyotp.random_base32(), pyotp.random_base32()
    with db.get_engine().begin() as connection:
        connection.execute(text(
            "INSERT INTO staffuser (username, password_hash, role, totp_secret,"
            " totp_pending_secret, totp_last_counter, recovery_codes, disabled, created_at)"
            " VALUES ('old', '', 'support', :s, '', 0, '[]', :no, '2026-01-01 00:00:00'),"
            " ('mid', '', 'support', '', :p, 0, '[]', :no, '2026-01-01 00:00:00')"),
            {"s": secret, "p": pending, "no": False})
    migrations.upgrade()
    assert migrations.pending_differences() == []
    old_stored, old_pending = stored_columns("old")
    mid_stored, mid_pending = stored_columns("mid")
    assert secret not in old_stored and old_pending == "" and mid_stored == ""
    assert staff.open_totp_secret(old_stored) == secret
    assert staff.open_totp_secret(mid_pending) == pending
    with db.session_scope() as session:  # and the model reads it back
        user = session.get(StaffUser, 1)
        assert staff.open_totp_secret(user.totp_secret) == secret
    command.downgrade(migrations.alembic_config(), "0009")
    assert stored_columns("old")[0] == secret
