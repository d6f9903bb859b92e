"""Forgotten password or username: both recovered through the e-mail address on file."""
import reflex as rx

from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.components.layout import public_template
from rxportal.state.auth import AuthFormState


def recovery_form(heading: rx.Var, text: rx.Var, button: rx.Var, handler, field_id: str):
    return portal_form(
        rx.vstack(
            rx.heading(heading, as_="h2", size="4"),
            rx.text(text, size="2"),
            field(t("E-mail address"), "email", type="email", autocomplete="email", input_id=field_id),
            submit_button(button, AuthFormState.busy, class_name="w-full"),
            spacing="3", class_name="w-full",
        ),
        on_submit=handler,
    )


@public_template(route="/recover", title="Account recovery", on_load=[AuthFormState.load_form])
def recover_page() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Account recovery"), as_="h1", size="6"),
            form_message(AuthFormState.error),
            form_message(AuthFormState.notice, kind="green"),
            recovery_form(t("Forgot your password?"),
                          t("We will e-mail you a link to choose a new password."),
                          t("Send reset link"), AuthFormState.request_reset, "reset-email"),
            rx.divider(),
            recovery_form(t("Forgot your username?"),
                          t("We will e-mail you the username linked to your address."),
                          t("Send my username"), AuthFormState.remind_username, "username-email"),
            rx.text(t("If your e-mail address is not on file, please contact your Internet "
                      "service provider."), size="2", color_scheme="gray"),
            rx.link(t("Back to log in"), href="/"),
            spacing="4", class_name="w-full",
        ),
        size="3", class_name="w-full",
    )
