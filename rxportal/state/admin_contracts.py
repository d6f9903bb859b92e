"""Contracts in the staff console: templates and issuing (administrators), signature records
and signed PDFs (administrators and support, read-only). Every handler re-checks the role."""
from __future__ import annotations

import reflex as rx

from rxportal import db
from rxportal.services import i18n, staff_contracts
from rxportal.services import settings as isp_settings
from rxportal.services.i18n import N_
from rxportal.services.staff_customers import StaffActionError
from rxportal.state.admin import StaffState

STATUS_WORDS = {"pending": N_("Pending signature"), "signed": N_("Signed")}


def _digits(raw) -> int:
    raw = str(raw or "")
    return int(raw) if raw.isdecimal() and len(raw) < 12 else 0


class AdminContractsState(StaffState):
    """/admin/contracts: the templates (administrators) and the records (all staff)."""
    templates: list[dict[str, str]] = []
    template_options: list[dict[str, str]] = []
    rows: list[dict[str, str]] = []
    status: str = ""
    code_filter: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    notice: str = ""
    errors: dict[str, str] = {}
    busy: bool = False
    form_version: int = 0

    def _load(self, current) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            country = isp_settings.get(session, "country")
            if current.may("contracts"):
                summaries = staff_contracts.templates(session)
                self.templates = [{"code": s.code, "version": str(s.version),
                                   "name": s.name_fr if lang == "fr" else s.name_en,
                                   "issued": str(s.issued), "signed": str(s.signed)}
                                  for s in summaries]
                self.template_options = [
                    {"id": str(s.latest_id),
                     "label": f"{s.name_fr if lang == 'fr' else s.name_en} (v{s.version})"}
                    for s in summaries]
            result = staff_contracts.records(session, lang, self.status, self.code_filter, self.page)
            timezone = isp_settings.get(session, "timezone")
            self.rows = [{"id": str(r.contract_id), "number": r.account_number,
                          "account": r.account_name,
                          "contract": f"{r.template_name} (v{r.version})",
                          "issued": i18n.format_day(r.issued_on, lang, country),
                          "status": r.status, "status_text": self._(STATUS_WORDS[r.status]),
                          "signed": i18n.format_moment(r.signed_at, lang, country, timezone)
                          if r.signed_at else "—"} for r in result.rows]
        self.page, self.pages, self.total = result.page, result.pages, result.total
        self.form_version += 1

    @rx.event
    def load_contracts(self):
        self.notice, self.errors, self.busy = "", {}, False
        self.templates, self.template_options = [], []
        current = self._require_staff("contract_records")
        if current is None:
            return self._denied()
        self.status, self.code_filter, self.page = "", "", 1
        self._load(current)
        return None

    @rx.event
    def filter_records(self, form: dict):
        current = self._require_staff("contract_records")
        if current is None:
            return self._denied()
        status = str(form.get("status", ""))
        self.status = status if status in staff_contracts.STATUSES else ""
        self.code_filter = str(form.get("code", "")).strip().lower()[:64]
        self.page = 1
        self._load(current)
        return None

    @rx.event
    def go_to_page(self, page: int):
        current = self._require_staff("contract_records")
        if current is None:
            return self._denied()
        self.page = _digits(page) or 1
        self._load(current)
        return None

    @rx.event
    def issue_template(self, form: dict):
        if self.busy or self._is_repeat("issue_template", form, 5.0):
            return
        current = self._require_staff("contracts")
        if current is None:
            yield self._denied()
            return
        self.busy, self.notice, self.errors = True, "", {}
        yield
        try:
            with db.session_scope() as session:
                result = staff_contracts.issue_template(
                    session, current, _digits(form.get("template")),
                    str(form.get("accounts", ""))[:200_000],
                    all_active=form.get("all_active") in ("on", "true", True),
                    ip=self.client_ip)
        except StaffActionError as problem:
            self.errors = {problem.field or "accounts": self._(problem.msgid, **problem.values)}
            self.busy = False
            return
        self.notice = self._("Issued to {issued} accounts; {skipped} already had this version.",
                             issued=result.issued, skipped=result.skipped)
        self._load(current)
        self.busy = False


