"""Settings pages: branding and logo, regional, customer pages, billing, passwords (one page),
mail with its test buttons, and payment keys (write-only, shown masked)."""
import reflex as rx

from rxportal.components.admin_layout import admin_template, admin_title
from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.services import i18n, staff_settings
from rxportal.services.staff_settings import FIELDS
from rxportal.state.admin_settings import AdminSettingsState as S

SELECT_STYLE = {"padding": "8px", "borderRadius": "6px", "border": "1px solid var(--gray-7)",
                "background": "var(--color-background)", "color": "var(--gray-12)",
                "width": "100%", "maxWidth": "100%"}


def _options(key: str) -> list[tuple[str, str]]:
    spec = FIELDS[key]
    if spec.kind == "language":
        return list(i18n.LANGUAGE_NAMES.items())
    if spec.kind == "currency":
        return [(c, c) for c in staff_settings.currencies()]
    if spec.kind == "country":
        return [(c, c) for c in staff_settings.countries()]
    if spec.kind == "timezone":
        return [(z, z) for z in staff_settings.timezones()]
    return [(c, c) for c in spec.choices]


def setting_field(key: str) -> rx.Component:
    spec = FIELDS[key]
    label = t(spec.label)
    error = S.errors.get(key, "")
    hint = t(spec.help) if spec.help else None
    if spec.kind == "bool":
        return rx.el.label(
            rx.el.input(type="checkbox", name=key, id=key, default_checked=S.values[key] == "true",
                        style={"width": "18px", "height": "18px"}),
            label, html_for=key,
            style={"display": "flex", "gap": "8px", "alignItems": "center"},
        )
    if spec.kind in ("language", "currency", "country", "timezone", "choice"):
        return rx.box(
            rx.el.label(label, html_for=key, style={"display": "block", "fontWeight": "500",
                                                    "marginBottom": "4px"}),
            rx.el.select(*[rx.el.option(name, value=value) for value, name in _options(key)],
                         id=key, name=key, default_value=S.values[key], style=SELECT_STYLE),
            rx.text(error, color_scheme="red", size="2", role="alert"),
            class_name="w-full",
        )
    if spec.kind == "html":
        return rx.box(
            rx.el.label(label, html_for=key, style={"display": "block", "fontWeight": "500",
                                                    "marginBottom": "4px"}),
            rx.text_area(id=key, name=key, default_value=S.values[key], rows="3", class_name="w-full"),
            rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
            rx.text(error, color_scheme="red", size="2", role="alert"),
            class_name="w-full",
        )
    if spec.kind == "secret":
        return rx.box(
            field(label, key, type="password", autocomplete="new-password", error=error,
                  placeholder=rx.cond(S.masked[key] != "", S.masked[key], "")),
            rx.hstack(
                rx.text(rx.cond(S.masked[key] != "", t("Stored: {masked}", masked=S.masked[key]),
                                t("Not set")), size="1", color_scheme="gray",
                        id=f"{key}-masked"),
                rx.cond(S.masked[key] != "",
                        rx.button(t("Clear"), type="button", size="1", variant="soft",
                                  color_scheme="red", on_click=S.clear_secret(key),
                                  aria_label=t("Clear {label}", label=label))),
                align="center", spacing="2",
            ),
            class_name="w-full",
        )
    input_type = {"color": "text", "email": "email", "url": "url", "int": "text",
                  "port": "text", "money": "text"}.get(spec.kind, "text")
    extra = {"input_mode": "numeric"} if spec.kind in ("int", "port") else {}
    if spec.kind == "money":
        extra = {"input_mode": "decimal"}
    return field(label, key, type=input_type, value=S.values[key], error=error, hint=hint, **extra)


def section_card(section: str, heading: str, handler, *extra) -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t(heading), as_="h2", size="5"),
                form_message(S.notices.get(section, ""), kind="green"),
                *[setting_field(key) for key in staff_settings.SECTIONS[section]],
                *extra,
                submit_button(t("Save"), S.busy, id=f"save-{section}"),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=handler, reset_on_submit=False,
            key=f"{section}-" + S.form_version.to_string(),
        ),
        class_name="w-full", id=f"section-{section}",
    )


