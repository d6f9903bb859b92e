"""Billing page and payment page states: thin, every handler re-checks the session, calls the
services, and keeps only what the page shows (one page of each table)."""
from __future__ import annotations

import json

import reflex as rx

from rxportal import db
from rxportal.services import billing as billing_view
from rxportal.services import invoices, payments
from rxportal.services.i18n import N_
from rxportal.state.session import SessionState, page_load


# What the browser runs (assets/billing.js) to collect each method type with Stripe.js.
SETUP_SCRIPTS = {
    "card": "window.rxBilling.confirmCardSetup({secret})",
    "sepa_debit": "window.rxBilling.confirmSepaSetup({secret}, '.rx-iban', {holder}, {email})",
    "acss_debit": "window.rxBilling.confirmAcssSetup({secret}, {holder}, {email})",
    "us_bank_account": "window.rxBilling.confirmUsBankSetup({secret}, {holder}, {email})",
}


def setup_script(kind: str, secret: str, holder: str, email: str) -> str:
    return SETUP_SCRIPTS[kind].format(secret=json.dumps(secret), holder=json.dumps(holder),
                                      email=json.dumps(email or ""))
def register_collected_card(result, user, save: bool, lang: str) -> tuple[int | None, str]:
    """What Stripe.js answered to confirmCardSetup (the card the customer typed) recorded for
    the account: (method id, "") or (None, the reason in the customer's language)."""
    from rxportal.services import i18n

    method_ref = result.get("payment_method") if isinstance(result, dict) else None
    if not method_ref:
        error = result.get("error") if isinstance(result, dict) else ""
        return None, i18n.translate(lang, "Your card could not be saved: {reason}",
                                    reason=str(error or "")[:200])
    try:
        with db.session_scope() as session:
            method = payments.register_method(session, user.account_id, str(method_ref),
                                              save=save, actor_id=user.user_id)
            return method.id, ""
    except payments.PaymentError as problem:
        return None, problem.text(lang)


def layout_figures(user, data: dict) -> dict:
    """The layout's figures (SessionState) from the billing view's read, which has them: the
    billing pages do not read the account and the ledger a second time for the layout."""
    return {"username": user.username, "account_name": data["account_name"],
            "amount_due_text": data["amount_due"]}


# What the billing view (services/billing.py) gives the page, by the names of its vars.
PAGE_KEYS = ("amount_due", "open_invoices", "total_balance", "next_cycle_amount",
             "next_billing_date", "period_start", "has_cap", "cap", "usage_used",
             "usage_percent", "transactions", "tx_page", "tx_pages", "invoices", "inv_page",
             "inv_pages", "cards", "banks")


class BillingState(SessionState):
    amount_due: str = ""
    open_invoices: int = 0
    total_balance: str = ""
    next_cycle_amount: str = ""
    next_billing_date: str = ""
    period_start: str = ""
    has_cap: bool = False
    cap: str = ""
    usage_used: str = ""
    usage_percent: int = 0
    transactions: list[dict[str, str]] = []
    tx_page: int = 0
    tx_pages: int = 1
    invoices: list[dict[str, str]] = []
    inv_page: int = 0
    inv_pages: int = 1
    cards: list[dict[str, str]] = []
    banks: list[dict[str, str]] = []
    billing_error: str = ""
    loaded: bool = False

    @rx.var
    def has_amount_due(self) -> bool:
        return self.open_invoices > 0

    @rx.var
    def tx_page_label(self) -> str:
        return f"{self.tx_page + 1} / {self.tx_pages}"

    @rx.var
    def inv_page_label(self) -> str:
        return f"{self.inv_page + 1} / {self.inv_pages}"

    @rx.event
    @page_load(layout=False)  # the page's own read gives the layout's figures
    def load_billing(self, user):
        self._assign_changed(billing_error="")
        if self.loaded and self._unchanged(user, "billing", self.tx_page, self.inv_page):
            return  # nothing it shows changed since this tab read it
        self._assign_changed(tx_page=0, inv_page=0)
        data = billing_view.load_for_account(user.account_id, self.ui_lang)
        # Only what changed since the last load is sent: coming back to the page usually costs
        # no update at all.
        self._assign_changed(**layout_figures(user, data), loaded=True,
                             **{key: data[key] for key in PAGE_KEYS})
        self._mark_read(user, "billing", 0, 0)

    @rx.event
    def change_page(self, table: str, step: int):
        """Previous / next page of one table: only that table is read again (its count too,
        so a page that no longer exists becomes the last one)."""
        table = "transactions" if table == "transactions" else "invoices"
        try:
            step = 1 if int(step) > 0 else -1
        except (TypeError, ValueError):  # not from the page's buttons
            return None
        page = (self.tx_page if table == "transactions" else self.inv_page) + step
        user, data = billing_view.table_for_session(self.session_token, self.ui_lang, table,
                                                    max(0, page))
        if user is None:
            return self._to_login()
        self._assign_changed(**{key: data[key] for key in PAGE_KEYS if key in data})

    @rx.event
    def download_invoice(self, invoice_id: str):
        """The PDF of one of this account's invoices; never a public URL."""
        self.billing_error = ""
        user = self.require_user()
        if user is None:
            return self._to_login()
        try:
            with db.session_scope() as session:
                name, data = invoices.invoice_pdf(session, user.account_id, int(invoice_id),
                                                  self.ui_lang)
        except (payments.NotFound, ValueError, TypeError):
            self.billing_error = self._("Not found.")
            return
        return rx.download(data=data, filename=name, mime_type="application/pdf")


