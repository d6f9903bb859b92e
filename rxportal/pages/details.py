"""My Details (guide: "My Details" page, items 1-7)."""
import reflex as rx

from rxportal.components.forms import (field, form_message, language_select, password_fields,
                                       portal_form, submit_button)
from rxportal.components.i18n import t
from rxportal.components.layout import page_title, template
from rxportal.state.details import DetailsState


def phone_row(row: rx.Var, index: rx.Var) -> rx.Component:
    number_id = "phone_number_" + index.to_string()
    label_id = "phone_label_" + index.to_string()
    error = DetailsState.errors.get("phone_" + index.to_string(), "")
    return rx.hstack(
        rx.box(field(t("Phone number"), number_id, type="tel", value=row["number"],
                     autocomplete="tel", error=error), flex="2", min_width="0"),
        rx.box(field(t("Label (optional)"), label_id, value=row["label"]), flex="1",
               min_width="0"),
        rx.icon_button(rx.icon("trash-2", size=16), type="button", variant="soft",
                       color_scheme="red", aria_label=t("Remove phone number"),
                       on_click=DetailsState.remove_phone(row["key"]), margin_top="28px"),
        key=row["key"], class_name="w-full", align="start", spacing="2",
    )


def details_form() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Profile"), as_="h2", size="5"),
                form_message(DetailsState.details_notice, kind="green"),
                field(t("Name"), "name", value=DetailsState.name, autocomplete="name",
                      error=DetailsState.errors.get("name", "")),
                field(t("E-mail address"), "email", type="email", value=DetailsState.email,
                      autocomplete="email", error=DetailsState.errors.get("email", ""),
                      hint=t("Used for billing alerts, service notifications, password resets "
                             "and copies of your support tickets.")),
                rx.heading(t("Phone numbers"), as_="h3", size="3"),
                rx.foreach(DetailsState.phones, phone_row),
                rx.text(DetailsState.errors.get("phones", ""), color_scheme="red", size="2", role="alert"),
                rx.button(rx.icon("plus", size=16), t("Add a phone number"), type="button",
                          variant="soft", on_click=DetailsState.add_phone),
                rx.el.label(
                    rx.el.input(type="checkbox", name="usage_alerts", id="usage_alerts",
                                default_checked=DetailsState.usage_alerts,
                                style={"width": "18px", "height": "18px"}),
                    t("E-mail me when my data usage reaches 80% and 100% of my cap"),
                    html_for="usage_alerts",
                    style={"display": "flex", "gap": "8px", "alignItems": "center"},
                ),
                rx.text(t("To transfer your account to someone else, please contact us."),
                        size="2", color_scheme="gray"),
                submit_button(t("Update Details"), DetailsState.busy),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=DetailsState.save_details,
            key=DetailsState.form_version.to_string(),
        ),
        class_name="w-full",
    )


def password_form() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Change password"), as_="h2", size="5"),
                form_message(DetailsState.password_notice, kind="green"),
                form_message(DetailsState.password_errors.get("", "")),
                password_fields(DetailsState.password_errors),
                submit_button(t("Change Password"), DetailsState.busy),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=DetailsState.change_password,
            key="pw-" + DetailsState.form_version.to_string(),
        ),
        class_name="w-full",
    )


@template(route="/details", title="My Details", load=DetailsState.load_details)
def details_page() -> rx.Component:
    return rx.vstack(
        page_title(t("My Details")),
        details_form(),
        password_form(),
        rx.card(rx.vstack(rx.heading(t("Language"), as_="h2", size="5"),
                          language_select("details-language"), spacing="3"), class_name="w-full"),
        spacing="4", class_name="w-full",
    )
