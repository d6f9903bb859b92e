"""The login page (guide: "The Login Page", items 1-6)."""
import reflex as rx

from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.components.layout import public_template
from rxportal.state.auth import AuthFormState
from rxportal.state.session import SessionState


def login_card() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Log in to your account"), as_="h1", size="6"),
                form_message(AuthFormState.error),
                field(t("Username"), "username", autocomplete="username"),
                field(t("Password"), "password", type="password",
                      autocomplete="current-password"),
                submit_button(t("Log in"), AuthFormState.busy, class_name="w-full"),
                spacing="3", class_name="w-full",
            ),
            on_submit=AuthFormState.login,
            reset_on_submit=False,
        ),
        size="3", class_name="w-full",
    )


@public_template(route="/", title="Log in", on_load=[AuthFormState.load_login])
def login_page() -> rx.Component:
    return rx.vstack(
        rx.center(rx.image(src=AuthFormState.logo_url, alt=SessionState.isp_name,
                           max_height="72px", max_width="240px"), class_name="w-full"),
        rx.box(rx.html(AuthFormState.login_message_html), id="login-message",
               text_align="center", class_name="w-full"),
        login_card(),
        rx.vstack(
            rx.link(t("Forgot your password or username?"), href="/recover"),
            rx.link(t("New portal user? Register an account here!"), href="/register"),
            spacing="2", align="center", class_name="w-full",
        ),
        spacing="4", class_name="w-full",
    )
