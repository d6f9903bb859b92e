"""A staff member's own password and recovery codes (any staff role)."""
import reflex as rx

from rxportal.components.admin_layout import admin_template, admin_title
from rxportal.components.forms import form_message, password_fields, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.state.admin import AdminPasswordState as PW


def password_card() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Change my password"), as_="h2", size="4"),
                form_message(PW.notice, kind="green"),
                password_fields(PW.errors),
                submit_button(t("Change Password"), PW.busy, id="change-own-password"),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=PW.change_own_password,
            key="own-pw-" + PW.form_version.to_string(),
        ),
        class_name="w-full", max_width="560px",
    )


def recovery_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Recovery codes"), as_="h2", size="4"),
            rx.text(t("New codes replace the old ones, which stop working at once."), size="2"),
            rx.cond(
                PW.new_codes.length() > 0,
                rx.vstack(
                    rx.callout(t("Keep these codes somewhere safe. Each one logs you in once if "
                                 "you lose your phone. They are shown only now."),
                               color_scheme="amber", class_name="w-full"),
                    rx.el.ul(rx.foreach(PW.new_codes, lambda code: rx.el.li(rx.code(code, size="3"))),
                             id="new-recovery-codes",
                             style={"columns": "2", "paddingLeft": "20px"}),
                    class_name="w-full",
                ),
            ),
            rx.button(t("Make new recovery codes"), on_click=PW.renew_recovery_codes,
                      variant="soft", id="renew-recovery-codes"),
            spacing="3", class_name="w-full", align="start",
        ),
        class_name="w-full", max_width="560px",
    )


@admin_template(route="/admin/password", title="My password", area="own",
                on_load=[PW.load_password])
def password_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("My password")),
        password_card(),
        recovery_card(),
        spacing="4", class_name="w-full",
    )
