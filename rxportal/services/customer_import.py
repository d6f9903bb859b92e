"""Importing the ISP's customers from CSV: every row is checked first, and nothing is imported
when any row is bad (each problem is reported with its line number).

Columns: number, name, email, phone, billing_day, currency, language, plan (a plan name;
optional). An account whose number exists already is updated, so a re-import is harmless.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from babel.numbers import get_currency_name
from sqlmodel import Session, select

from rxportal.models import Account, AccountPhone, AccountService, Plan
from rxportal.services import accounts, i18n
from rxportal.services.auth import AuthError, normalize_email

REQUIRED = ("number", "name", "email")


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: list[str]  # "line N: problem"


def _check_row(row: dict, line: int, plans: dict[str, Plan], country: str) -> tuple[dict, list[str]]:
    problems, clean = [], {}
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            problems.append(f"line {line}: {column} is empty")
    clean["number"] = (row.get("number") or "").strip()[:32]
    try:
        clean["name"] = accounts.clean_name(row.get("name", ""))
    except accounts.InvalidDetails:
        problems.append(f"line {line}: name is empty or too long")
    email = (row.get("email") or "").strip()
    if email:
        try:
            clean["email"] = normalize_email(email)
        except AuthError:
            problems.append(f"line {line}: e-mail address {email!r} is not valid")
    phone = (row.get("phone") or "").strip()
    clean["phone"] = ""
    if phone:
        try:
            clean["phone"] = accounts.clean_phone(phone, country)
        except Exception:  # noqa: BLE001 - phonenumbers raises several kinds
            problems.append(f"line {line}: phone number {phone!r} is not valid")
    day = (row.get("billing_day") or "1").strip()
    if not re.fullmatch(r"[0-9]{1,2}", day) or not 1 <= int(day) <= 31:
        problems.append(f"line {line}: billing_day must be a day of the month (1-31)")
    else:
        clean["billing_day"] = int(day)
    currency = (row.get("currency") or "CAD").strip().upper()
    try:
        get_currency_name(currency)
        if len(currency) != 3:
            raise ValueError
        clean["currency"] = currency
    except Exception:  # noqa: BLE001
        problems.append(f"line {line}: currency {currency!r} is not an ISO code")
    language = (row.get("language") or "en").strip().lower()
    if language not in i18n.LANGUAGE_NAMES:
        problems.append(f"line {line}: language must be one of {', '.join(i18n.LANGUAGE_NAMES)}")
    clean["language"] = language
    plan_name = (row.get("plan") or "").strip()
    if plan_name and plan_name not in plans:
        problems.append(f"line {line}: no plan named {plan_name!r}")
    clean["plan"] = plans.get(plan_name)
    return clean, problems


def import_customers(session: Session, text: str, country: str = "CA") -> ImportReport:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        return ImportReport(0, 0, [f"line 1: missing column(s) {', '.join(missing)}"])
    plans = {p.name: p for p in session.exec(select(Plan))}
    rows, errors, seen = [], [], set()
    for line, row in enumerate(reader, start=2):
        clean, problems = _check_row(row, line, plans, country)
        if clean["number"] in seen:
            problems.append(f"line {line}: account number {clean['number']} appears twice")
        seen.add(clean["number"])
        errors.extend(problems)
        rows.append(clean)
    if errors:
        return ImportReport(0, 0, errors)
    created = updated = 0
    for clean in rows:
        account = session.exec(select(Account).where(Account.number == clean["number"])).first()
        if account is None:
            account = Account(number=clean["number"], name=clean["name"])
            created += 1
        else:
            updated += 1
        account.name, account.email = clean["name"], clean.get("email", "")
        account.billing_day, account.currency = clean["billing_day"], clean["currency"]
        account.language = clean["language"]
        session.add(account)
        session.flush()
        _set_phone(session, account, clean["phone"])
        _subscribe(session, account, clean["plan"])
    return ImportReport(created, updated, [])


def _set_phone(session: Session, account: Account, phone: str) -> None:
    if phone and not session.exec(select(AccountPhone).where(
            AccountPhone.account_id == account.id, AccountPhone.number == phone)).first():
        session.add(AccountPhone(account_id=account.id, number=phone, label=""))


def _subscribe(session: Session, account: Account, plan: Plan | None) -> None:
    if plan is None or session.exec(select(AccountService).where(
            AccountService.account_id == account.id, AccountService.plan_id == plan.id,
            AccountService.status == "active")).first():
        return
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                               price_minor=plan.price_minor, started_on=date.today()))
