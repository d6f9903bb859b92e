"""Customers (administrators and support), an account's page with the staff actions, bulk
invite and plans (administrators), and the audit log (administrators)."""
from __future__ import annotations

import json

import reflex as rx

from rxportal import db
from rxportal.services import i18n, staff_customers
from rxportal.services.i18n import N_
from rxportal.services import settings as isp_settings
from rxportal.services.staff_customers import StaffActionError
from rxportal.state.admin import StaffState


# Ledger kinds and statuses as words for the page.
WORDS = {"pending": N_("Pending signature"), "signed": N_("Signed"), "charge": N_("Charge"), "payment": N_("Payment"), "credit": N_("Credit"),
         "refund": N_("Refund"), "adjustment": N_("Adjustment"), "open": N_("Open"),
         "paid": N_("Paid"), "void": N_("Void"), "active": N_("Active"), "ended": N_("Ended"),
         "suspended": N_("Suspended"), "closed": N_("Closed"), "succeeded": N_("Succeeded"),
         "refunded": N_("Refunded"), "disputed": N_("Disputed")}
# What a payment paid for (Payment.purpose), as the staff payments table names it.
PAID_FOR = {"amount_due": N_("Amount due"), "invoices": N_("Invoices"), "other": N_("Other amount"),
            "autopay": N_("Autopay"), "topoff": N_("Data top-off")}


def _moment(value, lang: str, session) -> str:
    values = isp_settings.get_many(session, ["country", "timezone"])
    return i18n.format_moment(value, lang, values["country"], values["timezone"])


class AdminCustomersState(StaffState):
    query: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []

    def _search(self) -> None:
        with db.session_scope() as session:
            result = staff_customers.search(session, self.query, self.page)
        self.page, self.pages, self.total = result.page, result.pages, result.total
        self.rows = [{"id": str(r.account_id), "number": r.number, "name": r.name,
                      "email": r.email, "status": r.status, "usernames": r.usernames,
                      "phones": r.phones} for r in result.rows]

    @rx.event
    def load_customers(self):
        if self._require_staff("customers") is None:
            return self._denied()
        self._search()
        return None

    @rx.event
    def search(self, form: dict):
        if self._require_staff("customers") is None:
            return self._denied()
        self.query = str(form.get("q", ""))[:staff_customers.MAX_QUERY]
        self.page = 1
        self._search()
        return None

    @rx.event
    def go_to_page(self, page: int):
        if self._require_staff("customers") is None:
            return self._denied()
        self.page = int(page)
        self._search()
        return None


