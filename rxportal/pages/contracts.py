"""Contracts (guide: "The Contracts Page", items 1-4, and "Signing a Contract")."""
import reflex as rx

from rxportal.components.forms import field, form_message, portal_form
from rxportal.components.i18n import t
from rxportal.components.layout import DESKTOP, PHONE, page_title, template, until_loaded
from rxportal.components.signature_pad import clear_script, signature_pad
from rxportal.services.contracts import CONSENT_TEXT
from rxportal.state.contracts import PAD_ID, READ_FORM, ContractsState, SignState
from rxportal.state.session import SessionState


VISUALLY_HIDDEN = {"position": "absolute", "width": "1px", "height": "1px", "overflow": "hidden",
                   "clip": "rect(0 0 0 0)", "whiteSpace": "nowrap"}


def by_lang(en: rx.Var, fr: rx.Var) -> rx.Var:
    return rx.cond(SessionState.ui_lang == "fr", fr, en)


def status_badge(status: rx.Var) -> rx.Component:
    return rx.cond(
        status == "signed",
        rx.badge(rx.icon("circle-check", size=14, aria_hidden="true"), t("Signed"),
                 color_scheme="green", size="2", high_contrast=True),
        rx.badge(rx.icon("pen-line", size=14, aria_hidden="true"), t("Pending Signature"),
                 color_scheme="amber", size="2", high_contrast=True),
    )


def action(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["status"] == "signed",
        rx.button(rx.icon("download", size=16, aria_hidden="true"), t("Download"),
                  on_click=ContractsState.download(row["id"]), variant="soft", size="2"),
        # "Sign Contract" opens the signing page in a new tab, as the guide describes.
        rx.button(
            rx.el.a(
                rx.icon("signature", size=16, aria_hidden="true"), t("Sign Contract"),
                rx.el.span(" (", t("opens in a new tab"), ")", style=VISUALLY_HIDDEN),
                href=row["sign_url"], target="_blank", rel="noopener",
            ),
            as_child=True, size="2",
        ),
    )


def table_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(by_lang(row["name_en"], row["name_fr"])),
        rx.table.cell(by_lang(row["issued_en"], row["issued_fr"])),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(action(row)),
        align="center",
    )


def contracts_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell(t("Contract Name")),
                rx.table.column_header_cell(t("Issue Date")),
                rx.table.column_header_cell(t("Status")),
                rx.table.column_header_cell(t("Action")),
            )),
            rx.table.body(rx.foreach(ContractsState.contract_rows, table_row)),
            variant="surface", class_name="w-full",
        ),
        class_name="table-scroll", display=DESKTOP,
    )


def contract_card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(by_lang(row["name_en"], row["name_fr"]), as_="h2", size="4"),
            rx.text(t("Issued on {date}", date=by_lang(row["issued_en"], row["issued_fr"])),
                    size="2", color_scheme="gray"),
            status_badge(row["status"]),
            action(row),
            spacing="2", align="start",
        ),
        class_name="w-full",
    )


def contracts_cards() -> rx.Component:
    return rx.vstack(rx.foreach(ContractsState.contract_rows, contract_card),
                     display=PHONE, class_name="w-full", spacing="3")


@template(route="/contracts", title="Contracts", load=ContractsState.load_contracts)
def contracts_page() -> rx.Component:
    return rx.vstack(
        page_title(t("Contracts")),
        until_loaded(ContractsState.loaded, rx.cond(
            ContractsState.contracts_enabled,
            rx.vstack(
                rx.text(t("Every contract on your account. Sign the ones pending signature, "
                          "and download a copy of the ones you signed."), color_scheme="gray"),
                form_message(ContractsState.contracts_error),
                rx.cond(
                    ContractsState.contract_rows.length() > 0,
                    rx.fragment(contracts_table(), contracts_cards()),
                    rx.text(t("There are no contracts on your account.")),
                ),
                spacing="3", class_name="w-full",
            ),
            rx.callout(t("Contracts are not available in this portal."), color_scheme="gray"),
        ), cards=2),
        class_name="w-full",
    )


# --- signing ------------------------------------------------------------------------------


def contract_text() -> rx.Component:
    return rx.box(
        rx.text(by_lang(SignState.sign_text_en, SignState.sign_text_fr),
                white_space="pre-wrap", size="3"),
        role="region", aria_label=t("Contract text"), tab_index=0,
        padding="16px", border="1px solid var(--gray-6)", border_radius="8px",
        background="var(--gray-1)", max_height="55vh", overflow_y="auto", class_name="w-full",
        id="contract-text",
    )