class PayState(SessionState):
    """/billing/pay: pay the amount due, chosen invoices or another amount, with a saved method
    or a new card (Stripe Card Element); manage methods and autopay."""
    attempt_id: str = ""
    amount_due: str = ""
    amount_due_minor: int = 0
    choices: list[dict[str, str]] = []
    methods: list[dict[str, str]] = []
    purpose: str = "amount_due"
    method_choice: str = ""
    save_card: bool = True
    busy: bool = False
    pay_error: str = ""
    amount_error: str = ""
    invoices_error: str = ""
    notice: str = ""
    methods_error: str = ""
    methods_notice: str = ""
    adding: str = ""  # "" | card | bank: which add form is open
    bank_kind: str = ""  # the bank account type of the account's currency ("" when none)
    method_busy: bool = False
    _pending: dict = {}

    @rx.var
    def paying_with_new_card(self) -> bool:
        return self.method_choice == "new"

    @rx.var
    def autopay_method(self) -> str:
        return next((m["id"] for m in self.methods if m["autopay"]), "")

    def _load(self, user) -> None:
        with db.session_scope() as session:
            data = billing_view.view(session, user.account_id, self.ui_lang)
            self.choices = billing_view.open_invoice_choices(session, user.account_id,
                                                             self.ui_lang)
        self._assign_changed(**layout_figures(user, data))
        self.amount_due = data["amount_due"]
        self.amount_due_minor = data["amount_due_minor"]
        self.bank_kind = data["bank_kind"]
        self.methods = [{**m, "kind": "card"} for m in data["cards"]] + \
                       [{**m, "kind": "bank"} for m in data["banks"]]
        ids = [m["id"] for m in self.methods]
        if self.method_choice not in ids and self.method_choice != "new":
            self.method_choice = self.autopay_method or (ids[0] if ids else "new")
        if not ids:
            self.method_choice = "new"

    @rx.event
    @page_load(layout=False)  # `_load` gives the layout's figures from the page's own read
    def load_pay(self, user):
        self.pay_error = self.amount_error = self.invoices_error = self.notice = ""
        self.methods_error = self.methods_notice = ""
        self.busy = self.method_busy = False
        self.adding = ""
        self.attempt_id = payments.new_attempt_id()
        self.purpose = "invoices" if self.router.page.params.get("invoice") else "amount_due"
        self.method_choice = ""
        self._load(user)

    @rx.event
    def set_purpose(self, value: str):
        if value in ("amount_due", "invoices", "other"):
            self.purpose = value

    @rx.event
    def set_method_choice(self, value: str):
        self.method_choice = value

    @rx.event
    def set_save_card(self, value: bool):
        self.save_card = bool(value)

    # -- paying ---------------------------------------------------------------------------
    @rx.event
    def submit_payment(self, form: dict):
        if self.busy or form.get("attempt", self.attempt_id) != self.attempt_id:
            return  # a second click of a form already paid (or being paid)
        self.busy = True
        self.pay_error = self.amount_error = self.invoices_error = self.notice = ""
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield self._to_login()
            return
        purpose = form.get("purpose") or self.purpose
        invoice_ids = []
        for key, value in form.items():
            if key.startswith("invoice_") and value in ("on", True, "true"):
                try:
                    invoice_ids.append(int(key.removeprefix("invoice_")))
                except ValueError:
                    pass
        amount_text = str(form.get("amount", ""))[:40]
        try:
            with db.session_scope() as session:
                payments.quote(session, user.account_id, purpose, invoice_ids, amount_text)
        except payments.PaymentError as problem:
            self._show_problem(problem, purpose)
            self.busy = False
            return
        self._pending = {"purpose": purpose, "invoice_ids": invoice_ids,
                         "amount_text": amount_text}
        if self.method_choice == "new":
            try:
                with db.session_scope() as session:
                    secret = payments.start_method_setup(session, user.account_id, "card")
            except payments.PaymentError as problem:
                self.pay_error = problem.text(self.ui_lang)
                self.busy = False
                return
            yield rx.call_script(f"window.rxBilling.confirmCardSetup({json.dumps(secret)})",
                                 callback=PayState.card_collected)
            return
        yield from self._charge(user, self.method_choice)

    def _show_problem(self, problem: payments.PaymentError, purpose: str) -> None:
        text = problem.text(self.ui_lang)
        if problem.code.startswith("amount") or problem.code == "credit_limit":
            self.amount_error = text
        elif problem.code in ("no_invoice",) or (problem.code == "not_found"
                                                 and purpose == "invoices"):
            self.invoices_error = text
        else:
            self.pay_error = text

    @rx.event
    def card_collected(self, result: dict):
        user = self.require_user()
        if user is None:
            self.busy = False
            return self._to_login()
        method_id, error = register_collected_card(result, user, self.save_card, self.ui_lang)
        if method_id is None:
            self.pay_error, self.busy = error, False
            return
        return list(self._charge(user, str(method_id)))

    def _charge(self, user, method_choice: str):
        pending = self._pending or {}
        try:
            method_id = int(method_choice)
        except (TypeError, ValueError):
            self.pay_error = self._("Choose a payment method.")
            self.busy = False
            return
        try:
            with db.session_scope() as session:
                outcome = payments.pay(
                    session, user.account_id, attempt_id=self.attempt_id,
                    purpose=pending.get("purpose", "amount_due"), method_id=method_id,
                    invoice_ids=pending.get("invoice_ids", []),
                    amount_text=pending.get("amount_text", ""), actor_id=user.user_id)
        except payments.PaymentError as problem:
            self._show_problem(problem, pending.get("purpose", ""))
            if problem.code != "unavailable":
                self.attempt_id = payments.new_attempt_id()
            self.busy = False
            return
        if outcome.status == "requires_action":
            yield rx.call_script(
                f"window.rxBilling.confirmCardPayment({json.dumps(outcome.client_secret)})",
                callback=PayState.authenticated)
            return
        self._finish(user, outcome)

    def _finish(self, user, outcome: payments.PayOutcome) -> None:
        if outcome.status == "succeeded":
            with db.session_scope() as session:
                from rxportal.services import i18n
                from rxportal.services import settings as isp_settings

                amount = i18n.format_money(outcome.amount_minor, outcome.currency, self.ui_lang,
                                           isp_settings.get(session, "country"))
            self.notice = self._("Thank you: your payment of {amount} was received. A receipt "
                                 "was sent by e-mail.", amount=amount)
        elif outcome.status == "processing":
            self.notice = self._("Your payment is being processed. It will appear on your "
                                 "account once your bank confirms it.")
        else:
            message = outcome.message or payments.MESSAGES["failed"]
            self.pay_error = self._(message)
        self.attempt_id = payments.new_attempt_id()
        self._pending = {}
        self.busy = False
        self._load(user)

    @rx.event
    def authenticated(self, result: dict):
        """After the 3-D Secure step in the browser: ask the gateway how it ended."""
        user = self.require_user()
        if user is None:
            self.busy = False
            return self._to_login()
        try:
            with db.session_scope() as session:
                outcome = payments.resume_attempt(session, user.account_id, self.attempt_id)
        except payments.PaymentError as problem:
            self.pay_error = problem.text(self.ui_lang)
            self.busy = False
            return
        self._finish(user, outcome)

    # -- managing methods -------------------------------------------------------------------
    @rx.event
    def open_add(self, kind: str):
        self.adding = kind if kind in ("card", "bank") else ""
        self.methods_error = self.methods_notice = ""
        if self.method_choice == "new" and self.adding:
            self.method_choice = self.autopay_method or (
                self.methods[0]["id"] if self.methods else "")

    @rx.event
    def add_method(self, form: dict):
        if self.method_busy:
            return
        self.method_busy = True
        self.methods_error = self.methods_notice = ""
        yield
        user = self.require_user()
        if user is None:
            self.method_busy = False
            yield self._to_login()
            return
        holder = str(form.get("holder", "")).strip()[:100]
        if self.adding == "bank" and not holder:
            self.methods_error = self._("Enter the account holder's name.")
            self.method_busy = False
            return
        try:
            with db.session_scope() as session:
                kind = payments.bank_kind_for(session, user.account_id) \
                    if self.adding == "bank" else "card"
                secret = payments.start_method_setup(session, user.account_id, kind)
                from rxportal.models import Account

                email = session.get(Account, user.account_id).email
        except payments.PaymentError as problem:
            self.methods_error = problem.text(self.ui_lang)
            self.method_busy = False
            return
        self._pending = {"autopay": form.get("autopay") in ("on", True, "true")}
        yield rx.call_script(setup_script(kind, secret, holder, email),
                             callback=PayState.method_collected)

    @rx.event
    def method_collected(self, result: dict):
        user = self.require_user()
        if user is None:
            self.method_busy = False
            return self._to_login()
        method_ref = (result or {}).get("payment_method") if isinstance(result, dict) else None
        if not method_ref:
            error = (result or {}).get("error") if isinstance(result, dict) else ""
            self.methods_error = self._("This payment method could not be saved: {reason}",
                                        reason=str(error or "")[:200])
            self.method_busy = False
            return
        try:
            with db.session_scope() as session:
                payments.register_method(session, user.account_id, str(method_ref), save=True,
                                         autopay=bool(self._pending.get("autopay")),
                                         actor_id=user.user_id)
        except payments.PaymentError as problem:
            self.methods_error = problem.text(self.ui_lang)
            self.method_busy = False
            return
        self.methods_notice = self._("Your payment method was saved.")
        self.adding = ""
        self._pending = {}
        self.method_busy = False
        self._load(user)

    @rx.event
    def remove_method(self, method_id: str):
        yield from self._change_methods(
            lambda session, user: payments.remove_method(
                session, user.account_id, int(method_id), actor_id=user.user_id),
            N_("The payment method was removed."))

    @rx.event
    def set_autopay(self, method_id: str):
        yield from self._change_methods(
            lambda session, user: payments.set_autopay(
                session, user.account_id, int(method_id) if method_id else None,
                actor_id=user.user_id),
            N_("Autopay will use this payment method.") if method_id else N_("Autopay is off."))

    def _change_methods(self, change, notice: str):
        """Remove a payment method or move autopay: `change(session, user)` does it for the
        session's own account (the service refuses another account's method)."""
        if self.method_busy:
            return
        self.method_busy = True
        self.methods_error = self.methods_notice = ""
        yield
        user = self.require_user()
        if user is None:
            self.method_busy = False
            yield self._to_login()
            return
        try:
            with db.session_scope() as session:
                change(session, user)
        except (payments.PaymentError, ValueError, TypeError) as problem:
            self.methods_error = problem.text(self.ui_lang) if isinstance(
                problem, payments.PaymentError) else self._("Not found.")
            self.method_busy = False
            return
        self.methods_notice = self._(notice)
        self.method_busy = False
        self._load(user)
