"""My Details: name, e-mail (confirmed by link), phone numbers, usage alerts, password, language."""
from __future__ import annotations

import secrets

import reflex as rx

from rxportal import db
from rxportal.services import accounts, auth
from rxportal.services import settings as isp_settings
from rxportal.state.session import SessionState, page_load

MAX_PHONE_ROWS = 10


def _row(number: str = "", label: str = "") -> dict[str, str]:
    # The key keeps each row's input attached to its row when another row is removed.
    return {"key": secrets.token_hex(4), "number": number, "label": label}


class DetailsState(SessionState):
    name: str = ""
    email: str = ""
    phones: list[dict[str, str]] = []
    usage_alerts: bool = True
    errors: dict[str, str] = {}
    details_notice: str = ""
    password_errors: dict[str, str] = {}
    password_notice: str = ""
    busy: bool = False
    form_version: int = 0  # bumped after a save so the inputs show the saved values

    def _show(self, details: accounts.Details) -> None:
        self.name, self.email, self.usage_alerts = details.name, details.email, details.usage_alerts
        self.phones = [_row(number, label) for number, label in details.phones] or [_row()]
        self.form_version += 1

    @rx.event
    @page_load()
    def load_details(self, user):
        self.errors, self.details_notice = {}, ""
        self.password_errors, self.password_notice = {}, ""
        self.busy = False
        with db.session_scope() as session:
            country = isp_settings.get(session, "country")
            self._show(accounts.get_details(session, user.account_id, country))

    @rx.event
    def add_phone(self):
        if len(self.phones) < MAX_PHONE_ROWS:
            self.phones = [*self.phones, _row()]

    @rx.event
    def remove_phone(self, key: str):
        self.phones = [row for row in self.phones if row["key"] != key] or [_row()]

    @rx.event
    def save_details(self, form: dict):
        if self.busy or self._is_repeat("save_details", form):
            return
        self.busy = True
        self.errors, self.details_notice = {}, ""
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield self._to_login()
            return
        phones = [(form.get(f"phone_number_{i}", ""), form.get(f"phone_label_{i}", ""))
                  for i in range(len(self.phones))]
        try:
            with db.session_scope() as session:
                country = isp_settings.get(session, "country")
                details = accounts.update_details(
                    session, user.account_id, name=form.get("name", ""), phones=phones,
                    country=country, usage_alerts=form.get("usage_alerts") == "on",
                    actor_id=user.user_id, ip=self.client_ip)
                new_email = (form.get("email") or "").strip()
                email_pending = new_email.lower() != (details.email or "").lower()
                if email_pending:
                    auth.request_email_change(session, user, new_email)
        except accounts.InvalidDetails as invalid:
            self.errors = {k: self._(v) for k, v in invalid.errors.items()}
            self.busy = False
            return
        except auth.AuthError as problem:
            self.errors = {"email": self._(problem.msgid)}
            self.busy = False
            return
        self._show(details)
        self.account_name = details.name
        self.details_notice = self._("Your details were updated.")
        if email_pending:
            self.details_notice += " " + self._(
                "We sent a confirmation link to {email}. Your address changes once you open it.",
                email=new_email)
        self.busy = False

    @rx.event
    def change_password(self, form: dict):
        if self.busy or self._is_repeat("change_password", form):
            return
        self.busy = True
        self.password_errors, self.password_notice = {}, ""
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield self._to_login()
            return
        try:
            with db.session_scope() as session:
                auth.change_password(session, user, form.get("current_password", ""),
                                     form.get("new_password", ""),
                                     form.get("confirm_password", ""), ip=self.client_ip)
        except auth.AuthError as problem:
            self.password_errors = {problem.field: self._(problem.msgid, **problem.values)}
            self.busy = False
            return
        self.password_notice = self._(
            "Your password was changed. Your other sessions were logged out.")
        self.form_version += 1
        self.busy = False
