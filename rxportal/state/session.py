"""The session every page shares: the chosen language, the login, and the layout's figures.

Security does not rest on a page guard: every handler that reads or changes account data calls
`require_user()` itself, which re-checks the session token against the database.
"""
from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from urllib.parse import urlencode

import reflex as rx

from rxportal import db
from rxportal.services import auth, change_stamps, i18n, ledger, passwords
from rxportal.services import settings as isp_settings
from rxportal.state.language import LanguageState

SESSION_COOKIE = "rxportal_session"
# Part of every page's read key (`_read_key`): a tab's pages are read again after a restart, when
# the code that formats them or the environment may have changed.
_PROCESS_KEY = os.urandom(8).hex()
LOGIN_ROUTE = "/"
FIRST_PASSWORD_ROUTE = "/set-password"
HOME_ROUTE = "/billing"
# The customer pages a login may return to (`?next=` on the login page).
CUSTOMER_ROUTES = ("/billing", "/tickets", "/usage", "/contracts", "/details")


def page_load(layout: bool = True) -> Callable:
    """Make a customer page's on_load handler `load(self, user)`: the login check runs first, in
    the same event, and `load` runs only for a logged-in customer, with that user. One event and
    one read of the session per page view instead of two (check_login, then the page's handler:
    bench/README.md), and, for a plain (not generator) handler, one database transaction for
    both. The page template accepts only handlers made this way."""

    def decorate(load: Callable) -> Callable:
        if inspect.iscoroutinefunction(load) or inspect.isasyncgenfunction(load):
            raise TypeError(f"{load.__qualname__}: a page load handler is not async")
        if inspect.isgeneratorfunction(load):
            def handler(self):
                user, leave = self._open_page(layout)
                if user is None:
                    yield leave
                    return
                yield from load(self, user)
        else:
            def handler(self):
                with db.one_transaction():  # not across a generator's yields, above
                    user, leave = self._open_page(layout)
                    return leave if user is None else load(self, user)
        # Not functools.wraps: Reflex reads a handler's signature for its arguments, and
        # `__wrapped__` would show it load's (self, user).
        for name in ("__name__", "__qualname__", "__doc__", "__module__"):
            setattr(handler, name, getattr(load, name))
        handler.opens_page = True
        return handler

    return decorate


