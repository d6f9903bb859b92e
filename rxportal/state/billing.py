"""Billing page state (placeholder until the billing feature lands: the four ledger figures)."""
from __future__ import annotations

import reflex as rx

from rxportal import db
from rxportal.services import i18n, ledger
from rxportal.services import settings as isp_settings
from rxportal.state.session import SessionState


class BillingState(SessionState):
    amount_due: str = ""
    open_invoices: int = 0
    total_balance: str = ""
    next_cycle_amount: str = ""
    next_billing_date: str = ""

    @rx.event
    def load_billing(self):
        user = self.require_user()
        if user is None:
            return
        with db.session_scope() as session:
            figures = ledger.figures(session, user.account_id)
            country = isp_settings.get(session, "country")
        money = lambda minor: i18n.format_money(minor, figures.currency, self.ui_lang, country)  # noqa: E731
        self.amount_due = money(figures.amount_due)
        self.open_invoices = figures.open_invoices
        self.total_balance = money(figures.total_balance)
        self.next_cycle_amount = money(figures.next_cycle_amount)
        self.next_billing_date = i18n.format_day(figures.next_billing_date, self.ui_lang, country)
