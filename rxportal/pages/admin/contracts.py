"""Contracts: templates and issuing (administrators), signature records and signed PDFs (all
staff, read-only for support)."""
import reflex as rx

from rxportal.components.admin_layout import admin_template, admin_title, data_table
from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.pages.admin.customers import pager
from rxportal.services.contracts import PLACEHOLDERS
from rxportal.state.admin import StaffState
from rxportal.state.admin_contracts import AdminContractRecordState as R
from rxportal.state.admin_contracts import AdminContractsState as C
from rxportal.state.admin_contracts import AdminTemplateState as T

LABEL = {"display": "block", "fontWeight": "500", "marginBottom": "4px"}
SELECT = {"padding": "8px", "borderRadius": "6px", "maxWidth": "100%",
          "border": "1px solid var(--gray-7)", "background": "var(--color-background)",
          "color": "var(--gray-12)"}
PLACEHOLDER_LIST = ", ".join("$" + p for p in PLACEHOLDERS)


def labelled_select(label: rx.Var, name: str, options: list, error: rx.Var | str = "",
                    **props) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=name, style=LABEL),
        rx.el.select(*options, id=name, name=name, style=SELECT, **props),
        rx.text(error, color_scheme="red", size="2", role="alert"),
        min_width="0",
    )


def templates_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(t("Templates"), as_="h2", size="4"),
                rx.box(class_name="spacer"),
                rx.link(rx.button(t("New template"), variant="soft", tab_index=-1),
                        href="/admin/contracts/new-template", id="new-template"),
                class_name="w-full", align="center", wrap="wrap",
            ),
            data_table(t("Templates"), [t("Contract"), t("Code"), t("Version"), t("Issued"),
                                        t("Signed")], C.templates,
                       lambda r: [rx.link(r["name"], href="/admin/contracts/template/" + r["code"]),
                                  rx.code(r["code"]), r["version"], r["issued"], r["signed"]]),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def issue_card() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Issue a contract"), as_="h2", size="4"),
                form_message(C.notice, kind="green"),
                labelled_select(t("Contract"), "template",
                                [rx.foreach(C.template_options,
                                            lambda o: rx.el.option(o["label"], value=o["id"]))],
                                C.errors.get("template", "")),
                rx.box(
                    rx.el.label(t("Account numbers"), html_for="accounts", style=LABEL),
                    rx.text_area(id="accounts", name="accounts", rows="3", class_name="w-full"),
                    rx.text(t("Separated by commas, spaces or new lines. Accounts that already "
                              "have this version are skipped."), size="1", color_scheme="gray"),
                    rx.text(C.errors.get("accounts", ""), color_scheme="red", size="2",
                            role="alert", id="accounts-error"),
                    class_name="w-full",
                ),
                rx.el.label(rx.el.input(type="checkbox", name="all_active", id="all_active",
                                        style={"width": "18px", "height": "18px"}),
                            t("Issue to every active account instead"), html_for="all_active",
                            style={"display": "flex", "gap": "8px", "alignItems": "center"}),
                submit_button(t("Issue contract"), C.busy, id="issue-template"),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=C.issue_template, reset_on_submit=False,
            key="issue-" + C.form_version.to_string(),
        ),
        class_name="w-full",
    )


def record_cells(r: rx.Var) -> list:
    return [rx.link(r["contract"], href="/admin/contracts/record/" + r["id"]),
            r["account"], r["number"], r["issued"],
            rx.badge(r["status_text"], color_scheme=rx.cond(r["status"] == "signed", "green",
                                                            "amber"), high_contrast=True),
            r["signed"]]


def records_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Signature records"), as_="h2", size="4"),
            portal_form(
                rx.flex(
                    labelled_select(t("Status"), "status",
                                    [rx.el.option(t("All"), value=""),
                                     rx.el.option(t("Pending signature"), value="pending"),
                                     rx.el.option(t("Signed"), value="signed")]),
                    rx.box(field(t("Template code"), "code"), min_width="150px"),
                    submit_button(t("Filter"), margin_top="28px", id="filter-records"),
                    wrap="wrap", spacing="3", class_name="w-full", align="start",
                ),
                on_submit=C.filter_records, reset_on_submit=False,
            ),
            rx.text(t("{count} contracts", count=C.total), size="2", id="record-count"),
            data_table(t("Signature records"), [t("Contract"), t("Account"), t("Number"),
                                                t("Issued"), t("Status"), t("Signed")],
                       C.rows, record_cells),
            pager(C),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


@admin_template(route="/admin/contracts", title="Contracts", area="contract_records",
                on_load=[C.load_contracts])
def contracts_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Contracts")),
        rx.cond(StaffState.is_admin, rx.vstack(templates_card(), issue_card(), spacing="4",
                                               class_name="w-full")),
        records_card(),
        spacing="4", class_name="w-full",
    )


def body_field(label: rx.Var, name: str) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=name, style=LABEL),
        rx.text_area(id=name, name=name, default_value=T.template[name], rows="14",
                     class_name="w-full", aria_describedby=f"{name}-error"),
        rx.text(T.errors.get(name, ""), id=f"{name}-error", color_scheme="red", size="2",
                role="alert"),
        class_name="w-full",
    )


