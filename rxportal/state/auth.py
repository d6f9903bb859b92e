"""Login, registration, recovery, reset and first-password handlers (public pages)."""
from __future__ import annotations

import reflex as rx

from rxportal import db
from rxportal.services import auth, branding
from rxportal.state.session import (FIRST_PASSWORD_ROUTE, HOME_ROUTE, LOGIN_ROUTE,
                                    SESSION_COOKIE, SessionState)


class AuthFormState(SessionState):
    """Shared by the public forms: one message area, field errors, and a busy flag that
    makes a double click submit once."""
    error: str = ""
    notice: str = ""
    field_errors: dict[str, str] = {}
    busy: bool = False
    logo_url: str = branding.DEFAULT_LOGO
    login_message_html: str = ""

    def _clear(self) -> None:
        self.error, self.notice, self.field_errors = "", "", {}

    def _fail(self, problem: auth.AuthError) -> None:
        message = self._(problem.msgid, **problem.values)
        if problem.field:
            self.field_errors = {problem.field: message}
        else:
            self.error = message

    @rx.event
    def load_login(self):
        self._clear()
        self.busy = False
        with db.session_scope() as session:
            self.logo_url = branding.logo_url(session)
            self.login_message_html = branding.login_message(session, self.ui_lang)
            if self.session_token and auth.current_user(session, self.session_token):
                return rx.redirect(self._after_login_address(), replace=True)

    @rx.event
    def reload_login_message(self):
        with db.session_scope() as session:
            self.login_message_html = branding.login_message(session, self.ui_lang)

    @rx.event
    def load_form(self):
        self._clear()
        self.busy = False

    @rx.event
    def login(self, form: dict):
        if self.busy:
            return
        self._clear()
        self.busy = True
        yield
        try:
            with db.session_scope() as session:
                result = auth.login(session, form.get("username", ""), form.get("password", ""),
                                    ip=self.client_ip, user_agent=self.user_agent,
                                    device_token=self.device_token)
                if self.lang:
                    auth.set_language(session, result.user_id, self.ui_lang)
                elif result.language:
                    self.lang = result.language
        except auth.AuthError as problem:
            self._fail(problem)
            self.busy = False
            return
        self._start_session(result.token)
        self.device_token = result.device_token
        self.busy = False
        yield rx.redirect(FIRST_PASSWORD_ROUTE if result.must_change_password
                          else self._after_login_address())

    def _lookup(self, form: dict, action) -> bool:
        """Run a registration/recovery service call; True when it went through."""
        try:
            with db.session_scope() as session:
                self.last_result = action(session, form.get("email", ""), ip=self.client_ip)
            return True
        except auth.AuthError as problem:
            self._fail(problem)
            return False

    last_result: bool = False

    @rx.event
    def register(self, form: dict):
        if self.busy or self._is_repeat("register", form):
            return
        self._clear()
        self.busy = True
        yield
        if self._lookup(form, auth.register):
            if self.last_result:
                self.notice = self._(
                    "We found your account. We have e-mailed you your username and a temporary "
                    "password.")
            else:
                self.error = self._(
                    "We could not find that e-mail address. Please contact your Internet "
                    "service provider to make sure your account information is up to date.")
        self.busy = False

    @rx.event
    def request_reset(self, form: dict):
        if self.busy or self._is_repeat("request_reset", form):
            return
        self._clear()
        self.busy = True
        yield
        if self._lookup(form, auth.request_password_reset):
            self.notice = self._(
                "If this address is on file, we have sent it a link to choose a new password.")
        self.busy = False

    @rx.event
    def remind_username(self, form: dict):
        if self.busy or self._is_repeat("remind_username", form):
            return
        self._clear()
        self.busy = True
        yield
        if self._lookup(form, auth.request_username_reminder):
            self.notice = self._("If this address is on file, we have e-mailed it your username.")
        self.busy = False


class ResetState(AuthFormState):
    token_valid: bool = True
    done: bool = False

    @rx.event
    def load_reset(self):
        self._clear()
        self.busy, self.done = False, False
        token = self.router.page.params.get("token", "")
        with db.session_scope() as session:
            self.token_valid = auth.reset_token_is_valid(session, token)

    @rx.event
    def reset_password(self, form: dict):
        if self.busy:
            return
        self._clear()
        self.busy = True
        yield
        token = self.router.page.params.get("token", "")
        try:
            with db.session_scope() as session:
                auth.reset_password(session, token, form.get("new_password", ""),
                                    form.get("confirm_password", ""), ip=self.client_ip)
            self.done = True
            self.notice = self._("Your password was changed. You can log in now.")
        except auth.AuthError as problem:
            self._fail(problem)
        self.busy = False


class FirstPasswordState(AuthFormState):
    @rx.event
    def load_first_password(self):
        self._clear()
        self.busy = False
        user = self.require_user()
        if user is None:
            return rx.redirect(LOGIN_ROUTE, replace=True)
        if not user.must_change_password:
            return rx.redirect(HOME_ROUTE, replace=True)
        self.username = user.username

    @rx.event
    def set_first_password(self, form: dict):
        if self.busy:
            return
        self._clear()
        self.busy = True
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield rx.redirect(LOGIN_ROUTE, replace=True)
            return
        try:
            with db.session_scope() as session:
                auth.set_first_password(session, user, form.get("new_password", ""),
                                        form.get("confirm_password", ""), ip=self.client_ip)
        except auth.AuthError as problem:
            self._fail(problem)
            self.busy = False
            return
        self.busy = False
        yield rx.redirect(HOME_ROUTE, replace=True)


class ConfirmEmailState(AuthFormState):
    confirmed_email: str = ""

    @rx.event
    def load_confirm(self):
        self._clear()
        token = self.router.page.params.get("token", "")
        try:
            with db.session_scope() as session:
                self.confirmed_email = auth.confirm_email_change(session, token)
            self.notice = self._("Your new e-mail address is confirmed.")
        except auth.AuthError as problem:
            self._fail(problem)


__all__ = ["AuthFormState", "ResetState", "FirstPasswordState", "ConfirmEmailState",
           "SESSION_COOKIE"]
