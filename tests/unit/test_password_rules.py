"""The ISP's password rules (Settings > Passwords): a minimum length from 8 to 64 and whether
common passwords are refused, applied at once to the new passwords of customers and staff."""
from __future__ import annotations

import pytest

from rxportal.models import PortalUser
from rxportal.services import auth, passwords, staff, staff_settings
from tests.factories import make_account, make_user
from tests.unit.test_auth import PASSWORD

ACTOR = {"actor_id": 1, "actor_name": "alice"}


def save_rules(session, **values):
    errors = staff_settings.save(session, "passwords", values, **ACTOR)
    session.commit()
    return errors


@pytest.fixture()
def pat_session(session):
    user = make_user(session, make_account(session))
    return user, auth.current_user(session, auth.login(session, user.username, PASSWORD).token)


def test_the_defaults_are_design_md_s_rules(session):
    assert passwords.rules(session) == passwords.Rules(min_length=8, refuse_common=True)
    assert staff_settings.section_values(session, "passwords")["password_min_length"] == "8"


@pytest.mark.parametrize("value", ["7", "0", "65", "-8", "ten", "", "8.5", "²", "1" * 40,
                                   "<script>alert(1)</script>", "8; DROP TABLE setting"])
def test_a_length_outside_8_to_64_or_not_a_number_is_refused(session, value):
    errors = save_rules(session, password_min_length=value, password_refuse_common=True)
    assert set(errors) == {"password_min_length"}
    assert passwords.rules(session).min_length == 8


def test_a_longer_minimum_applies_at_once_to_a_customer_s_new_password(session, pat_session):
    user, current = pat_session
    assert save_rules(session, password_min_length="20", password_refuse_common=True) == {}
    with pytest.raises(auth.AuthError) as refused:
        auth.change_password(session, current, PASSWORD, "nineteen characters", "nineteen characters")
    assert refused.value.field == "new_password"
    assert refused.value.msgid == "Use at least {count} characters."
    assert refused.value.values == {"count": 20}
    auth.change_password(session, current, PASSWORD, "twenty characters ok", "twenty characters ok")
    assert passwords.verify_password("twenty characters ok",
                                     session.get(PortalUser, user.id).password_hash)


def test_the_message_names_the_length_in_each_language():
    from rxportal.services import i18n

    assert i18n.translate("fr", "Use at least {count} characters.", count=12) == \
        "Utilisez au moins 12 caractères."


def test_common_passwords_are_refused_unless_the_isp_turns_it_off(session, pat_session):
    _, current = pat_session
    with pytest.raises(auth.AuthError, match="too common"):
        auth.change_password(session, current, PASSWORD, "iloveyou", "iloveyou")
    assert save_rules(session, password_min_length="8", password_refuse_common=False) == {}
    auth.change_password(session, current, PASSWORD, "iloveyou", "iloveyou")
    # The username itself is always refused.
    with pytest.raises(passwords.PasswordRejected):
        passwords.check_rules("pat-user-name", "Pat-User-Name", passwords.rules(session))


def test_staff_passwords_follow_the_same_rules(session):
    assert save_rules(session, password_min_length="16", password_refuse_common=True) == {}
    with pytest.raises(staff.StaffAuthError) as refused:
        staff.create_staff(session, "bob", "support", "fifteen chars!!")
    assert refused.value.field == "password" and refused.value.values == {"count": 16}
    # A generated password needs no check: its owner chooses their own on the password page.
    user, generated = staff.create_staff(session, "carol", "support")
    assert passwords.verify_password(generated, user.password_hash)


def test_a_stored_length_outside_the_bounds_is_clamped(session):
    from rxportal.services import settings as isp_settings

    isp_settings.put(session, "password_min_length", 3)
    assert passwords.rules(session).min_length == 8
    isp_settings.put(session, "password_min_length", 500)
    assert passwords.rules(session).min_length == 64


def test_rule_changes_are_audited(session):
    from sqlmodel import select

    from rxportal.models import AuditLog

    assert save_rules(session, password_min_length="12", password_refuse_common=False) == {}
    changed = {row.target for row in session.exec(select(AuditLog)
                                                  .where(AuditLog.action == "setting_changed"))}
    assert {"setting:password_min_length", "setting:password_refuse_common"} <= changed