class AdminAccountState(StaffState):
    found: bool = False
    account: dict[str, str] = {}
    figures: dict[str, str] = {}
    logins: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    transactions: list[dict[str, str]] = []
    services: list[dict[str, str]] = []
    plan_options: list[dict[str, str]] = []
    contracts: list[dict[str, str]] = []
    template_options: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    refund_form: dict[str, str] = {}  # the payment being refunded, with the form's attempt id
    refund_errors: dict[str, str] = {}
    notice: str = ""
    error: str = ""
    tx_errors: dict[str, str] = {}
    busy: bool = False
    form_version: int = 0

    def _account_id(self) -> int | None:
        raw = str(self.router.page.params.get("account_id", ""))
        return int(raw) if raw.isdecimal() and len(raw) < 12 else None

    def _load(self) -> None:
        account_id = self._account_id()
        lang = self.ui_lang
        with db.session_scope() as session:
            try:
                view = staff_customers.overview(session, account_id or 0)
            except LookupError:
                self.found = False
                return
            a, f = view.account, view.figures

            def money(minor: int, currency: str | None = None) -> str:
                return staff_customers.money(minor, currency or a.currency, lang, session)

            self.found = True
            self.account = {"id": str(a.id), "number": a.number, "name": a.name,
                            "email": a.email or "—", "status": self._(WORDS.get(a.status, a.status)),
                            "currency": a.currency, "language": a.language}
            self.figures = {
                "amount_due": money(f.amount_due), "open_invoices": str(f.open_invoices),
                "total_balance": money(f.total_balance),
                "next_cycle_amount": money(f.next_cycle_amount),
                "next_billing_date": i18n.format_day(f.next_billing_date, lang,
                                                     isp_settings.get(session, "country")),
            }
            self.logins = [{"id": str(u.id), "username": u.username,
                            "disabled": "true" if u.disabled else "",
                            "temporary": "true" if u.must_change_password else "",
                            "last_login": _moment(u.last_login_at, lang, session) if u.last_login_at else "—"}
                           for u in view.logins]
            self.invoices = [{"id": str(i.id), "number": i.number,
                              "issued": i18n.format_day(i.issued_on, lang),
                              "due": i18n.format_day(i.due_on, lang),
                              "total": money(i.total_minor, i.currency),
                              "status": self._(WORDS.get(i.status, i.status))}
                             for i in view.invoices]
            self.transactions = [{"id": str(t.id), "kind": self._(WORDS.get(t.kind, t.kind)), "description": t.description,
                                  "when": i18n.format_day(t.occurred_at, lang),
                                  "amount": money(t.amount_minor, t.currency)}
                                 for t in view.transactions]
            self.services = [{"id": str(s.id), "name": s.name, "price": money(s.price_minor),
                              "status": s.status,
                              "status_text": self._(WORDS.get(s.status, s.status))} for s in view.services]
            self.plan_options = [{"id": str(p.id), "label": f"{p.name} — {money(p.price_minor, p.currency)}"}
                                 for p in staff_customers.plans(session)
                                 if p.currency == a.currency]
            from rxportal.services import contracts as contract_service

            self.contracts = [{"id": str(c.id), "name": c.name,
                               "issued": i18n.format_day(c.issued_on, lang),
                               "status": c.status,
                               "status_text": self._(WORDS.get(c.status, c.status)),
                               "signed": _moment(c.signed_at, lang, session) if c.signed_at else "—"}
                              for c in contract_service.list_for_account(session, a.id, lang)]
            self.template_options = [
                {"id": str(tp.id),
                 "label": f"{contract_service.template_name(tp, lang)} (v{tp.version})"}
                for tp in staff_customers.contract_templates(session)]
            self.payments = [
                {"id": str(r.payment.id), "when": i18n.format_day(r.payment.created_at, lang),
                 "amount": money(r.payment.amount_minor, r.payment.currency),
                 "method": r.method or "—",
                 "paid_for": self._(PAID_FOR.get(r.payment.purpose, r.payment.purpose)),
                 "status": self._(WORDS.get(r.payment.status, r.payment.status)),
                 "refunded": money(r.payment.refunded_minor, r.payment.currency)
                 if r.payment.refunded_minor else "—",
                 "refundable": i18n.minor_to_decimal_str(r.refundable_minor, r.payment.currency)
                 if r.refundable_minor else ""}
                for r in staff_customers.account_payments(session, a.id)]
        self.form_version += 1

    def _act(self, action, notice_msgid: str, area: str = "customers",
             errors: str = "tx_errors", **values):
        """Run a staff action on this account: role re-checked, errors shown (field errors in
        the `errors` dict of the form concerned), page refreshed."""
        current = self._require_staff(area)
        if current is None:
            return self._denied()
        account_id = self._account_id()
        self.notice = self.error = ""
        self.tx_errors, self.refund_errors = {}, {}
        try:
            with db.session_scope() as session:
                action(session, current, account_id or 0)
        except StaffActionError as problem:
            if problem.field:
                setattr(self, errors, {problem.field: self._(problem.msgid, **problem.values)})
            else:
                self.error = self._(problem.msgid, **problem.values)
            return None
        except LookupError:
            self.error = self._("Not found.")
            return None
        self.notice = self._(notice_msgid, **values)
        self._load()
        return None

    @rx.event
    def load_account(self):
        self.notice = self.error = ""
        self.tx_errors, self.refund_errors = {}, {}
        self.refund_form = {}
        self.busy = False
        if self._require_staff("customers") is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def invite(self):
        if self._is_repeat("invite", {"account": self._account_id()}, 5.0):
            return None
        return self._act(lambda s, c, a: staff_customers.invite(s, c, a, self.client_ip),
                         "The login was created and the welcome e-mail sent.")

    @rx.event
    def send_reset(self, user_id: str):
        if self._is_repeat("reset", {"user": user_id}, 5.0):
            return None
        return self._act(lambda s, c, a: staff_customers.send_reset_link(
            s, c, a, int(user_id) if str(user_id).isdecimal() else 0, self.client_ip),
            "A password reset link was e-mailed to the customer.")

    @rx.event
    def disable_login(self, user_id: str):
        return self._act(lambda s, c, a: staff_customers.set_login_disabled(
            s, c, a, int(user_id) if str(user_id).isdecimal() else 0, True, self.client_ip),
            "The login was disabled.")

    @rx.event
    def enable_login(self, user_id: str):
        return self._act(lambda s, c, a: staff_customers.set_login_disabled(
            s, c, a, int(user_id) if str(user_id).isdecimal() else 0, False, self.client_ip),
            "The login was enabled.")

    @rx.event
    def post_transaction(self, form: dict):
        if self._is_repeat("post_transaction", form, 5.0):
            return None
        kind = str(form.get("kind", ""))
        return self._act(lambda s, c, a: staff_customers.post_transaction(
            s, c, a, kind, str(form.get("amount", "")), str(form.get("description", "")),
            self.client_ip),
            "The charge was posted." if kind == "charge" else "The credit was posted.")

    @rx.event
    def add_service(self, form: dict):
        if self._is_repeat("add_service", form, 5.0):
            return None
        plan = str(form.get("plan", ""))
        return self._act(lambda s, c, a: staff_customers.add_service(
            s, c, a, int(plan) if plan.isdecimal() else 0, self.client_ip),
            "The service was added.")

    @rx.event
    def issue_contract(self, form: dict):
        if self._is_repeat("issue_contract", form, 5.0):
            return None
        template = str(form.get("template", ""))
        return self._act(lambda s, c, a: staff_customers.issue_contract(
            s, c, a, int(template) if template.isdecimal() else 0, self.client_ip),
            "The contract was issued; the customer can sign it in the portal.")

    @rx.event
    def download_contract(self, contract_id: str):
        current = self._require_staff("customers")
        if current is None:
            return self._denied()
        try:
            with db.session_scope() as session:
                filename, content = staff_customers.signed_contract_pdf(
                    session, self._account_id() or 0,
                    int(contract_id) if str(contract_id).isdecimal() else 0)
        except LookupError:
            self.error = self._("Not found.")
            return None
        return rx.download(data=content, filename=filename, mime_type="application/pdf")

    @rx.event
    def load_refund(self, payment_id: str):
        """Open the refund form for one payment (administrators), the full refundable amount
        filled in; an empty id closes it."""
        if self._require_staff("billing") is None:
            return self._denied()
        self.tx_errors, self.refund_errors = {}, {}
        self._load()  # what is refundable now, not when the page was opened
        row = next((p for p in self.payments if p["id"] == str(payment_id) and p["refundable"]),
                   None)
        if row is None:
            self.refund_form = {}
            return None
        from rxportal.services import payments as payment_service

        self.refund_form = {"payment_id": row["id"], "attempt": payment_service.new_attempt_id(),
                            "amount": row["refundable"], "paid": row["amount"],
                            "when": row["when"]}
        self.form_version += 1
        return None

    @rx.event
    def refund_payment(self, form: dict):
        if self.busy or self._is_repeat("refund_payment", form, 5.0):
            return
        if self._require_staff("billing") is None:
            yield self._denied()
            return
        self.busy = True
        yield
        payment_id = str(form.get("payment_id", ""))
        amount_text = str(form.get("amount", ""))[:40]
        try:
            self._act(lambda s, c, a: staff_customers.refund_payment(
                s, c, a, int(payment_id) if payment_id.isdecimal() and len(payment_id) < 12 else 0,
                str(form.get("attempt", ""))[:64], amount_text,
                str(form.get("reason", ""))[:1000], self.client_ip, self.ui_lang),
                N_("The refund was made; the customer sees it in their transactions."),
                area="billing", errors="refund_errors")
            if not self.refund_errors and not self.error:
                self.refund_form = {}
        finally:
            self.busy = False

    @rx.event
    def end_service(self, service_id: str):
        return self._act(lambda s, c, a: staff_customers.end_service(
            s, c, a, int(service_id) if str(service_id).isdecimal() else 0, self.client_ip),
            "The service was ended.")


