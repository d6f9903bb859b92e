"""Staff login: password, then the authenticator code (or its set-up at the first login)."""
import reflex as rx

from rxportal.components.admin_layout import admin_public_template
from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.state.admin import AdminLoginState


@admin_public_template(route="/admin", title="Staff login", on_load=[AdminLoginState.load_login])
def login_page() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.badge(t("Staff console"), color_scheme="orange", high_contrast=True),
                rx.heading(t("Staff login"), as_="h1", size="6"),
                form_message(AdminLoginState.error),
                field(t("Username"), "username", autocomplete="username"),
                field(t("Password"), "password", type="password", autocomplete="current-password"),
                submit_button(t("Log in"), AdminLoginState.busy, class_name="w-full"),
                spacing="3", class_name="w-full",
            ),
            on_submit=AdminLoginState.login, reset_on_submit=False,
        ),
        size="3", class_name="w-full",
    )


def enrolment() -> rx.Component:
    return rx.vstack(
        rx.text(t("Set up two-step verification: scan this QR code with an authenticator app "
                  "(such as Aegis, Google Authenticator or 1Password), then enter the 6-digit "
                  "code it shows.")),
        rx.center(rx.image(src=AdminLoginState.qr_data_uri, alt=t("QR code for your authenticator app"),
                           width="200px", height="200px", background="white"), class_name="w-full"),
        rx.text(t("Or type this key into the app:"), size="2"),
        rx.code(AdminLoginState.totp_secret_text, id="totp-secret", size="3",
                style={"wordBreak": "break-all"}),
        spacing="3", class_name="w-full",
    )


def recovery_codes() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Your recovery codes"), as_="h1", size="6"),
            rx.callout(t("Keep these codes somewhere safe. Each one logs you in once if you lose "
                         "your phone. They are shown only now."), color_scheme="amber", class_name="w-full"),
            rx.el.ul(rx.foreach(AdminLoginState.recovery_codes,
                                lambda code: rx.el.li(rx.code(code, size="3"))),
                     id="recovery-codes", style={"columns": "2", "paddingLeft": "20px"}),
            rx.button(t("Continue"), on_click=AdminLoginState.continue_after_codes, size="3"),
            spacing="3", class_name="w-full",
        ),
        size="3", class_name="w-full",
    )


@admin_public_template(route="/admin/verify", title="Two-step verification",
                       on_load=[AdminLoginState.load_verify])
def verify_page() -> rx.Component:
    return rx.cond(
        AdminLoginState.recovery_codes.length() > 0,
        recovery_codes(),
        rx.card(
            portal_form(
                rx.vstack(
                    rx.heading(t("Two-step verification"), as_="h1", size="6"),
                    rx.cond(AdminLoginState.enrolling, enrolment(),
                            rx.text(t("Enter the 6-digit code from your authenticator app, or "
                                      "one of your recovery codes."))),
                    field(t("Code"), "code", autocomplete="one-time-code",
                          error=AdminLoginState.code_error, input_mode="numeric"),
                    submit_button(t("Verify"), AdminLoginState.busy, class_name="w-full"),
                    rx.link(t("Back to the login"), href="/admin"),
                    spacing="3", class_name="w-full",
                ),
                on_submit=AdminLoginState.submit_code, reset_on_submit=True,
            ),
            size="3", class_name="w-full",
        ),
    )