class SessionState(LanguageState):
    """The login and the layout's figures; the language (`lang`, `ui_lang`) is LanguageState's."""

    session_token: str = rx.Cookie(
        "", name=SESSION_COOKIE, path="/", same_site="strict", max_age=7 * 24 * 3600,
        secure=os.environ.get("RXPORTAL_PUBLIC_URL", "").startswith("https://"))
    # Signed proof that this browser logged in before (lets the real user past throttling).
    device_token: str = rx.LocalStorage("", name="rxportal_device")

    username: str = ""
    account_name: str = ""
    amount_due_text: str = ""
    isp_name: str = ""
    show_tickets: bool = True
    show_usage: bool = True
    show_contracts: bool = True
    menu_open: bool = False
    # The ISP's password rules, shown next to every new-password field.
    password_min_length: int = 8
    password_refuse_common: bool = True

    # action -> (fingerprint of the last submission, when): a double click or a resubmitted form
    # with the same content is ignored for a few seconds (backend only, never sent to the browser).
    _last_submissions: dict[str, tuple[str, float]] = {}
    # This tab logged out: its old page's on_load may still run after (Reflex hydrates the route
    # it was on), and must not make the next login return there (see `_login_address`).
    _logged_out: bool = False
    # What this tab's pages show was read at: page -> its `_read_key` then. A page whose key is
    # the same now shows what the database holds and is not read again (bench/README.md).
    _read_at: dict[str, tuple] = {}
    # The account's data version, read by the login check of the page being opened.
    _version_now: int = -1

    def _is_repeat(self, action: str, form: dict, window_seconds: float = 5.0) -> bool:
        import hashlib
        import json
        import time

        fingerprint = hashlib.sha256(json.dumps(form, sort_keys=True, default=str).encode()).hexdigest()
        previous = self._last_submissions.get(action)
        now = time.monotonic()
        if previous and previous[0] == fingerprint and now - previous[1] < window_seconds:
            return True
        self._last_submissions = {**self._last_submissions, action: (fingerprint, now)}
        return False

    def _(self, msgid: str, **values) -> str:
        """Translate a server-side message into the visitor's language."""
        return i18n.translate(self.ui_lang, msgid, **values)

    @property
    def client_ip(self) -> str:
        return self.router.session.client_ip or ""

    @property
    def user_agent(self) -> str:
        return self.router.headers.user_agent or ""

    def require_user(self) -> auth.CurrentUser | None:
        """The logged-in user, re-checked against the database; None when not logged in."""
        if not self.session_token:
            return None
        with db.session_scope() as session:
            return auth.current_user(session, self.session_token)

    def _load_branding(self, session) -> None:
        values = isp_settings.get_many(
            session, ["isp_name", "default_language", "page_tickets", "page_usage",
                      "page_contracts", *passwords.RULE_KEYS])
        rules = passwords.rules(session, values)
        self._assign_changed(
            isp_name=values["isp_name"],
            default_lang=i18n.normalize_language(values["default_language"]),
            show_tickets=bool(values["page_tickets"]), show_usage=bool(values["page_usage"]),
            show_contracts=bool(values["page_contracts"]),
            password_min_length=rules.min_length, password_refuse_common=rules.refuse_common)

    def _load_layout(self, session, user: auth.CurrentUser) -> None:
        from rxportal.models import Account

        account = session.get(Account, user.account_id)
        figures = ledger.figures(session, user.account_id)
        country = isp_settings.get(session, "country")
        self._assign_changed(
            username=user.username, account_name=account.name if account else "",
            amount_due_text=i18n.format_money(figures.amount_due, figures.currency,
                                              self.ui_lang, country))

    def _assign_changed(self, **values) -> None:
        """Set only the vars whose value changed. Any assignment marks a var dirty, and
        `default_lang` or `lang` dirty recomputes every text of the usage and tickets states
        that follow `ui_lang` (the usage chart too) and sends them again, on every page load."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    @rx.event
    def check_login(self):
        """on_load of a customer page without a load handler of its own (see `page_load`)."""
        return self._open_page()[1]

    def _open_page(self, layout: bool = True):
        """The check every customer page opens with: (the logged-in user, None), or (None, where
        to go instead: the login page, or the first-password page). `layout=False` for a page
        whose own read gives the layout's figures (billing)."""
        self._assign_changed(menu_open=False)
        with db.session_scope() as session:
            self._load_branding(session)
            user = auth.current_user(session, self.session_token) if self.session_token else None
            if user is None:
                self._forget_user()
                return None, self._to_login()
            if user.must_change_password:
                return None, rx.redirect(FIRST_PASSWORD_ROUTE, replace=True)
            if not self.lang and user.language and user.language != self.ui_lang:
                # Kept in the browser for its login page; not assigned when it changes nothing,
                # since `lang` assigned resends every text that follows the language.
                self.lang = user.language
            self._assign_changed(_version_now=change_stamps.version(session, user.account_id))
            if layout and not self._unchanged(user, "layout"):
                self._load_layout(session, user)
                self._mark_read(user, "layout")
        return user, None

    def _read_key(self, user: auth.CurrentUser, *params) -> tuple:
        """Everything a page's data depends on: the running code (`_PROCESS_KEY`), the account
        and its data version (which every write to it changes: services/change_stamps.py), the
        day, the language, and the page's own parameters (its table pages, filters)."""
        from datetime import date

        return (_PROCESS_KEY, user.account_id, self._version_now, date.today().isoformat(),
                self.ui_lang, *params)

    def _unchanged(self, user: auth.CurrentUser, page: str, *params) -> bool:
        """True when this tab read `page` with these parameters at the data version the login
        check has just read: what it shows is what a new read would give."""
        return self._version_now >= 0 and self._read_at.get(page) == self._read_key(user, *params)

    def _mark_read(self, user: auth.CurrentUser, page: str, *params) -> None:
        """After `page` was read with these parameters (never before: a read that fails must be
        made again)."""
        self._read_at = {**self._read_at, page: self._read_key(user, *params)}

    @rx.event
    def load_public(self):
        """on_load of the public pages (login, register, recovery)."""
        self._assign_changed(menu_open=False)
        with db.session_scope() as session:
            self._load_branding(session)

    @rx.event
    def refresh_amount_due(self):
        user = self.require_user()
        if user is not None:
            with db.session_scope() as session:
                self._load_layout(session, user)

    def _to_login(self):
        """To the login page, which leads back here after (unless this tab logged out)."""
        return rx.redirect(LOGIN_ROUTE if self._logged_out else self._login_address(),
                           replace=True)

    def _login_address(self) -> str:
        """The login page, told which page to come back to (a link from an e-mail, or a tab
        whose server-side state was lost with Redis, comes back where it was)."""
        url = self.router.url
        here = url.path + (f"?{url.query}" if url.query else "")
        back = auth.return_address(here, CUSTOMER_ROUTES, HOME_ROUTE)
        if back == HOME_ROUTE:
            return LOGIN_ROUTE
        return f"{LOGIN_ROUTE}?{urlencode({'next': back})}"

    def _start_session(self, token: str) -> None:
        self.session_token = token
        self._logged_out = False

    def _after_login_address(self) -> str:
        """Where a login (or a visit to the login page while logged in) leads."""
        requested = str(self.router.page.params.get("next", "") or "")
        return auth.return_address(requested, CUSTOMER_ROUTES, HOME_ROUTE)

    def _forget_user(self) -> None:
        self._read_at = {}
        self._version_now = -1
        self.username = ""
        self.account_name = ""
        self.amount_due_text = ""

    @rx.event
    def set_language(self, lang: str):
        lang = i18n.normalize_language(lang, self.default_lang)
        self.lang = lang
        user = self.require_user()
        if user is not None:
            with db.session_scope() as session:
                auth.set_language(session, user.user_id, lang)
                self._load_layout(session, user)

    @rx.event
    async def forms_ready(self):
        """After a failed handler (e.g. the database was out of reach, see rxportal/outage.py):
        handlers set their page's `busy` before the work, so re-enable the pages' forms."""
        pending = list(type(self).get_substates())
        while pending:
            cls = pending.pop()
            pending.extend(cls.get_substates())
            if "busy" in cls.base_vars:
                # Always assigned: the failed event's changes were not kept on the server, but
                # the browser got its `busy = True` before the failure.
                (await self.get_state(cls)).busy = False

    @rx.event
    def toggle_menu(self):
        self.menu_open = not self.menu_open

    @rx.event
    async def logout(self):
        if self.session_token:
            with db.session_scope() as session:
                auth.logout(session, self.session_token)
        self.session_token = ""
        self._logged_out = True
        self._forget_user()
        self.menu_open = False
        await self._reset_page_states()
        return [rx.remove_cookie(SESSION_COOKIE, {"path": "/"}),
                rx.redirect(LOGIN_ROUTE, replace=True)]

    async def _reset_page_states(self) -> None:
        """Empty every page's state, so the next login in this tab never shows, even for a
        moment, what the previous customer saw."""
        pending = list(type(self).get_substates())
        while pending:
            state_class = pending.pop()
            (await self.get_state(state_class)).reset()
            pending.extend(state_class.get_substates())
