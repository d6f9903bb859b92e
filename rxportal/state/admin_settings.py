"""Settings pages (administrators only): branding and logo, regional, customer pages, billing,
passwords, mail (with the test buttons) and payment keys (write-only)."""
from __future__ import annotations

import reflex as rx

from rxportal import db
from rxportal.services import branding, staff_mail, staff_settings
from rxportal.state.admin import StaffState

AREA = "settings"


class AdminSettingsState(StaffState):
    values: dict[str, str] = {}
    masked: dict[str, str] = {}
    errors: dict[str, str] = {}
    notices: dict[str, str] = {}
    form_version: int = 0
    busy: bool = False
    logo_src: str = ""
    logo_error: str = ""
    logo_notice: str = ""
    test_result: str = ""
    test_error: str = ""
    mailbox_result: str = ""
    mailbox_error: str = ""

    def _refresh(self, session) -> None:
        values: dict[str, str] = {}
        masked: dict[str, str] = {}
        for section in staff_settings.SECTIONS:
            values.update(staff_settings.section_values(session, section))
            masked.update(staff_settings.masked_values(session, section))
        self.values, self.masked = values, masked
        self.logo_src = branding.logo_data_uri(session)
        self.form_version += 1

    @rx.event
    def load_settings(self):
        self.errors, self.notices = {}, {}
        self.busy = False
        self.logo_error = self.logo_notice = ""
        self.test_result = self.test_error = self.mailbox_result = self.mailbox_error = ""
        if self._require_staff(AREA) is None:
            return self._denied()
        with db.session_scope() as session:
            self._refresh(session)

    def _save(self, section: str, form: dict, clear: tuple[str, ...] = ()):
        current = self._require_staff(AREA)
        if current is None:
            return self._denied()
        if self._is_repeat(f"settings:{section}", {**form, "clear": list(clear)}, 2.0):
            return None
        values = {}
        for key in staff_settings.SECTIONS[section]:
            if staff_settings.FIELDS[key].kind == "bool":
                values[key] = form.get(key) in ("on", "true", True)
            elif key in form:
                values[key] = form[key]
        with db.session_scope() as session:
            errors = staff_settings.save(session, section, values, actor_id=current.staff_id,
                                         actor_name=current.username, ip=self.client_ip,
                                         clear=clear, lang=self.ui_lang)
        self.errors = errors
        self.notices = {} if errors else {section: self._("Saved. The change applies at once.")}
        if not errors:
            with db.session_scope() as session:
                self._refresh(session)
        return None

    @rx.event
    def save_branding(self, form: dict):
        return self._save("branding", form)

    @rx.event
    def save_regional(self, form: dict):
        return self._save("regional", form)

    @rx.event
    def save_pages(self, form: dict):
        return self._save("pages", form)

    @rx.event
    def save_billing(self, form: dict):
        return self._save("billing", form)

    @rx.event
    def save_passwords(self, form: dict):
        return self._save("passwords", form)

    @rx.event
    def save_tickets(self, form: dict):
        return self._save("tickets", form)

    @rx.event
    def save_mail(self, form: dict):
        return self._save("mail", form)

    @rx.event
    def save_payments(self, form: dict):
        return self._save("payments", form)

    @rx.event
    def clear_secret(self, key: str):
        for section, keys in staff_settings.SECTIONS.items():
            if key in keys and staff_settings.FIELDS[key].kind == "secret":
                return self._save(section, {}, clear=(key,))
        return None

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        self.logo_error = self.logo_notice = ""
        current = self._require_staff(AREA)
        if current is None:
            return self._denied()
        if not files:
            self.logo_error = self._("Choose an image file to upload.")
            return None
        # Read one byte more than allowed: a bigger file is refused without reading it all.
        data = await files[0].read(branding.MAX_UPLOAD_BYTES + 1)
        try:
            with db.session_scope() as session:
                branding.save_logo(session, data, actor_id=current.staff_id,
                                   actor_name=current.username, ip=self.client_ip)
        except branding.UploadRefused as refused:
            self.logo_error = self._(refused.msgid, **refused.values)
            return rx.clear_selected_files("logo-upload")
        with db.session_scope() as session:
            self._refresh(session)
        self.logo_notice = self._("The new logo is saved. The login page shows it now.")
        return rx.clear_selected_files("logo-upload")

    @rx.event
    def remove_logo(self):
        current = self._require_staff(AREA)
        if current is None:
            return self._denied()
        with db.session_scope() as session:
            branding.remove_logo(session, actor_id=current.staff_id, actor_name=current.username,
                                 ip=self.client_ip)
            self._refresh(session)
        self.logo_notice = self._("The logo was removed.")
        return None

    @rx.event
    def send_test_mail(self, form: dict):
        if self.busy:
            return
        self.test_result = self.test_error = ""
        current = self._require_staff(AREA)
        if current is None:
            yield self._denied()
            return
        self.busy = True
        yield
        try:
            with db.session_scope() as session:
                staff_mail.send_test_mail(session, form.get("test_to", ""))
            self.test_result = self._("The test message was sent to {address}.",
                                      address=form.get("test_to", "").strip())
        except staff_mail.MailCheckFailed as failed:
            self.test_error = self._(failed.msgid, **failed.values) + (
                f" ({failed.detail})" if failed.detail else "")
        self.busy = False

    @rx.event
    def check_mailbox(self):
        if self.busy:
            return
        self.mailbox_result = self.mailbox_error = ""
        current = self._require_staff(AREA)
        if current is None:
            yield self._denied()
            return
        self.busy = True
        yield
        try:
            with db.session_scope() as session:
                report = staff_mail.check_mailbox(session)
            self.mailbox_result = self._(
                "Connected. The folder {folder} holds {messages} messages, {unseen} unread.",
                folder=report.folder, messages=report.messages, unseen=report.unseen)
        except staff_mail.MailCheckFailed as failed:
            self.mailbox_error = self._(failed.msgid, **failed.values) + (
                f" ({failed.detail})" if failed.detail else "")
        self.busy = False
