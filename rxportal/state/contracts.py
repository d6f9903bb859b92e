"""Contracts page and the signing page. Every handler re-checks the session and asks the service
for the session's account only: another account's contract is "not found"."""
from __future__ import annotations

import reflex as rx

from rxportal import db
from rxportal.components.signature_pad import read_script
from rxportal.services import contracts, i18n
from rxportal.services import settings as isp_settings
from rxportal.state.session import SessionState, page_load

PAD_ID = "signature_pad"
# Sign reads these inputs (by id) and the pad in the browser, in one round trip.
READ_FORM = read_script(PAD_ID, fields=("typed_name", "password"), checkboxes=("consent",))
LANGS = ("en", "fr")


def _enabled(session) -> bool:
    return bool(isp_settings.get(session, "page_contracts"))


def _download(state: SessionState, contract_id) -> rx.event.EventSpec | str:
    """The stored PDF for the session's account, or an error message (already translated)."""
    user = state.require_user()
    if user is None:
        return state._to_login()
    try:
        with db.session_scope() as session:
            if not _enabled(session):
                return state._(contracts.NOT_FOUND)
            filename, content = contracts.signed_pdf(session, user.account_id, contract_id)
    except contracts.ContractError as problem:
        return state._(problem.msgid)
    return rx.download(data=content, filename=filename, mime_type="application/pdf")


class ContractsState(SessionState):
    # Each row carries its name and issue date in every language; the page picks by ui_lang.
    contract_rows: list[dict[str, str]] = []
    contracts_enabled: bool = True
    loaded: bool = False  # until the first load, the page shows placeholders
    contracts_error: str = ""

    @rx.event
    @page_load()
    def load_contracts(self, user):
        self.contracts_error = ""
        with db.session_scope() as session:
            self.contracts_enabled = _enabled(session)
            if not self.contracts_enabled:
                self.contract_rows = []
                self.loaded = True
                return
            country = isp_settings.get(session, "country")
            rows = {lang: contracts.list_for_account(session, user.account_id, lang)
                    for lang in LANGS}
        self.contract_rows = [
            {"id": str(en.id), "status": en.status,
             "name_en": en.name, "name_fr": fr.name,
             "issued_en": i18n.format_day(en.issued_on, "en", country),
             "issued_fr": i18n.format_day(en.issued_on, "fr", country),
             "sign_url": f"/contracts/{en.id}/sign"}
            for en, fr in zip(rows["en"], rows["fr"])
        ]
        self.loaded = True

    @rx.event
    def download(self, contract_id: str):
        self.contracts_error = ""
        result = _download(self, contract_id)
        if isinstance(result, str):
            self.contracts_error = result
            return
        return result