class AdminTemplateState(StaffState):
    """/admin/contracts/template/[code] (a new version) and /admin/contracts/new-template."""
    found: bool = False
    is_new: bool = True
    template: dict[str, str] = {}
    versions: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    notice: str = ""
    busy: bool = False
    form_version: int = 0

    def _code(self) -> str:
        return str(self.router.page.params.get("template_code", "") or "").strip().lower()[:64]

    def _load(self, code: str) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            try:
                rows = staff_contracts.versions(session, code)
            except LookupError:
                self.found = False
                return
            country = isp_settings.get(session, "country")
            latest = rows[0]
            self.template = {"code": latest.code, "version": str(latest.version),
                             "name_en": latest.name_en, "name_fr": latest.name_fr,
                             "body_en": latest.body_en, "body_fr": latest.body_fr}
            self.versions = [{"version": str(t.version), "name": t.name_fr if lang == "fr"
                              else t.name_en,
                              "created": i18n.format_day(t.created_at, lang, country)}
                             for t in rows]
        self.found, self.is_new = True, False
        self.form_version += 1

    @rx.event
    def load_template(self):
        self.errors, self.notice, self.busy = {}, "", False
        self.template, self.versions = {}, []
        if self._require_staff("contracts") is None:
            return self._denied()
        code = self._code()
        if code:
            self._load(code)
        else:
            self.found, self.is_new = True, True
            self.template = {"code": "", "version": "", "name_en": "", "name_fr": "",
                             "body_en": "", "body_fr": ""}
            self.form_version += 1
        return None

    @rx.event
    def save_template(self, form: dict):
        if self.busy or self._is_repeat("save_template", form, 5.0):
            return
        current = self._require_staff("contracts")
        if current is None:
            yield self._denied()
            return
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        code = str(form.get("code", "")) if self.is_new else self._code()
        try:
            with db.session_scope() as session:
                template = staff_contracts.save_template(
                    session, current, code, str(form.get("name_en", "")),
                    str(form.get("name_fr", "")), str(form.get("body_en", "")),
                    str(form.get("body_fr", "")), new=self.is_new, ip=self.client_ip)
                saved_code, version = template.code, template.version
        except StaffActionError as problem:
            self.errors = {problem.field or "form": self._(problem.msgid, **problem.values)}
            self.busy = False
            return
        except LookupError:
            self.errors = {"form": self._("Not found.")}
            self.busy = False
            return
        self.busy = False
        if self.is_new:
            yield rx.redirect(f"/admin/contracts/template/{saved_code}")
            return
        self._load(saved_code)
        self.notice = self._("Saved as version {version}. Contracts already issued keep the "
                             "version they were issued with.", version=version)


class AdminContractRecordState(StaffState):
    """/admin/contracts/record/[contract_id]: status, the signature record, the signed PDF."""
    found: bool = False
    record: dict[str, str] = {}
    error: str = ""

    def _contract_id(self) -> int:
        return _digits(self.router.page.params.get("contract_id", ""))

    @rx.event
    def load_record(self):
        self.error, self.record, self.found = "", {}, False
        if self._require_staff("contract_records") is None:
            return self._denied()
        lang = self.ui_lang
        with db.session_scope() as session:
            try:
                r = staff_contracts.record(session, self._contract_id(), lang)
            except LookupError:
                return None
            country = isp_settings.get(session, "country")
            issued = i18n.format_day(r.issued_on, lang, country)
        self.record = {
            "id": str(r.contract_id), "account_id": str(r.account_id),
            "account": f"{r.account_name} ({r.account_number})",
            "contract": f"{r.template_name} (v{r.version})", "issued": issued,
            "status": r.status, "status_text": self._(STATUS_WORDS[r.status]),
            "typed_name": r.typed_name, "username": r.username, "signed_utc": r.signed_utc,
            "signed_local": r.signed_local, "ip": r.ip or "—", "user_agent": r.user_agent or "—",
            "language": i18n.LANGUAGE_NAMES.get(r.language, r.language),
            "consent_version": r.consent_version, "consent_text": r.consent_text,
            "text_sha256": r.text_sha256, "signature_png_sha256": r.signature_png_sha256,
            "pdf_sha256": r.pdf_sha256, "log_seq": str(r.log_seq or "—"),
        }
        self.found = True
        return None

    @rx.event
    def download_signed(self):
        current = self._require_staff("contract_records")
        if current is None:
            return self._denied()
        self.error = ""
        with db.session_scope() as session:
            try:
                filename, content = staff_contracts.signed_pdf(
                    session, current, self._contract_id(), self.client_ip)
            except StaffActionError as problem:  # audited: the transaction still commits
                self.error = self._(problem.msgid, **problem.values)
                return None
            except LookupError:
                self.error = self._("Not found.")
                return None
        return rx.download(data=content, filename=filename, mime_type="application/pdf")