def logo_upload() -> rx.Component:
    upload = rx.upload.root(
        rx.vstack(
            rx.button(t("Choose an image"), type="button", variant="soft"),
            rx.text(t("PNG, JPEG, GIF or WebP, up to 2 MB."), size="1", color_scheme="gray"),
            rx.foreach(rx.selected_files("logo-upload"), lambda name: rx.text(name, size="2")),
            align="start", spacing="1",
        ),
        id="logo-upload", max_files=1, multiple=False,
        border="1px dashed var(--gray-7)", padding="12px", border_radius="8px",
        class_name="w-full",
    )
    # Reflex gives the dropzone's file input no attributes: give it an id its label points to.
    upload.children[0].children[0].id = "logo-file"
    return rx.box(
        rx.el.label(t("Logo image file"), html_for="logo-file",
                    style={"display": "block", "fontWeight": "500", "marginBottom": "4px"}),
        upload, class_name="w-full",
    )


def logo_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Logo"), as_="h2", size="5"),
            rx.cond(S.logo_src != "",
                    rx.image(src=S.logo_src, alt=t("Current logo"), max_height="72px",
                             max_width="240px", id="current-logo"),
                    rx.text(t("No logo uploaded: the portal shows its own."), size="2")),
            form_message(S.logo_notice, kind="green"),
            form_message(S.logo_error),
            logo_upload(),
            rx.hstack(
                rx.button(t("Upload logo"), id="upload-logo",
                          on_click=S.upload_logo(rx.upload_files(upload_id="logo-upload"))),
                rx.cond(S.logo_src != "",
                        rx.button(t("Remove logo"), variant="soft", color_scheme="red",
                                  on_click=S.remove_logo)),
                spacing="2", wrap="wrap",
            ),
            spacing="3", class_name="w-full", align="start",
        ),
        class_name="w-full",
    )


@admin_template(route="/admin/settings", title="Settings", area="settings",
                on_load=[S.load_settings])
def settings_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Settings")),
        section_card("branding", "Branding", S.save_branding),
        logo_card(),
        section_card("regional", "Language and region", S.save_regional),
        section_card("pages", "Pages customers see", S.save_pages),
        section_card("billing", "Billing", S.save_billing),
        section_card("tickets", "Support tickets", S.save_tickets),
        section_card("passwords", "Passwords", S.save_passwords,
                     rx.text(t("New passwords of customers and staff follow these rules at "
                               "once; passwords already chosen are not changed. At most 72 bytes "
                               "(about 64 characters), and no composition rules."),
                             size="2", color_scheme="gray")),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/mail", title="Mail", area="settings", on_load=[S.load_settings])
def mail_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Mail")),
        rx.text(t("Leave the SMTP server empty to use the one set in the server's environment "
                  "(SMTP_HOST)."), size="2", color_scheme="gray"),
        section_card("mail", "Mail servers", S.save_mail),
        rx.card(
            portal_form(
                rx.vstack(
                    rx.heading(t("Send a test mail"), as_="h2", size="5"),
                    form_message(S.test_result, kind="green"),
                    form_message(S.test_error),
                    field(t("Send to"), "test_to", type="email", autocomplete="email"),
                    submit_button(t("Send a test mail"), S.busy, id="send-test-mail"),
                    spacing="3", class_name="w-full", align="start",
                ),
                on_submit=S.send_test_mail, reset_on_submit=False,
            ),
            class_name="w-full",
        ),
        rx.card(
            rx.vstack(
                rx.heading(t("Support mailbox"), as_="h2", size="5"),
                form_message(S.mailbox_result, kind="green"),
                form_message(S.mailbox_error),
                rx.button(t("Check the mailbox"), on_click=S.check_mailbox, loading=S.busy,
                          id="check-mailbox"),
                spacing="3", class_name="w-full", align="start",
            ),
            class_name="w-full",
        ),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/payments", title="Payments", area="settings",
                on_load=[S.load_settings])
def payments_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Payments")),
        rx.text(t("Keys are write-only: they are never shown again, only their last four "
                  "characters. Leave a field empty to keep the stored key.")),
        section_card("payments", "Stripe", S.save_payments),
        spacing="4", class_name="w-full",
    )
