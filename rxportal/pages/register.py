"""First-time registration (guide: "First Time Registration")."""
import reflex as rx

from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.components.layout import public_template
from rxportal.state.auth import AuthFormState


@public_template(route="/register", title="Register", on_load=[AuthFormState.load_form])
def register_page() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Register an account"), as_="h1", size="6"),
                rx.text(t("Enter the e-mail address you gave your Internet service provider. "
                          "We will e-mail you a username and a temporary password."),
                        size="2"),
                form_message(AuthFormState.error),
                form_message(AuthFormState.notice, kind="green"),
                field(t("E-mail address"), "email", type="email", autocomplete="email",
                      error=AuthFormState.field_errors.get("email", "")),
                submit_button(t("Lookup Email Address"), AuthFormState.busy, class_name="w-full"),
                rx.link(t("Back to log in"), href="/"),
                spacing="3", class_name="w-full",
            ),
            on_submit=AuthFormState.register,
        ),
        size="3", class_name="w-full",
    )