def consent_box() -> rx.Component:
    return rx.box(
        rx.el.label(
            rx.el.input(type="checkbox", name="consent", id="consent",
                        aria_describedby="consent-error",
                        style={"width": "20px", "height": "20px", "flexShrink": "0",
                               "marginTop": "2px"}),
            rx.text(t(CONSENT_TEXT), size="3"),
            html_for="consent",
            style={"display": "flex", "gap": "10px", "alignItems": "flex-start"},
        ),
        rx.text(SignState.consent_error, id="consent-error", color_scheme="red", size="2",
                role="alert"),
        class_name="w-full",
    )


def pad_box() -> rx.Component:
    return rx.vstack(
        rx.el.span(t("Draw your signature"), id="signature-label",
                   style={"fontWeight": "500"}),
        rx.text(t("Use your mouse, finger or stylus in the box below."), size="1",
                color_scheme="gray"),
        signature_pad(PAD_ID, t("Signature pad: draw your signature here")),
        rx.text(SignState.signature_error, id="signature-error", color_scheme="red", size="2",
                role="alert"),
        rx.button(rx.icon("eraser", size=16, aria_hidden="true"), t("Clear"), type="button",
                  variant="soft", color_scheme="gray",
                  on_click=rx.call_script(clear_script(PAD_ID))),
        spacing="2", class_name="w-full", align="start",
    )


def sign_form() -> rx.Component:
    return portal_form(
        rx.vstack(
            rx.heading(t("Sign this contract"), as_="h2", size="5"),
            consent_box(),
            field(t("Your full name"), "typed_name", autocomplete="name",
                  error=SignState.name_error),
            pad_box(),
            field(t("Your password"), "password", type="password",
                  autocomplete="current-password", error=SignState.password_error,
                  hint=t("To confirm it is you, enter the password you log in with.")),
            form_message(SignState.form_error),
            rx.button(rx.icon("signature", size=18, aria_hidden="true"), t("Sign"),
                      type="submit", size="3", loading=SignState.sign_busy,
                      disabled=SignState.sign_busy),
            spacing="4", class_name="w-full", align="start",
        ),
        on_submit=rx.call_script(READ_FORM, callback=SignState.sign_with),
        key="sign-" + SignState.sign_form_key.to_string(),
        class_name="w-full",
    )


def signed_box() -> rx.Component:
    return rx.vstack(
        rx.callout(
            t("Signed on {date}", date=by_lang(SignState.sign_signed_at_en,
                                                 SignState.sign_signed_at_fr)),
            icon="circle-check", color_scheme="green", high_contrast=True, class_name="w-full",
            role="status",
        ),
        form_message(SignState.form_error),
        rx.button(rx.icon("download", size=16, aria_hidden="true"), t("Download"),
                  on_click=SignState.download_signed, size="3"),
        spacing="3", class_name="w-full", align="start",
    )


def sign_content() -> rx.Component:
    return rx.vstack(
        rx.heading(by_lang(SignState.sign_name_en, SignState.sign_name_fr), as_="h1", size="7"),
        rx.hstack(
            rx.text(t("Issued on {date}", date=by_lang(SignState.sign_issued_en,
                                                        SignState.sign_issued_fr)),
                    color_scheme="gray"),
            rx.cond(SignState.sign_status != "", rx.box(
                status_badge(SignState.sign_status),
                id="contract-status")),
            spacing="3", align="center", wrap="wrap",
        ),
        rx.cond(SignState.sign_notice != "",
                rx.callout(SignState.sign_notice, color_scheme="green", high_contrast=True,
                           role="status", class_name="w-full")),
        contract_text(),
        rx.cond(SignState.sign_status == "signed", signed_box(), sign_form()),
        spacing="4", class_name="w-full", max_width="760px",
    )


@template(route="/contracts/[id]/sign", title="Sign Contract", load=SignState.load_sign)
def sign_page() -> rx.Component:
    return rx.cond(
        SignState.sign_found,
        rx.cond(SignState.sign_loaded, sign_content(),
                rx.center(rx.spinner(size="3"), padding="40px")),
        rx.vstack(
            page_title(t("Sign Contract")),
            rx.callout(t("This contract was not found."), color_scheme="red", role="alert",
                       class_name="w-full"),
            rx.link(t("Back to your contracts"), href="/contracts"),
            spacing="3", class_name="w-full",
        ),
    )
