"""Settings edited by staff: checked field by field, saved all or nothing, audited with
secrets masked, and read from the database at each use."""
from __future__ import annotations

from sqlmodel import select

from rxportal.models import AuditLog
from rxportal.services import settings as isp_settings
from rxportal.services import staff_settings

ACTOR = {"actor_id": 1, "actor_name": "alice"}


def save(session, section, lang="en", **values):
    errors = staff_settings.save(session, section, values, lang=lang, **ACTOR)
    session.commit()
    return errors


def test_branding_saves_and_takes_effect_at_once(session):
    assert save(session, "branding", isp_name="Northern Fibre", color_primary="#AA0000",
                public_url="https://portal.example.net/", login_message="<b>Hello</b> there") == {}
    assert isp_settings.get(session, "isp_name") == "Northern Fibre"
    assert isp_settings.get(session, "color_primary") == "#aa0000"
    assert isp_settings.get(session, "public_url") == "https://portal.example.net"
    assert staff_settings.section_values(session, "branding")["login_message"] == "<b>Hello</b> there"


def test_login_message_is_sanitised(session):
    hostile = '<b>Hi</b><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:x">l</a>'
    assert save(session, "branding", login_message=hostile) == {}
    stored = isp_settings.get(session, "login_message")
    assert "<b>Hi</b>" in stored
    assert "script" not in stored and "onerror" not in stored and "javascript" not in stored


def test_bad_values_are_refused_and_nothing_is_saved(session):
    errors = save(session, "branding", isp_name="", color_primary="red",
                  public_url="javascript:alert(1)", support_email="nope")
    assert set(errors) == {"isp_name", "color_primary", "public_url", "support_email"}
    assert isp_settings.get(session, "isp_name") == "Example Internet"
    errors = save(session, "branding", isp_name="x" * 101)
    assert errors == {"isp_name": "This is too long."}
    errors = save(session, "branding", isp_name="Fine name", support_email="a@example.net",
                  color_primary="#123456'; DROP TABLE setting; --")
    assert "color_primary" in errors and isp_settings.get(session, "isp_name") == "Example Internet"
    assert not session.exec(select(AuditLog)).all()


def test_errors_are_translated(session):
    errors = save(session, "regional", lang="fr", currency="EURO")
    assert errors["currency"] != "Enter a three-letter currency code, like CAD."
    errors = save(session, "passwords", lang="fr", reset_token_minutes="3")
    assert errors["reset_token_minutes"] == "Entrez un nombre de 10 à 1440."


def test_regional_settings_are_checked_against_real_lists(session):
    assert save(session, "regional", default_language="fr", currency="eur", country="fr",
                timezone="Europe/Paris") == {}
    assert isp_settings.get_many(session, ["default_language", "currency", "country", "timezone"]) == {
        "default_language": "fr", "currency": "EUR", "country": "FR", "timezone": "Europe/Paris"}
    errors = save(session, "regional", default_language="de", currency="XYZ", country="ZZ",
                  timezone="Mars/Olympus")
    assert set(errors) == {"default_language", "currency", "country", "timezone"}


def test_pages_toggle(session):
    assert save(session, "pages", page_usage=False, page_contracts="on", page_tickets=True) == {}
    assert isp_settings.get(session, "page_usage") is False
    assert isp_settings.get(session, "page_contracts") is True


def test_pay_ahead_limit_is_money_in_minor_units(session):
    assert save(session, "billing", billing_max_credit_minor="250.50", billing_autopay_locked=True,
                invoice_due_days="10") == {}
    assert isp_settings.get(session, "billing_max_credit_minor") == 25050
    assert isp_settings.get(session, "billing_autopay_locked") is True
    assert staff_settings.section_values(session, "billing")["billing_max_credit_minor"] == "250.50"
    for bad in ["-5", "abc", "1.234", "1e9", "99999999999"]:
        assert "billing_max_credit_minor" in save(session, "billing", billing_max_credit_minor=bad), bad


def test_secrets_are_write_only_masked_and_audited_masked(session):
    assert save(session, "payments", stripe_secret_key="sk_test_abcdefgh12345678",
                stripe_publishable_key="pk_test_1") == {}
    assert isp_settings.get(session, "stripe_secret_key") == "sk_test_abcdefgh12345678"
    assert staff_settings.section_values(session, "payments")["stripe_secret_key"] == ""
    assert staff_settings.masked_values(session, "payments")["stripe_secret_key"] == "••••5678"
    # An empty input keeps the stored secret.
    assert save(session, "payments", stripe_secret_key="", stripe_publishable_key="pk_test_2") == {}
    assert isp_settings.get(session, "stripe_secret_key") == "sk_test_abcdefgh12345678"
    rows = session.exec(select(AuditLog).where(AuditLog.action == "setting_changed")).all()
    secret_rows = [r for r in rows if r.detail["setting"] == "stripe_secret_key"]
    assert len(secret_rows) == 1
    assert "abcdefgh" not in str(secret_rows[0].detail)
    assert secret_rows[0].detail["after"] == "••••5678"
    public = [r for r in rows if r.detail["setting"] == "stripe_publishable_key"]
    assert public[-1].detail == {"setting": "stripe_publishable_key", "before": "pk_test_1",
                                 "after": "pk_test_2"}
    assert staff_settings.save(session, "payments", {}, clear=("stripe_secret_key",), **ACTOR) == {}
    assert isp_settings.get(session, "stripe_secret_key") == ""


def test_every_change_is_audited_with_before_and_after(session):
    save(session, "branding", isp_name="One")
    save(session, "branding", isp_name="One")  # no change, no record
    save(session, "branding", isp_name="Two")
    rows = session.exec(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.detail["before"], r.detail["after"]) for r in rows] == [
        ("Example Internet", "One"), ("One", "Two")]
    assert all(r.actor_name == "alice" and r.actor_type == "staff" for r in rows)


def test_ticket_settings(session):
    assert save(session, "tickets", ticket_reopen_days="30", ticket_attachment_max_bytes="10",
                support_staff_addresses="@isp.example") == {}
    assert isp_settings.get(session, "ticket_attachment_max_bytes") == 10 * 1024 * 1024
    assert staff_settings.section_values(session, "tickets")["ticket_attachment_max_bytes"] == "10"
    errors = save(session, "tickets", ticket_reopen_days="-1", ticket_attachment_max_bytes="500")
    assert set(errors) == {"ticket_reopen_days", "ticket_attachment_max_bytes"}


def test_mail_fields(session):
    errors = save(session, "mail", smtp_host="mail example", smtp_port="70000",
                  smtp_security="ssl3", imap_folder="")
    assert set(errors) == {"smtp_host", "smtp_port", "smtp_security", "imap_folder"}
    assert save(session, "mail", smtp_host="Mail.Example.net", smtp_port="465",
                smtp_security="tls", smtp_password="hunter2-long", imap_tls="none") == {}
    assert isp_settings.get(session, "smtp_host") == "mail.example.net"
    assert isp_settings.get(session, "smtp_port") == 465
