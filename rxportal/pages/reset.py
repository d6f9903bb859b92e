"""Choosing a new password from an e-mailed link, and after logging in with a temporary one."""
import reflex as rx

from rxportal.components.forms import form_message, password_fields, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.components.layout import public_template
from rxportal.state.auth import ConfirmEmailState, FirstPasswordState, ResetState


@public_template(route="/reset/[token]", title="Choose a new password",
                 on_load=[ResetState.load_reset])
def reset_page() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Choose a new password"), as_="h1", size="6"),
            form_message(ResetState.error),
            form_message(ResetState.notice, kind="green"),
            rx.cond(
                ResetState.token_valid & ~ResetState.done,
                portal_form(
                    rx.vstack(password_fields(ResetState.field_errors, current=False),
                              submit_button(t("Change Password"), ResetState.busy, class_name="w-full"),
                              spacing="3", class_name="w-full"),
                    on_submit=ResetState.reset_password,
                ),
                rx.cond(ResetState.done, rx.fragment(),
                        rx.callout(t("This link has expired or was already used. Ask for a new one."),
                                   color_scheme="amber", role="alert")),
            ),
            rx.link(t("Back to log in"), href="/"),
            spacing="3", class_name="w-full",
        ),
        size="3", class_name="w-full",
    )


@public_template(route="/set-password", title="Choose your password",
                 on_load=[FirstPasswordState.load_first_password])
def first_password_page() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Choose your password"), as_="h1", size="6"),
                rx.text(t("You logged in with a temporary password. Choose your own password "
                          "to continue."), size="2"),
                form_message(FirstPasswordState.error),
                password_fields(FirstPasswordState.field_errors, current=False),
                submit_button(t("Save password"), FirstPasswordState.busy, class_name="w-full"),
                spacing="3", class_name="w-full",
            ),
            on_submit=FirstPasswordState.set_first_password,
        ),
        size="3", class_name="w-full",
    )


@public_template(route="/confirm-email/[token]", title="Confirm e-mail address",
                 on_load=[ConfirmEmailState.load_confirm])
def confirm_email_page() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Confirm e-mail address"), as_="h1", size="6"),
            form_message(ConfirmEmailState.error),
            form_message(ConfirmEmailState.notice, kind="green"),
            rx.link(t("Continue"), href="/details"),
            spacing="3", class_name="w-full",
        ),
        size="3", class_name="w-full",
    )
