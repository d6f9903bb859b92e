"""The staff console's session: its own cookie and its own table (a customer's session never
opens a staff page), and the login with a second factor (TOTP enrolment or a code).

Every staff handler calls `_require_staff(area)` itself: the page guard is only a convenience.
"""
from __future__ import annotations

import os

import reflex as rx

from rxportal import db
from rxportal.services import staff
from rxportal.state.session import SessionState

STAFF_COOKIE = "rxportal_staff"
ADMIN_LOGIN_ROUTE = "/admin"
ADMIN_VERIFY_ROUTE = "/admin/verify"
ADMIN_HOME_ROUTE = "/admin/customers"


class StaffState(SessionState):
    staff_token: str = rx.Cookie(
        "", name=STAFF_COOKIE, path="/", same_site="strict", max_age=staff.SESSION_ABSOLUTE_HOURS * 3600,
        secure=os.environ.get("RXPORTAL_PUBLIC_URL", "").startswith("https://"))
    staff_device: str = rx.LocalStorage("", name="rxportal_staff_device")
    staff_username: str = ""
    staff_role: str = ""

    @rx.var
    def is_admin(self) -> bool:
        return self.staff_role == "administrator"

    def _require_staff(self, area: str) -> staff.CurrentStaff | None:
        """The staff user of this browser if they may use `area` (re-checked in the database)."""
        if not self.staff_token:
            return None
        with db.session_scope() as session:
            try:
                return staff.require(session, self.staff_token, area)
            except staff.StaffDenied:
                return None

    def _denied(self):
        """Where a handler sends a browser that may not do what it asked."""
        with db.session_scope() as session:
            current = staff.current_staff(session, self.staff_token) if self.staff_token else None
        return rx.redirect(ADMIN_HOME_ROUTE if current else ADMIN_LOGIN_ROUTE, replace=True)

    @rx.event
    def check_staff(self, area: str):
        """on_load of every staff page."""
        self.menu_open = False
        with db.session_scope() as session:
            self._load_branding(session)
            current = staff.current_staff(session, self.staff_token) if self.staff_token else None
        if current is None:
            self.staff_username = self.staff_role = ""
            return rx.redirect(ADMIN_LOGIN_ROUTE, replace=True)
        self.staff_username, self.staff_role = current.username, current.role
        if not current.may(area):
            return rx.redirect(ADMIN_HOME_ROUTE, replace=True)

    @rx.event
    def staff_logout(self):
        if self.staff_token:
            with db.session_scope() as session:
                staff.logout(session, self.staff_token)
        self.staff_token = ""
        self.staff_username = self.staff_role = ""
        return [rx.remove_cookie(STAFF_COOKIE, {"path": "/"}),
                rx.redirect(ADMIN_LOGIN_ROUTE, replace=True)]


class AdminLoginState(StaffState):
    error: str = ""
    code_error: str = ""
    busy: bool = False
    enrolling: bool = False
    qr_data_uri: str = ""
    totp_secret_text: str = ""
    recovery_codes: list[str] = []

    def _reset_form(self) -> None:
        self.error = self.code_error = ""
        self.busy = False

    @rx.event
    def load_login(self):
        self._reset_form()
        self.recovery_codes = []
        with db.session_scope() as session:
            self._load_branding(session)
            if self.staff_token and staff.current_staff(session, self.staff_token):
                return rx.redirect(ADMIN_HOME_ROUTE, replace=True)

    @rx.event
    def login(self, form: dict):
        if self.busy:
            return
        self._reset_form()
        self.busy = True
        yield
        try:
            with db.session_scope() as session:
                result = staff.login(session, form.get("username", ""), form.get("password", ""),
                                     ip=self.client_ip, user_agent=self.user_agent,
                                     device_token=self.staff_device)
        except staff.StaffAuthError as problem:
            self.error = self._(problem.msgid)
            self.busy = False
            return
        self.staff_token = result.token
        self.staff_device = result.device_token
        self.busy = False
        yield rx.redirect(ADMIN_VERIFY_ROUTE)

    @rx.event
    def load_verify(self):
        self._reset_form()
        if self.recovery_codes:
            return  # showing the new recovery codes until the user continues
        with db.session_scope() as session:
            self._load_branding(session)
            needs = staff.pending_needs_enrolment(session, self.staff_token)
            if needs is None:
                done = self.staff_token and staff.current_staff(session, self.staff_token)
                return rx.redirect(ADMIN_HOME_ROUTE if done else ADMIN_LOGIN_ROUTE, replace=True)
            self.enrolling = needs
            if needs:
                enrolment = staff.start_enrolment(session, self.staff_token)
                self.qr_data_uri = enrolment.qr_data_uri
                self.totp_secret_text = " ".join(
                    enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
            else:
                self.qr_data_uri = self.totp_secret_text = ""

    @rx.event
    def submit_code(self, form: dict):
        if self.busy:
            return
        self._reset_form()
        self.busy = True
        yield
        codes: list[str] = []
        try:
            with db.session_scope() as session:
                if self.enrolling:
                    codes = staff.confirm_enrolment(session, self.staff_token,
                                                    form.get("code", ""), ip=self.client_ip)
                else:
                    staff.verify_code(session, self.staff_token, form.get("code", ""),
                                      ip=self.client_ip)
        except staff.StaffAuthError as problem:
            self.code_error = self._(problem.msgid)
            self.busy = False
            with db.session_scope() as session:
                if staff.pending_needs_enrolment(session, self.staff_token) is None:
                    yield rx.redirect(ADMIN_LOGIN_ROUTE)
            return
        self.busy = False
        self.qr_data_uri = self.totp_secret_text = ""
        if codes:
            self.recovery_codes = codes
            self.enrolling = False
            return
        yield rx.redirect(ADMIN_HOME_ROUTE)

    @rx.event
    def continue_after_codes(self):
        self.recovery_codes = []
        return rx.redirect(ADMIN_HOME_ROUTE)


class AdminPasswordState(StaffState):
    """A staff member's own password (and recovery codes): any staff role."""
    errors: dict[str, str] = {}
    notice: str = ""
    busy: bool = False
    form_version: int = 0
    new_codes: list[str] = []

    @rx.event
    def load_password(self):
        self.errors, self.notice, self.busy, self.new_codes = {}, "", False, []
        if self._require_staff("own") is None:
            return self._denied()
        return None

    @rx.event
    def change_own_password(self, form: dict):
        if self.busy or self._is_repeat("change_own_password", form):
            return
        current = self._require_staff("own")
        if current is None:
            yield self._denied()
            return
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        try:
            with db.session_scope() as session:
                staff.change_password(session, current, str(form.get("current_password", "")),
                                      str(form.get("new_password", "")),
                                      str(form.get("confirm_password", "")))
        except staff.StaffAuthError as problem:
            self.errors = {problem.field or "current_password": self._(problem.msgid,
                                                                       **problem.values)}
            self.busy = False
            return
        self.notice = self._("Your password was changed. Your other staff sessions were "
                             "logged out.")
        self.form_version += 1
        self.busy = False

    @rx.event
    def renew_recovery_codes(self):
        current = self._require_staff("own")
        if current is None:
            return self._denied()
        if self._is_repeat("renew_recovery_codes", {}, 5.0):
            return None
        self.errors, self.notice = {}, ""
        with db.session_scope() as session:
            self.new_codes = staff.regenerate_recovery_codes(session, current)
        return None
