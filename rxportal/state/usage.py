"""The Data Usage page: the current period against the cap, the last twelve periods, the
projection, and buying a top-off. Figures are kept as numbers; their text (and the chart) are
computed in the visitor's language, so a language switch re-labels them at once."""
from __future__ import annotations

import json
import secrets
from datetime import date

import plotly.graph_objects as go
import reflex as rx
from babel.dates import format_skeleton

from rxportal import db
from rxportal.services import i18n, usage
from rxportal.services import payments as billing_payments
from rxportal.services import settings as isp_settings
from rxportal.services.i18n import N_
from rxportal.state.billing import register_collected_card
from rxportal.state.session import HOME_ROUTE, SessionState, page_load

BAR = "#3e63dd"
BAR_OVER = "#e5484d"
CAP_LINE = "#d6409f"
NEW_CARD = "new"
STATUS_LABELS = {"paid": N_("Paid"), "partly_refunded": N_("Partly refunded"),
                 "refunded": N_("Refunded"), "disputed": N_("Disputed")}


def payment_service():
    """How top-offs are paid: the billing feature's gateway and saved cards."""
    from rxportal.services import usage_payments

    return usage_payments


class UsageState(SessionState):
    loaded: bool = False
    country: str = ""
    period_start: str = ""  # ISO dates
    period_end: str = ""
    used_bytes: int = 0
    down_bytes: int = 0
    up_bytes: int = 0
    plan_cap_bytes: int = 0
    has_cap: bool = False
    topoff_bytes: int = 0
    projected_bytes: int = 0
    days_left: int = 0
    periods: list[dict] = []  # {start, end, used}
    products: list[dict] = []  # {id, name, bytes, price_minor, currency}
    methods: list[dict] = []  # {id, label}
    purchases: list[dict] = []  # the latest paid top-offs and what became of them

    _account_id: int = 0  # whose figures are shown (backend only)
    topoff_open: bool = False
    topoff_step: str = "choose"  # choose | confirm | authenticating | done
    selected_product: str = ""
    selected_method: str = ""  # a saved card's id, or "new" (the Card Element)
    save_card: bool = True
    request_key: str = ""
    busy: bool = False
    topoff_error: str = ""
    topoff_notice: str = ""

    # --- figures as text ---------------------------------------------------------------------

    def _bytes(self, value: int) -> str:
        return usage.format_bytes(value, self.ui_lang, self.country)

    @rx.var
    def used_text(self) -> str:
        return self._bytes(self.used_bytes)

    @rx.var
    def cap_text(self) -> str:
        return self._bytes(self.plan_cap_bytes + self.topoff_bytes) if self.has_cap else ""

    @rx.var
    def topoff_text(self) -> str:
        return self._bytes(self.topoff_bytes) if self.topoff_bytes else ""

    @rx.var
    def down_text(self) -> str:
        return self._bytes(self.down_bytes)

    @rx.var
    def up_text(self) -> str:
        return self._bytes(self.up_bytes)

    @rx.var
    def projected_text(self) -> str:
        return self._bytes(self.projected_bytes)

    @rx.var
    def percent(self) -> int:
        cap = self.plan_cap_bytes + self.topoff_bytes
        return self.used_bytes * 100 // cap if self.has_cap and cap else 0

    @rx.var
    def percent_bar(self) -> int:
        return min(self.percent, 100)

    @rx.var
    def over_cap(self) -> bool:
        return self.has_cap and self.used_bytes > self.plan_cap_bytes + self.topoff_bytes

    @rx.var
    def will_exceed(self) -> bool:
        return self.has_cap and self.projected_bytes > self.plan_cap_bytes + self.topoff_bytes

    @rx.var
    def period_text(self) -> str:
        if not self.period_start:
            return ""
        lang = self.ui_lang
        return i18n.translate(lang, "{start} to {end}",
                              start=i18n.format_day(date.fromisoformat(self.period_start), lang, self.country),
                              end=i18n.format_day(date.fromisoformat(self.period_end), lang, self.country))

    @rx.var
    def history_rows(self) -> list[dict[str, str]]:
        lang = self.ui_lang
        return [{"key": row["start"],
                 "period": self._period_label(row, lang, long=True),
                 "used": self._bytes(row["used"])} for row in self.periods]

    @rx.var
    def product_options(self) -> list[dict[str, str]]:
        lang = self.ui_lang
        return [{"id": str(p["id"]),
                 "label": i18n.translate(lang, "{amount} for {price}",
                                         amount=self._bytes(p["bytes"]),
                                         price=i18n.format_money(p["price_minor"], p["currency"],
                                                                 lang, self.country))}
                for p in self.products]

    @rx.var
    def selected_label(self) -> str:
        for option in self.product_options:
            if option["id"] == self.selected_product:
                return option["label"]
        return ""

    @rx.var
    def paying_with_new_card(self) -> bool:
        return self.selected_method == NEW_CARD

    @rx.var
    def purchase_rows(self) -> list[dict[str, str]]:
        lang = self.ui_lang
        money = lambda minor, currency: i18n.format_money(minor, currency, lang, self.country)  # noqa: E731
        rows = []
        for p in self.purchases:
            note = ""
            if p["refunded_minor"]:
                note = i18n.translate(lang, "{amount} refunded",
                                      amount=money(p["refunded_minor"], p["currency"]))
                if p["removed_bytes"]:
                    note += " · " + i18n.translate(lang, "{amount} taken off the cap",
                                                   amount=self._bytes(p["removed_bytes"]))
            elif p["status"] == "disputed":
                note = i18n.translate(lang, "Payment disputed with your bank")
            rows.append({
                "id": str(p["id"]), "status": p["status"],
                "day": i18n.format_day(date.fromisoformat(p["day"]), lang, self.country),
                "data": self._bytes(p["bytes"]), "price": money(p["price_minor"], p["currency"]),
                "label": i18n.translate(lang, STATUS_LABELS.get(p["status"], "Paid")),
                "note": note})
        return rows

    @rx.var
    def cap_after_text(self) -> str:
        for p in self.products:
            if str(p["id"]) == self.selected_product:
                return self._bytes(self.plan_cap_bytes + self.topoff_bytes + p["bytes"])
        return ""

    def _period_label(self, row: dict, lang: str, long: bool = False) -> str:
        locale = i18n.locale_for(lang, self.country)
        start = date.fromisoformat(row["start"])
        if long:
            return i18n.translate(lang, "{start} to {end}",
                                  start=i18n.format_day(start, lang, self.country),
                                  end=i18n.format_day(date.fromisoformat(row["end"]), lang,
                                                      self.country))
        return format_skeleton("yMMM", start, locale=locale)

    @rx.var
    def chart(self) -> go.Figure:
        lang = self.ui_lang
        cap = self.plan_cap_bytes + self.topoff_bytes if self.has_cap else None
        labels = [self._period_label(row, lang) for row in self.periods]
        hover = [f"{self._period_label(row, lang, long=True)}<br>{self._bytes(row['used'])}"
                 for row in self.periods]
        unit = i18n.translate(lang, "GB")
        # Plotly's default template ("plotly") is 4,000 objects to build and 6 KB of JSON in
        # every new tab's first update, on every page: Reflex computes this var when a tab
        # connects. The chart sets its own colours; plotly.js's defaults do the rest.
        figure = go.Figure(layout={"template": "none"})
        figure.add_trace(go.Bar(
            x=labels, y=[usage.gb_number(row["used"]) for row in self.periods],
            name=i18n.translate(lang, "Data used"), hovertext=hover, hoverinfo="text",
            marker_color=[BAR_OVER if cap is not None and row["used"] > self._cap_of(row) else BAR
                          for row in self.periods]))
        if cap is not None:
            figure.add_trace(go.Scatter(
                x=labels, y=[usage.gb_number(self._cap_of(row)) for row in self.periods],
                mode="lines", name=i18n.translate(lang, "Data cap"),
                line={"color": CAP_LINE, "dash": "dash", "width": 2, "shape": "hvh"},
                hoverinfo="skip"))
        figure.update_layout(
            height=340, margin={"l": 48, "r": 8, "t": 8, "b": 8},
            showlegend=cap is not None, bargap=0.25,
            legend={"orientation": "h", "y": -0.22, "x": 0},
            yaxis={"title": {"text": unit}, "fixedrange": True, "rangemode": "tozero",
                   "showgrid": True, "gridcolor": "rgba(0, 0, 0, 0.08)"},
            xaxis={"fixedrange": True, "tickangle": -45, "automargin": True},
            paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
            separators=", " if lang == "fr" else ".,",
        )
        return figure

    def __getstate__(self):
        """What the state manager stores (Redis, disk), without the cached chart. Reflex loads
        this state for every event of every page (its texts follow SessionState.ui_lang), and
        unpickling a plotly Figure re-validates its whole template: 20-100 ms of CPU per event
        (bench/README.md). The chart is rebuilt from `periods` when the page needs it."""
        fields = dict(super().__getstate__())
        fields.pop(type(self).computed_vars["chart"]._cache_attr, None)
        return fields

    def _cap_of(self, row: dict) -> int:
        """The cap of a past period: the plan's, plus the top-offs bought in it."""
        return self.plan_cap_bytes + int(row.get("topoff", 0))

    # --- events ------------------------------------------------------------------------------

    def _enabled(self, session) -> bool:
        return bool(isp_settings.get(session, "page_usage"))

    @rx.event
    @page_load()
    def load_usage(self, user):
        self.topoff_open, self.topoff_error, self.topoff_notice = False, "", ""
        self.busy = False
        if user.account_id != self._account_id:
            # Another login in this browser tab: never show the previous account's figures.
            self.reset()
            self._account_id = 0
            yield
        with db.session_scope() as session:
            if not self._enabled(session):
                yield rx.redirect(HOME_ROUTE, replace=True)
                return
            if self.topoff_step == "authenticating":
                self._settle_left_authentication(session, user.account_id)
            self._read(session, user.account_id)
        self._account_id = user.account_id
        self.loaded = True

    def _settle_left_authentication(self, session, account_id: int) -> None:
        """The page was reloaded during the bank's step: what the bank answered (or a cancel
        when it did not) is settled now rather than left waiting."""
        self.topoff_step = "choose"
        try:
            payment_service().finish_authentication(session, account_id, self.request_key)
        except Exception:  # noqa: BLE001 - the webhook or the next payment settles it
            session.rollback()

    @rx.event
    def forget_usage(self):
        """Leaving the page (or logging out from it): drop the figures, so the next login in
        this browser tab never sees them, not even for the moment before its own load."""
        self.reset()
        self._account_id = 0

    def _read(self, session, account_id: int) -> None:
        self.country = isp_settings.get(session, "country")
        today = usage.local_today(session)
        figures = usage.current(session, account_id, today)
        self.period_start, self.period_end = figures.start.isoformat(), figures.end.isoformat()
        self.used_bytes, self.down_bytes, self.up_bytes = figures.used, figures.bytes_down, figures.bytes_up
        self.has_cap = figures.plan_cap is not None
        self.plan_cap_bytes = figures.plan_cap or 0
        self.topoff_bytes = figures.topoff_bytes
        self.projected_bytes, self.days_left = figures.projected, figures.days_left
        history = usage.history(session, account_id, today)
        bought = usage.topoff_bytes_by_period(session, account_id, history[0].start)
        self.periods = [{"start": p.start.isoformat(), "end": p.end.isoformat(), "used": p.used,
                         "topoff": bought.get(p.start, 0)} for p in history]
        zone = usage.isp_zone(session)
        self.purchases = [{"id": p.id, "day": p.paid_at.astimezone(zone).date().isoformat(),
                           "bytes": int(p.bytes), "price_minor": p.price_minor,
                           "currency": p.currency, "status": p.status,
                           "refunded_minor": p.refunded_minor,
                           "removed_bytes": int(p.removed_bytes)}
                          for p in usage.recent_purchases(session, account_id)]
        self.products = [{"id": p.id, "name": p.name, "bytes": int(p.bytes),
                          "price_minor": p.price_minor, "currency": p.currency}
                         for p in usage.topoff_products(session, account_id)] if self.has_cap else []
        payments = payment_service()
        self.methods = payments.topoff_methods(session, account_id) if self.has_cap else []

    @rx.event
    def open_topoff(self):
        if not self.has_cap:
            return
        self.topoff_open, self.topoff_step = True, "choose"
        self.topoff_error, self.topoff_notice = "", ""
        self.selected_product = str(self.products[0]["id"]) if self.products else ""
        self.selected_method = self.methods[0]["id"] if self.methods else NEW_CARD

    @rx.event
    def set_topoff_open(self, value: bool):
        if self.busy:
            return
        self.topoff_open = bool(value)

    @rx.event
    def choose_product(self, value: str):
        if value in {str(p["id"]) for p in self.products}:
            self.selected_product = value
            self.topoff_error = ""

    @rx.event
    def choose_method(self, value: str):
        if value in {m["id"] for m in self.methods} | {NEW_CARD}:
            self.selected_method = value

    @rx.event
    def set_save_card(self, value: bool):
        self.save_card = bool(value)

    @rx.event
    def to_confirm(self):
        if self.selected_product not in {str(p["id"]) for p in self.products}:
            self.topoff_error = self._("Choose a top-off.")
            return
        self.topoff_error = ""
        self.request_key = secrets.token_urlsafe(18)  # fixed until paid: one charge per confirmation
        self.topoff_step = "confirm"

    @rx.event
    def back_to_choose(self):
        if not self.busy:
            self.topoff_step, self.topoff_error = "choose", ""

    @rx.event
    def pay_topoff(self):
        """Confirm and pay: a saved card is charged at once; a new card is first collected by
        Stripe.js from the Card Element (card_collected), then charged."""
        if self.busy:
            return
        if self.selected_method not in {m["id"] for m in self.methods} | {NEW_CARD}:
            self.topoff_error = self._("Choose a payment method.")
            return
        self.busy, self.topoff_error = True, ""
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield self._to_login()
            return
        with db.session_scope() as session:
            enabled = self._enabled(session)
        if not enabled:
            self.busy = False
            yield rx.redirect(HOME_ROUTE, replace=True)
            return
        if self.selected_method != NEW_CARD:
            yield from self._charge(user, int(self.selected_method))
            return
        try:
            with db.session_scope() as session:
                secret = billing_payments.start_method_setup(session, user.account_id, "card")
        except Exception as problem:  # noqa: BLE001 - gateway down or refusing: nothing charged
            self._unavailable(problem)
            return
        yield rx.call_script(f"window.rxBilling.confirmCardSetup({json.dumps(secret)})",
                             callback=UsageState.card_collected)

    @rx.event
    def card_collected(self, result: dict):
        user = self.require_user()
        if user is None:
            self.busy = False
            return self._to_login()
        if not self.busy:
            return  # not asked for (a stale callback)
        method_id, error = register_collected_card(result, user, self.save_card, self.ui_lang)
        if method_id is None:
            self.topoff_error, self.busy = error, False
            return
        return list(self._charge(user, method_id))

    def _charge(self, user, method_id: int):
        payments = payment_service()
        try:
            with db.session_scope() as session:
                charge = payments.topoff_charge(session, user.account_id, user.user_id)
                purchase = usage.purchase_topoff(
                    session, user.account_id, int(self.selected_product), self.request_key,
                    charge, payment_method_id=method_id, actor_id=user.user_id,
                    ip=self.client_ip)
                status, reason = purchase.status, payments.decline_reason(purchase)
                self._read(session, user.account_id)
        except usage.TopOffError:
            self.topoff_error = self._("This top-off is not available. Please choose another.")
            self.topoff_step, self.busy = "choose", False
            return
        except Exception as problem:  # noqa: BLE001 - gateway or database down: nothing charged
            self._unavailable(problem)
            return
        if status == "authenticating" and charge.client_secret:
            # The bank's 3-D Secure window opens over the page: the dialog steps aside.
            self.topoff_step, self.topoff_open = "authenticating", False
            yield rx.call_script(
                f"window.rxBilling.confirmCardPayment({json.dumps(charge.client_secret)})",
                callback=UsageState.authenticated)
            return
        yield from self._finish(status, reason)

    @rx.event
    def authenticated(self, _result: dict):
        """After the 3-D Secure step in the browser: ask the gateway how it ended."""
        user = self.require_user()
        if user is None:
            self.busy = False
            return self._to_login()
        if self.topoff_step != "authenticating":
            return
        payments = payment_service()
        try:
            with db.session_scope() as session:
                purchase = payments.finish_authentication(session, user.account_id,
                                                          self.request_key)
                status, reason = purchase.status, payments.decline_reason(purchase)
                self._read(session, user.account_id)
        except Exception as problem:  # noqa: BLE001
            self.topoff_step, self.topoff_open = "confirm", True
            self._unavailable(problem)
            return
        self.topoff_open = True
        return list(self._finish(status, reason))

    def _finish(self, status: str, reason: str):
        if status == "paid":
            self.topoff_step = "done"
            self.topoff_notice = self._(
                "Thank you. Your data cap is now {cap}. A receipt is on its way by e-mail.",
                cap=self.cap_text)
        else:
            self.topoff_step = "confirm"
            self.topoff_error = self._(reason)
            self.request_key = secrets.token_urlsafe(18)
            if self.selected_method not in {m["id"] for m in self.methods}:
                self.selected_method = NEW_CARD
        self.busy = False
        yield SessionState.refresh_amount_due

    def _unavailable(self, problem: Exception) -> None:
        if isinstance(problem, billing_payments.PaymentError) and problem.code != "unavailable":
            self.topoff_error = problem.text(self.ui_lang)
        else:
            self.topoff_error = self._(
                "The payment service is not answering. Nothing was charged; please try again "
                "in a moment.")
        self.busy = False