class AdminInviteState(StaffState):
    candidates: int = 0
    subject: str = ""
    message: str = ""
    errors: dict[str, str] = {}
    notice: str = ""
    busy: bool = False
    form_version: int = 0

    def _load(self) -> None:
        with db.session_scope() as session:
            self.candidates = staff_customers.bulk_candidates_count(session)
            self.subject, self.message = staff_customers.bulk_message(session)
        self.form_version += 1

    @rx.event
    def load_invite(self):
        self.errors, self.notice, self.busy = {}, "", False
        if self._require_staff("bulk_invite") is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def save_message(self, form: dict):
        current = self._require_staff("bulk_invite")
        if current is None:
            return self._denied()
        self.notice = ""
        with db.session_scope() as session:
            errors = staff_customers.save_bulk_message(
                session, current, str(form.get("subject", "")), str(form.get("message", "")),
                self.client_ip)
        self.errors = {k: self._(v) for k, v in errors.items()}
        if not errors:
            self.notice = self._("The message was saved.")
            self._load()
        return None

    @rx.event
    def send_invites(self):
        if self.busy:
            return
        current = self._require_staff("bulk_invite")
        if current is None:
            yield self._denied()
            return
        self.busy = True
        self.notice = ""
        yield
        try:
            with db.session_scope() as session:
                count = staff_customers.bulk_invite(session, current, self.client_ip)
        except StaffActionError as problem:
            self.errors = {"message": self._(problem.msgid)}
            self.busy = False
            return
        self.notice = self._("{count} invitations are queued; they go out at a steady rate.",
                             count=count)
        self._load()
        self.busy = False