class SignState(SessionState):
    sign_found: bool = True
    sign_loaded: bool = False
    sign_contract_id: int = 0
    sign_status: str = ""
    sign_name_en: str = ""
    sign_name_fr: str = ""
    sign_issued_en: str = ""
    sign_issued_fr: str = ""
    # The filled text in each language (a signed contract: the signed text, in one language).
    sign_text_en: str = ""
    sign_text_fr: str = ""
    sign_signed_at_en: str = ""
    sign_signed_at_fr: str = ""
    sign_errors: dict[str, str] = {}
    sign_notice: str = ""
    sign_busy: bool = False
    sign_form_key: int = 0
    _sign_hashes: dict[str, str] = {}

    @rx.var
    def consent_error(self) -> str:
        return self.sign_errors.get("consent", "")

    @rx.var
    def name_error(self) -> str:
        return self.sign_errors.get("name", "")

    @rx.var
    def signature_error(self) -> str:
        return self.sign_errors.get("signature", "")

    @rx.var
    def password_error(self) -> str:
        return self.sign_errors.get("password", "")

    @rx.var
    def form_error(self) -> str:
        return self.sign_errors.get("", "")

    def _param_id(self) -> str:
        return str(self.router.page.params.get("id", "") or "")

    def _load(self, session, account_id: int, contract_id) -> None:
        country = isp_settings.get(session, "country")
        views = {lang: contracts.view(session, account_id, contract_id, lang) for lang in LANGS}
        en, fr = views["en"], views["fr"]
        self.sign_found = True
        self.sign_contract_id = en.id
        self.sign_status = en.status
        self.sign_name_en, self.sign_name_fr = en.name, fr.name
        self.sign_issued_en = i18n.format_day(en.issued_on, "en", country)
        self.sign_issued_fr = i18n.format_day(en.issued_on, "fr", country)
        self.sign_text_en, self.sign_text_fr = en.text, fr.text
        self._sign_hashes = {"en": en.text_sha256, "fr": fr.text_sha256}
        self.sign_signed_at_en = self.sign_signed_at_fr = ""
        if en.status == "signed":
            row = next(r for r in contracts.list_for_account(session, account_id, "en")
                       if r.id == en.id)
            tz = isp_settings.get(session, "timezone") or "UTC"
            self.sign_signed_at_en = i18n.format_moment(row.signed_at, "en", country, tz)
            self.sign_signed_at_fr = i18n.format_moment(row.signed_at, "fr", country, tz)

    def _not_found(self) -> None:
        self.sign_found = False
        self.sign_contract_id = 0
        self.sign_text_en = self.sign_text_fr = ""
        self._sign_hashes = {}

    @rx.event
    @page_load()
    def load_sign(self, user):
        self.sign_errors, self.sign_notice = {}, ""
        self.sign_busy = False
        self.sign_loaded = False
        try:
            with db.session_scope() as session:
                if not _enabled(session):
                    raise contracts.ContractError(contracts.NOT_FOUND)
                self._load(session, user.account_id, self._param_id())
        except contracts.ContractError:
            self._not_found()
        self.sign_loaded = True

    @rx.event
    def clear_errors(self):
        self.sign_errors = {}

    @rx.event
    def sign_with(self, read: dict):
        """Sign pressed: the browser read the form and the pad in one go (rx.call_script), so
        the password is never kept in the state. A double click: the second press arrives
        after the first was handled, and finds the contract signed here: it is ignored."""
        if self.sign_busy or self.sign_status == "signed":
            return
        self.sign_busy = True
        self.sign_errors, self.sign_notice = {}, ""
        yield
        try:
            yield from self._finish(read if isinstance(read, dict) else {})
        finally:
            self.sign_busy = False

    def _finish(self, read: dict):
        user = self.require_user()
        if user is None:
            yield self._to_login()
            return
        lang = self.ui_lang
        data_url = "" if read.get("empty") else str(read.get("data") or "")
        try:
            with db.session_scope() as session:
                if not _enabled(session):
                    raise contracts.ContractError(contracts.NOT_FOUND)
                signed = contracts.sign(
                    session, account_id=user.account_id, user_id=user.user_id,
                    contract_id=self.sign_contract_id, lang=lang,
                    typed_name=str(read.get("typed_name") or "")[:10_000],
                    consent=read.get("consent") is True,
                    consent_version=contracts.CONSENT_VERSION,
                    password=str(read.get("password") or "")[:10_000],
                    signature_data_url=data_url,
                    shown_text_sha256=self._sign_hashes.get(lang, ""),
                    ip=self.client_ip, user_agent=self.user_agent)
        except contracts.ContractError as problem:
            self.sign_errors = {problem.field: self._(problem.msgid)}
            if problem.msgid in (contracts.ALREADY_SIGNED, contracts.NOT_FOUND):
                self._reload_after_refusal(user)
            return
        with db.session_scope() as session:
            self._load(session, user.account_id, self.sign_contract_id)
        self.sign_form_key += 1
        self.sign_notice = self._(
            "Thank you. The contract is signed and a copy was sent to you by e-mail."
        ) if signed.emailed else self._("Thank you. The contract is signed.")

    def _reload_after_refusal(self, user) -> None:
        try:
            with db.session_scope() as session:
                self._load(session, user.account_id, self.sign_contract_id)
        except contracts.ContractError:
            self._not_found()

    @rx.event
    def download_signed(self):
        self.sign_errors = {}
        result = _download(self, self.sign_contract_id)
        if isinstance(result, str):
            self.sign_errors = {"": result}
            return
        return result
