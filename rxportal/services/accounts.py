"""A customer's own details: name and phone numbers (the e-mail address changes through a
confirmation link, in services/auth.py)."""
from __future__ import annotations

from rxportal.services.i18n import N_

import unicodedata
from dataclasses import dataclass

import phonenumbers
from sqlmodel import Session, delete, select

from rxportal.models import Account, AccountPhone
from rxportal.services import audit

MAX_NAME = 200
MAX_PHONES = 10
MAX_LABEL = 40


@dataclass(frozen=True)
class Details:
    name: str
    email: str
    phones: list[tuple[str, str]]  # (number as the customer reads it, label)
    usage_alerts: bool


class InvalidDetails(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors  # field name -> English msgid


def get_details(session: Session, account_id: int, country: str) -> Details:
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError("account not found")
    phones = session.exec(select(AccountPhone).where(AccountPhone.account_id == account_id)
                          .order_by(AccountPhone.position)).all()
    return Details(name=account.name, email=account.email,
                   phones=[(display_phone(p.number, country), p.label) for p in phones],
                   usage_alerts=account.usage_alerts)


def display_phone(e164: str, country: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if region == country.upper()
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidDetails({"name": N_("Enter your name.")})
    if len(name) > MAX_NAME:
        raise InvalidDetails({"name": N_("Use at most 200 characters.")})
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d" for ch in name):
        raise InvalidDetails({"name": N_("Remove the invisible control characters from the name.")})
    return name


def clean_phone(raw: str, country: str) -> str:
    """E.164 form of a phone number valid for the ISP's country (or given with +country code)."""
    raw = (raw or "").strip()
    if len(raw) > 32:
        raise ValueError("too long")
    number = phonenumbers.parse(raw, country.upper())
    if not phonenumbers.is_valid_number(number):
        raise ValueError("invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def update_details(session: Session, account_id: int, *, name: str,
                   phones: list[tuple[str, str]], country: str, usage_alerts: bool | None = None,
                   actor_id: int | None = None, ip: str = "") -> Details:
    """Validate everything first; save nothing unless all of it is valid."""
    errors: dict[str, str] = {}
    try:
        name = clean_name(name)
    except InvalidDetails as invalid:
        errors.update(invalid.errors)
    cleaned: list[tuple[str, str]] = []
    rows = [(n, l) for n, l in phones if (n or "").strip() or (l or "").strip()]
    if len(rows) > MAX_PHONES:
        errors["phones"] = N_("You can keep at most 10 phone numbers.")
    for index, (number, label) in enumerate(rows[:MAX_PHONES]):
        try:
            cleaned.append((clean_phone(number, country), " ".join((label or "").split())[:MAX_LABEL]))
        except (ValueError, phonenumbers.NumberParseException):
            errors[f"phone_{index}"] = N_("Enter a valid phone number, like (613) 555-0100.")
    if errors:
        raise InvalidDetails(errors)
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError("account not found")
    before = {"name": account.name}
    account.name = name
    if usage_alerts is not None:
        account.usage_alerts = usage_alerts
    session.add(account)
    session.exec(delete(AccountPhone).where(AccountPhone.account_id == account_id))
    for position, (number, label) in enumerate(cleaned):
        session.add(AccountPhone(account_id=account_id, number=number, label=label,
                                 position=position))
    audit.record(session, "details_updated", actor_type="customer", actor_id=actor_id,
                 target=f"account:{account_id}", ip=ip, before=before,
                 after={"name": name, "phones": [n for n, _ in cleaned]})
    return get_details(session, account_id, country)