class AdminPlansState(StaffState):
    plans: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    notice: str = ""
    form_version: int = 0

    def _load(self) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            from rxportal.models import Plan
            from sqlmodel import select

            self.plans = [{"id": str(p.id), "name": p.name,
                           "price": i18n.minor_to_decimal_str(p.price_minor, p.currency),
                           "price_text": staff_customers.money(p.price_minor, p.currency, lang, session),
                           "cap": str(p.data_cap_bytes // 1000**3) if p.data_cap_bytes else ""}
                          for p in session.exec(select(Plan).where(Plan.active.is_(True))
                                                .order_by(Plan.name))]
        self.form_version += 1

    @rx.event
    def load_plans(self):
        self.errors, self.notice = {}, ""
        if self._require_staff("billing") is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def save_plan(self, form: dict):
        current = self._require_staff("billing")
        if current is None:
            return self._denied()
        if self._is_repeat("save_plan", form, 3.0):
            return None
        plan_id = str(form.get("plan_id", ""))
        self.errors, self.notice = {}, ""
        try:
            with db.session_scope() as session:
                staff_customers.save_plan(session, current, int(plan_id) if plan_id.isdecimal() else None,
                                          str(form.get("name", "")), str(form.get("price", "")),
                                          str(form.get("cap", "")), self.client_ip)
        except StaffActionError as problem:
            self.errors = {f"{plan_id or 'new'}:{problem.field}": self._(problem.msgid)}
            return None
        except LookupError:
            self.errors = {f"{plan_id or 'new'}:name": self._("Not found.")}
            return None
        self.notice = self._("The plan was saved.")
        self._load()
        return None


class AdminAuditState(StaffState):
    action: str = ""
    actor: str = ""
    target: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    actions: list[str] = []
    rows: list[dict[str, str]] = []

    def _load(self) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            result = staff_customers.audit_page(session, action=self.action, actor=self.actor,
                                                target=self.target, page=self.page)
            self.actions = staff_customers.audit_actions(session)
            self.rows = [{"id": str(r.id), "at": _moment(r.at, lang, session),
                          "actor": f"{r.actor_name} ({r.actor_type})", "action": r.action,
                          "target": r.target, "ip": r.ip,
                          "detail": json.dumps(r.detail, ensure_ascii=False, default=str)[:500]}
                         for r in result.rows]
        self.page, self.pages, self.total = result.page, result.pages, result.total

    @rx.event
    def load_audit(self):
        if self._require_staff("audit") is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def filter(self, form: dict):
        if self._require_staff("audit") is None:
            return self._denied()
        self.action = str(form.get("action", ""))[:64]
        self.actor = str(form.get("actor", ""))[:100]
        self.target = str(form.get("target", ""))[:120]
        self.page = 1
        self._load()
        return None

    @rx.event
    def go_to_page(self, page: int):
        if self._require_staff("audit") is None:
            return self._denied()
        self.page = int(page)
        self._load()
        return None


class AdminStaffState(StaffState):
    """Staff users (administrators only): add, disable or enable, reset a lost authenticator."""
    members: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    notice: str = ""
    new_password: str = ""
    form_version: int = 0

    def _load(self) -> None:
        from rxportal.services import staff as staff_service

        lang = self.ui_lang
        with db.session_scope() as session:
            self.members = [{"id": str(u.id), "username": u.username,
                             "role": (self._("Administrator") if u.role == "administrator"
                                      else self._("Support")),
                             "enrolled": self._("Yes") if u.totp_secret else self._("No"),
                             "disabled": "true" if u.disabled else "",
                             "last_login": _moment(u.last_login_at, lang, session) if u.last_login_at else "—"}
                            for u in staff_service.list_staff(session)]
        self.form_version += 1

    @rx.event
    def load_staff(self):
        self.errors, self.notice, self.new_password = {}, "", ""
        if self._require_staff("staff") is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def add_staff(self, form: dict):
        from rxportal.services import staff as staff_service

        current = self._require_staff("staff")
        if current is None:
            return self._denied()
        if self._is_repeat("add_staff", form, 5.0):
            return None
        self.errors, self.notice, self.new_password = {}, "", ""
        try:
            with db.session_scope() as session:
                user, password = staff_service.create_staff(
                    session, str(form.get("username", "")), str(form.get("role", "")),
                    actor=current)
        except staff_service.StaffAuthError as problem:
            self.errors = {problem.field or "username": self._(problem.msgid, **problem.values)}
            return None
        self.notice = self._("{username} was added. Give them this password; they set up their "
                             "authenticator at their first login.", username=user.username)
        self.new_password = password
        self._load()
        return None

    def _member_action(self, staff_id: str, action, notice: str):
        from rxportal.services import staff as staff_service

        current = self._require_staff("staff")
        if current is None:
            return self._denied()
        self.errors, self.notice, self.new_password = {}, "", ""
        try:
            with db.session_scope() as session:
                action(session, current, int(staff_id) if str(staff_id).isdecimal() else 0)
        except staff_service.StaffAuthError as problem:
            self.errors = {"member": self._(problem.msgid)}
            return None
        except LookupError:
            self.errors = {"member": self._("Not found.")}
            return None
        self.notice = self._(notice)
        self._load()
        return None

    @rx.event
    def disable_member(self, staff_id: str):
        from rxportal.services import staff as staff_service

        return self._member_action(staff_id, lambda s, c, i: staff_service.set_disabled(s, c, i, True),
                                   N_("The staff login was disabled."))

    @rx.event
    def enable_member(self, staff_id: str):
        from rxportal.services import staff as staff_service

        return self._member_action(staff_id, lambda s, c, i: staff_service.set_disabled(s, c, i, False),
                                   N_("The staff login was enabled."))

    @rx.event
    def reset_member_2fa(self, staff_id: str):
        from rxportal.services import staff as staff_service

        return self._member_action(staff_id, staff_service.reset_second_factor,
                                   N_("The authenticator was reset: it is set up again at the next login."))


class AdminBillingState(StaffState):
    """Run the billing run for a date (administrators): the same as `rxportal billing-run`."""
    run_date: str = ""
    result: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def load_billing(self):
        self.result = self.error = ""
        self.busy = False
        if self._require_staff("billing") is None:
            return self._denied()
        from datetime import date

        self.run_date = date.today().isoformat()
        return None

    @rx.event
    def run_billing(self, form: dict):
        from datetime import date

        from rxportal.services import audit, billing_run

        if self.busy:
            return
        current = self._require_staff("billing")
        if current is None:
            yield self._denied()
            return
        self.result = self.error = ""
        try:
            day = date.fromisoformat(str(form.get("run_date", "")).strip()[:10])
        except ValueError:
            self.error = self._("Enter a date, like 2026-12-01.")
            return
        self.busy = True
        yield
        outcome = billing_run.run(day)
        with db.session_scope() as session:
            audit.record(session, "billing_run", target=f"date:{day.isoformat()}",
                         accounts=outcome.accounts, invoiced=outcome.invoiced,
                         charged=outcome.charged, failed=outcome.failed,
                         errors=len(outcome.errors), actor_type="staff",
                         actor_id=current.staff_id, actor_name=current.username,
                         ip=self.client_ip)
        self.result = self._(
            "Billing run for {day}: {accounts} accounts due, {invoiced} invoices issued, "
            "{charged} autopay charges, {failed} failed.", day=day.isoformat(),
            accounts=outcome.accounts, invoiced=outcome.invoiced, charged=outcome.charged,
            failed=outcome.failed)
        if outcome.errors:
            self.error = "; ".join(outcome.errors)[:1000]
        self.busy = False


class AdminTopOffsState(StaffState):
    """Top-off products customers can buy on the Data Usage page (administrators)."""
    products: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    notice: str = ""
    form_version: int = 0

    def _load(self) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            self.products = [{"id": str(p.id), "name": p.name, "gb": str(p.bytes // 1000**3),
                              "price": i18n.minor_to_decimal_str(p.price_minor, p.currency),
                              "price_text": staff_customers.money(p.price_minor, p.currency, lang, session),
                              "active": "true" if p.active else ""}
                             for p in staff_customers.topoff_products(session)]
        self.form_version += 1

    @rx.event
    def load_topoffs(self):
        self.errors, self.notice = {}, ""
        if self._require_staff("usage") is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def save_topoff(self, form: dict):
        current = self._require_staff("usage")
        if current is None:
            return self._denied()
        if self._is_repeat("save_topoff", form, 3.0):
            return None
        product_id = str(form.get("product_id", ""))
        self.errors, self.notice = {}, ""
        try:
            with db.session_scope() as session:
                staff_customers.save_topoff(session, current,
                                            int(product_id) if product_id.isdecimal() else None,
                                            str(form.get("name", "")), str(form.get("gb", "")),
                                            str(form.get("price", "")), self.client_ip)
        except StaffActionError as problem:
            self.errors = {f"{product_id or 'new'}:{problem.field}": self._(problem.msgid)}
            return None
        except LookupError:
            self.errors = {f"{product_id or 'new'}:name": self._("Not found.")}
            return None
        self.notice = self._("The top-off was saved.")
        self._load()
        return None

    @rx.event
    def toggle_topoff(self, product_id: str):
        current = self._require_staff("usage")
        if current is None:
            return self._denied()
        self.errors, self.notice = {}, ""
        row = next((p for p in self.products if p["id"] == str(product_id)), None)
        try:
            with db.session_scope() as session:
                staff_customers.set_topoff_active(
                    session, current, int(product_id) if str(product_id).isdecimal() else 0,
                    not (row and row["active"]), self.client_ip)
        except LookupError:
            self.errors = {"list": self._("Not found.")}
            return None
        self._load()
        return None