def template_form() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                form_message(T.errors.get("form", "")),
                form_message(T.notice, kind="green"),
                rx.cond(T.is_new,
                        field(t("Code"), "code", value=T.template["code"],
                              error=T.errors.get("code", ""),
                              hint=t("Groups the versions, such as terms or privacy: lowercase "
                                     "letters, digits, - or _.")),
                        rx.text(t("Code: {code} · latest version {version}",
                                  code=T.template["code"], version=T.template["version"]),
                                size="2", id="template-version")),
                rx.flex(
                    rx.box(field(t("Name in English"), "name_en", value=T.template["name_en"],
                                 error=T.errors.get("name_en", "")), flex="1", min_width="220px"),
                    rx.box(field(t("Name in French"), "name_fr", value=T.template["name_fr"],
                                 error=T.errors.get("name_fr", "")), flex="1", min_width="220px"),
                    spacing="3", wrap="wrap", class_name="w-full",
                ),
                body_field(t("Text in English"), "body_en"),
                body_field(t("Text in French"), "body_fr"),
                rx.text(t("Placeholders: {placeholders}. Write $$ for a dollar sign before a "
                          "word.", placeholders=PLACEHOLDER_LIST), size="1", color_scheme="gray"),
                rx.cond(T.is_new, rx.fragment(),
                        rx.callout(t("Saving makes a new version. Contracts already issued keep "
                                     "the version they were issued with."),
                                   color_scheme="blue", class_name="w-full")),
                submit_button(rx.cond(T.is_new, t("Create template"), t("Save as a new version")),
                              T.busy, id="save-template"),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=T.save_template, reset_on_submit=False,
            key="template-" + T.form_version.to_string(),
        ),
        class_name="w-full",
    )


def versions_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Versions"), as_="h2", size="4"),
            data_table(t("Versions"), [t("Version"), t("Name"), t("Created")], T.versions,
                       lambda v: [v["version"], v["name"], v["created"]]),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def template_view() -> rx.Component:
    return rx.vstack(
        rx.link(t("Back to contracts"), href="/admin/contracts"),
        rx.cond(T.found,
                rx.vstack(template_form(),
                          rx.cond(T.is_new, rx.fragment(), versions_card()),
                          spacing="4", class_name="w-full"),
                rx.callout(t("Not found."), color_scheme="red", role="alert")),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/contracts/template/[template_code]", title="Edit template",
                area="contracts", on_load=[T.load_template])
def template_page() -> rx.Component:
    return rx.vstack(admin_title(t("Edit template")), template_view(), spacing="4", class_name="w-full")


@admin_template(route="/admin/contracts/new-template", title="New template", area="contracts",
                on_load=[T.load_template])
def new_template_page() -> rx.Component:
    return rx.vstack(admin_title(t("New template")), template_view(), spacing="4", class_name="w-full")


def record_line(label: rx.Var, key: str, code: bool = False) -> rx.Component:
    value = R.record[key]
    return rx.el.div(
        rx.el.dt(label, style={"fontWeight": "600"}),
        rx.el.dd(rx.code(value, size="2", style={"wordBreak": "break-all"}) if code else value,
                 id=f"record-{key}", style={"margin": "0 0 8px 0", "wordBreak": "break-word"}),
    )


def record_view() -> rx.Component:
    signed = R.record["status"] == "signed"
    return rx.vstack(
        rx.link(t("Back to contracts"), href="/admin/contracts"),
        form_message(R.error),
        rx.card(
            rx.vstack(
                rx.heading(R.record["contract"], as_="h2", size="4"),
                rx.el.dl(
                    record_line(t("Account"), "account"),
                    record_line(t("Issued"), "issued"),
                    record_line(t("Status"), "status_text"),
                ),
                rx.link(t("Open the account"), href="/admin/customers/" + R.record["account_id"]),
                spacing="2", class_name="w-full",
            ),
            class_name="w-full",
        ),
        rx.cond(
            signed,
            rx.card(
                rx.vstack(
                    rx.heading(t("Signature record"), as_="h2", size="4"),
                    rx.el.dl(
                        record_line(t("Typed name"), "typed_name"),
                        record_line(t("Portal login"), "username"),
                        record_line(t("Signed (UTC)"), "signed_utc"),
                        record_line(t("Signed (ISP time zone)"), "signed_local"),
                        record_line(t("IP address"), "ip", code=True),
                        record_line(t("Browser"), "user_agent"),
                        record_line(t("Language"), "language"),
                        record_line(t("Consent version"), "consent_version"),
                        record_line(t("Consent statement"), "consent_text"),
                        record_line(t("SHA-256 of the text"), "text_sha256", code=True),
                        record_line(t("SHA-256 of the drawn signature"), "signature_png_sha256",
                                    code=True),
                        record_line(t("SHA-256 of the signed PDF"), "pdf_sha256", code=True),
                        record_line(t("Signature log entry"), "log_seq"),
                        style={"margin": "0"},
                    ),
                    rx.button(rx.icon("download", size=16, aria_hidden="true"),
                              t("Download signed PDF"), on_click=R.download_signed,
                              id="download-signed"),
                    spacing="3", class_name="w-full", align="start",
                ),
                class_name="w-full",
            ),
            rx.callout(t("Not signed yet."), color_scheme="amber", class_name="w-full"),
        ),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/contracts/record/[contract_id]", title="Signature record",
                area="contract_records", on_load=[R.load_record])
def record_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Signature record")),
        rx.cond(R.found, record_view(),
                rx.vstack(rx.link(t("Back to contracts"), href="/admin/contracts"),
                          rx.callout(t("Not found."), color_scheme="red", role="alert"),
                          class_name="w-full")),
        spacing="4", class_name="w-full",
    )
