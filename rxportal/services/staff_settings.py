"""The settings staff edit in the console: each field's kind and checks, the sections of the
settings pages, and saving with an audit record of every change (before and after, secrets
masked). Values live in the database (services/settings.py) and are read on each use, so a
change takes effect at once, in every worker, without a restart.

Secrets (SMTP and IMAP passwords, Stripe keys) are write-only: the form shows them masked and
an empty input keeps the stored value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from sqlmodel import Session

from rxportal.services import audit, i18n
from rxportal.services import passwords  # noqa: F401 - registers the password rule settings
from rxportal.services import settings as isp_settings

# Settings this feature adds to the ISP's settings (see services/settings.py for the others).
NEW_SETTINGS: list[tuple[str, Any, bool]] = [
    ("color_primary", "#3e63dd", False),
    ("color_accent", "#0d74ce", False),
    # Billing's own keys (services/payments.py, billing_run.py), with the same defaults:
    ("billing_autopay_locked", False, False),  # customers may not turn autopay off
    ("billing_keep_last_method", False, False),  # nor remove their last payment method
    ("billing_max_credit_minor", 50000, False),  # the pay-ahead limit (credit kept)
    ("invoice_due_days", 14, False),
    ("smtp_host", "", False),
    ("smtp_port", 587, False),
    ("smtp_user", "", False),
    ("smtp_password", "", True),
    ("smtp_security", "starttls", False),  # none | starttls | tls
    ("mail_from", "", False),
    ("imap_host", "", False),
    ("imap_port", 993, False),
    ("imap_user", "", False),
    ("imap_password", "", True),
    ("imap_tls", "ssl", False),  # ssl | starttls | none (also read by services/ticket_mail.py)
    ("ticket_reopen_days", 14, False),  # the same defaults as services/tickets.py
    ("ticket_attachment_max_bytes", 5 * 1024 * 1024, False),
    ("support_staff_addresses", "", False),
    ("imap_folder", "INBOX", False),
    ("stripe_publishable_key", "", False),
    ("stripe_secret_key", "", True),
    ("stripe_webhook_secret", "", True),
    ("bulk_invite_message", "", False),  # empty: the guide's sample launch e-mail
    ("bulk_invite_subject", "", False),
]
for _key, _default, _secret in NEW_SETTINGS:
    isp_settings.register(_key, _default, secret=_secret)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str  # English msgid
    kind: str  # text | html | url | bool | int | money | language | currency | country |
    #            timezone | color | email | host | port | secret | choice
    max_length: int = 200
    minimum: int = 0
    maximum: int = 0
    choices: tuple[str, ...] = field(default_factory=tuple)
    required: bool = False
    help: str = ""  # English msgid


FIELDS: dict[str, FieldSpec] = {f.key: f for f in [
    FieldSpec("isp_name", "ISP name", "text", max_length=100, required=True),
    FieldSpec("login_message", "Login message (English)", "html", max_length=2000,
              help="Shown above the login form. Bold, italics and links are kept."),
    FieldSpec("login_message_fr", "Login message (French)", "html", max_length=2000),
    FieldSpec("public_url", "Public address of the portal", "url", max_length=200,
              help="Used in the links of e-mails, such as https://portal.example.net."),
    FieldSpec("color_primary", "Main colour", "color"),
    FieldSpec("color_accent", "Accent colour", "color"),
    FieldSpec("support_email", "Support e-mail address", "email", required=True),
    FieldSpec("support_phone", "Support phone number", "text", max_length=40),
    FieldSpec("default_language", "Default language", "language"),
    FieldSpec("currency", "Currency", "currency"),
    FieldSpec("country", "Country", "country"),
    FieldSpec("timezone", "Time zone", "timezone"),
    FieldSpec("page_usage", "Show the Data Usage page", "bool"),
    FieldSpec("page_contracts", "Show the Contracts page", "bool"),
    FieldSpec("page_tickets", "Show the Support Tickets page", "bool"),
    FieldSpec("billing_autopay_locked", "Customers cannot turn autopay off", "bool"),
    FieldSpec("billing_keep_last_method", "Customers cannot remove their last payment method",
              "bool"),
    FieldSpec("billing_max_credit_minor", "Largest amount a customer may pay ahead", "money",
              minimum=0, maximum=10**9),
    FieldSpec("invoice_due_days", "Invoices are due after (days)", "int", minimum=0,
              maximum=90),
    FieldSpec("reset_token_minutes", "Password reset links expire after (minutes)", "int",
              minimum=10, maximum=24 * 60),
    FieldSpec("temporary_password_days", "Temporary passwords expire after (days)", "int",
              minimum=1, maximum=60),
    FieldSpec("password_min_length", "Minimum password length (characters)", "int",
              minimum=8, maximum=64,
              help="At least 8 (the portal's floor), at most 64. Applies to new passwords."),
    FieldSpec("password_refuse_common", "Refuse the 30,000 most common passwords", "bool"),
    FieldSpec("smtp_host", "SMTP server", "host"),
    FieldSpec("smtp_port", "SMTP port", "port"),
    FieldSpec("smtp_user", "SMTP user name", "text", max_length=254),
    FieldSpec("smtp_password", "SMTP password", "secret", max_length=500),
    FieldSpec("smtp_security", "SMTP security", "choice", choices=("starttls", "tls", "none")),
    FieldSpec("mail_from", "Sender address", "email"),
    FieldSpec("imap_host", "IMAP server (support mailbox)", "host"),
    FieldSpec("imap_port", "IMAP port", "port"),
    FieldSpec("imap_user", "IMAP user name", "text", max_length=254),
    FieldSpec("imap_password", "IMAP password", "secret", max_length=500),
    FieldSpec("imap_tls", "IMAP security", "choice", choices=("ssl", "starttls", "none")),
    FieldSpec("imap_folder", "IMAP folder", "text", max_length=100, required=True),
    FieldSpec("ticket_reopen_days", "A reply reopens a closed ticket within (days)", "int",
              minimum=0, maximum=365),
    FieldSpec("ticket_attachment_max_bytes", "Largest ticket attachment (MB)", "megabytes",
              minimum=1, maximum=25),
    FieldSpec("support_staff_addresses", "Addresses that answer for the ISP", "text",
              max_length=1000,
              help="Comma-separated addresses or @domain entries. Empty: anyone at the support "
                   "address's domain."),
    FieldSpec("stripe_publishable_key", "Stripe publishable key", "text", max_length=300),
    FieldSpec("stripe_secret_key", "Stripe secret key", "secret", max_length=300),
    FieldSpec("stripe_webhook_secret", "Stripe webhook signing secret", "secret", max_length=300),
]}

SECTIONS: dict[str, list[str]] = {
    "branding": ["isp_name", "login_message", "login_message_fr", "public_url", "color_primary",
                 "color_accent", "support_email", "support_phone"],
    "regional": ["default_language", "currency", "country", "timezone"],
    "pages": ["page_usage", "page_contracts", "page_tickets"],
    "billing": ["billing_autopay_locked", "billing_keep_last_method", "billing_max_credit_minor",
                "invoice_due_days"],
    # DESIGN.md fixes the floor (8 characters) and bcrypt's ceiling (72 bytes); the ISP may ask
    # for more characters and turn off the common-password list (services/passwords.py).
    "passwords": ["password_min_length", "password_refuse_common", "reset_token_minutes",
                  "temporary_password_days"],
    "mail": ["smtp_host", "smtp_port", "smtp_user", "smtp_password", "smtp_security",
             "mail_from", "imap_host", "imap_port", "imap_user", "imap_password", "imap_tls",
             "imap_folder"],
    "tickets": ["ticket_reopen_days", "ticket_attachment_max_bytes", "support_staff_addresses"],
    "payments": ["stripe_publishable_key", "stripe_secret_key", "stripe_webhook_secret"],
}

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                     r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")
URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/%-]*)?$")


@lru_cache(maxsize=1)
def currencies() -> tuple[str, ...]:
    from babel.numbers import list_currencies

    return tuple(sorted(c for c in list_currencies() if len(c) == 3))


@lru_cache(maxsize=1)
def countries() -> tuple[str, ...]:
    from babel import Locale

    not_countries = {"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"}  # regions that are not countries
    return tuple(sorted(code for code in Locale("en").territories
                        if re.fullmatch(r"[A-Z]{2}", code) and code not in not_countries))


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


class Invalid(ValueError):
    """The English msgid of why a value was refused, with its {placeholders}."""

    def __init__(self, msgid: str, **values):
        super().__init__(msgid)
        self.msgid = msgid
        self.values = values


def clean(spec: FieldSpec, raw: Any, currency: str = "CAD") -> Any:
    """The stored value for what was typed, or Invalid."""
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "on", "yes")
    text = str(raw if raw is not None else "").strip()
    if len(text) > max(spec.max_length, 20):
        raise Invalid("This is too long.")
    if not text:
        if spec.required:
            raise Invalid("This field is required.")
        if spec.kind in ("int", "port", "money", "megabytes", "language", "currency", "country", "timezone",
                         "color", "choice"):
            raise Invalid("This field is required.")
        return ""
    if spec.kind == "text":
        if any(ord(c) < 32 for c in text):
            raise Invalid("Use a single line of text.")
        return text
    if spec.kind == "html":
        from rxportal.services.branding import sanitize_markup

        return sanitize_markup(text).strip()
    if spec.kind == "url":
        if not URL_RE.match(text):
            raise Invalid("Enter an address starting with https://, like https://portal.example.net.")
        return text.rstrip("/")
    if spec.kind == "megabytes":
        if not re.fullmatch(r"\d{1,4}", text) or not spec.minimum <= int(text) <= spec.maximum:
            raise Invalid("Enter a number from {low} to {high}.", low=spec.minimum, high=spec.maximum)
        return int(text) * 1024 * 1024
    if spec.kind in ("int", "port"):
        if not re.fullmatch(r"\d{1,10}", text):
            raise Invalid("Enter a whole number.")
        value = int(text)
        low, high = (1, 65535) if spec.kind == "port" else (spec.minimum, spec.maximum)
        if not low <= value <= high:
            raise Invalid("Enter a number from {low} to {high}.", low=low, high=high)
        return value
    if spec.kind == "money":
        from babel.numbers import get_currency_precision

        digits = get_currency_precision(currency)
        if not re.fullmatch(r"\d{1,9}([.,]\d{1,%d})?" % max(digits, 1), text):
            raise Invalid("Enter an amount, like 500.00.")
        try:
            value = int(Decimal(text.replace(",", ".")) * 10**digits)
        except InvalidOperation:
            raise Invalid("Enter an amount, like 500.00.") from None
        if not spec.minimum <= value <= spec.maximum:
            raise Invalid("This amount is too large.")
        return value
    if spec.kind == "language":
        if text not in i18n.languages():
            raise Invalid("Choose one of the languages in the list.")
        return text
    if spec.kind == "currency":
        if text.upper() not in currencies():
            raise Invalid("Enter a three-letter currency code, like CAD.")
        return text.upper()
    if spec.kind == "country":
        if text.upper() not in countries():
            raise Invalid("Enter a two-letter country code, like CA.")
        return text.upper()
    if spec.kind == "timezone":
        if text not in timezones():
            raise Invalid("Choose a time zone in the list, like America/Toronto.")
        return text
    if spec.kind == "color":
        if not COLOR_RE.match(text):
            raise Invalid("Enter a colour as # and six hexadecimal digits, like #3e63dd.")
        return text.lower()
    if spec.kind == "email":
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            raise Invalid("Enter a valid e-mail address, like name@example.com.") from None
    if spec.kind == "host":
        if not HOST_RE.match(text):
            raise Invalid("Enter a server name, like mail.example.net.")
        return text.lower()
    if spec.kind == "choice":
        if text not in spec.choices:
            raise Invalid("Choose one of the options in the list.")
        return text
    if spec.kind == "secret":
        if any(ord(c) < 32 for c in text):
            raise Invalid("Use a single line of text.")
        return text
    raise Invalid("This field cannot be changed here.")


def display(spec: FieldSpec, value: Any, currency: str = "CAD") -> str:
    """The text shown in a form field (secrets are never shown: see `masked_value`)."""
    if spec.kind == "secret":
        return ""
    if spec.kind == "bool":
        return "true" if value else "false"
    if spec.kind == "money":
        return i18n.minor_to_decimal_str(int(value or 0), currency)
    if spec.kind == "megabytes":
        return str(int(value or 0) // (1024 * 1024))
    return "" if value is None else str(value)


def section_values(session: Session, section: str) -> dict[str, str]:
    keys = SECTIONS[section]
    values = isp_settings.get_many(session, keys + ["currency"])
    return {k: display(FIELDS[k], values[k], values["currency"]) for k in keys}


def masked_values(session: Session, section: str) -> dict[str, str]:
    """Secrets of a section as their last four characters (empty when not set)."""
    keys = [k for k in SECTIONS[section] if FIELDS[k].kind == "secret"]
    values = isp_settings.get_many(session, keys)
    return {k: isp_settings.mask(values[k]) for k in keys}


def _audit_value(key: str, value: Any) -> Any:
    return isp_settings.mask(value) if isp_settings.SPECS[key].secret else value


def save(session: Session, section: str, values: dict[str, Any], *, actor_id: int | None,
         actor_name: str, ip: str = "", clear: tuple[str, ...] = (),
         lang: str = "en") -> dict[str, str]:
    """Check every field of a section and save them all, or none: returns {key: message in
    lang} for the refused fields (empty when saved). `clear` lists secrets to erase."""
    if section not in SECTIONS:
        raise KeyError(section)
    keys = SECTIONS[section]
    current = isp_settings.get_many(session, keys + ["currency"])
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key in keys:
        spec = FIELDS[key]
        if key not in values and key not in clear:
            continue
        if spec.kind == "secret":
            if key in clear:
                cleaned[key] = ""
                continue
            if not str(values.get(key) or "").strip():
                continue  # write-only: empty keeps the stored secret
        try:
            cleaned[key] = clean(spec, values.get(key), current["currency"])
        except Invalid as error:
            errors[key] = i18n.translate(lang, error.msgid, **error.values)
    if errors:
        return errors
    for key, value in cleaned.items():
        if value == current[key]:
            continue
        isp_settings.put(session, key, value)
        audit.record(session, "setting_changed", actor_type="staff", actor_id=actor_id,
                     actor_name=actor_name, target=f"setting:{key}", ip=ip,
                     setting=key, before=_audit_value(key, current[key]),
                     after=_audit_value(key, value))
    return {}
