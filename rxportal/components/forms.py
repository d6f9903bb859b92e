"""Form pieces with a visible label, an error message next to the field, and the language
selector. Labels are tied to inputs by id so tests and screen readers find them."""
from __future__ import annotations

import reflex as rx

from rxportal.components.i18n import t
from rxportal.services import i18n
from rxportal.state.session import SessionState

MAX_FIELD = 10_000  # the browser accepts it; the service says what is too long


def field(label: rx.Var, name: str, *, error: rx.Var | str = "", type: str = "text",
          value: rx.Var | str | None = None, autocomplete: str = "off", hint: rx.Var | None = None,
          required: bool = False, input_id: str | None = None, **props) -> rx.Component:
    input_id = input_id or name
    input_props = dict(id=input_id, name=name, type=type, auto_complete=autocomplete,
                       max_length=MAX_FIELD, class_name="w-full", size="3", **props)
    if value is not None:
        input_props["default_value"] = value
    if required:
        input_props["required"] = True
    error_id = f"{input_id}-error"
    return rx.box(
        rx.el.label(label, html_for=input_id, class_name="rx-label"),
        rx.input(**input_props, aria_describedby=error_id,
                 aria_invalid=rx.cond(error != "", "true", "false")),
        rx.cond(hint is not None, rx.text(hint, size="1", color_scheme="gray"), rx.fragment())
        if hint is not None else rx.fragment(),
        rx.text(error, id=error_id, color_scheme="red", size="2", role="alert",
                aria_live="polite", margin_top="2px"),
        class_name="w-full",
    )


def password_hint() -> rx.Var:
    """The ISP's current password rules, under a new-password field."""
    return rx.cond(
        SessionState.password_refuse_common,
        t("At least {count} characters; common passwords are refused. A few unrelated words "
          "make a strong password.", count=SessionState.password_min_length),
        t("At least {count} characters. A few unrelated words make a strong password.",
          count=SessionState.password_min_length),
    )


def password_fields(errors: rx.Var, current: bool = True) -> rx.Component:
    """Current password (unless `current` is False), new password with the ISP's rules, and its
    confirmation; `errors` maps field names to messages."""
    return rx.fragment(
        field(t("Current password"), "current_password", type="password",
              autocomplete="current-password", error=errors.get("current_password", ""))
        if current else rx.fragment(),
        field(t("New password"), "new_password", type="password", autocomplete="new-password",
              error=errors.get("new_password", ""), hint=password_hint()),
        field(t("Confirm new password"), "confirm_password", type="password",
              autocomplete="new-password", error=errors.get("confirm_password", "")),
    )


def form_message(text: rx.Var | str, kind: str = "red") -> rx.Component:
    """A message for the whole form (shown only when there is one)."""
    return rx.cond(
        text != "",
        rx.callout(text, color_scheme=kind, role="alert" if kind == "red" else "status",
                   class_name="w-full"),
        rx.fragment(),
    )


def submit_button(label: rx.Var, busy: rx.Var | bool = False, **props) -> rx.Component:
    return rx.button(label, type="submit", size="3", loading=busy, disabled=busy, **props)


def language_select(id: str = "language") -> rx.Component:
    """English / Français; the choice is kept in the browser and, once logged in, for the user."""
    return rx.hstack(
        rx.el.label(rx.icon("languages", size=16, aria_hidden="true"), t("Language"),
                    html_for=id, style={"display": "flex", "gap": "6px", "alignItems": "center"}),
        rx.el.select(
            *[rx.el.option(name, value=code) for code, name in i18n.LANGUAGE_NAMES.items()],
            id=id, value=SessionState.ui_lang,
            on_change=SessionState.set_language,
            style={"padding": "6px 8px", "borderRadius": "6px",
                   "border": "1px solid var(--gray-7)", "background": "var(--color-background)",
                   "color": "var(--gray-12)"},
        ),
        align="center", spacing="2",
    )


def portal_form(*children, on_submit, **props) -> rx.Component:
    """A form whose input is checked by the server (messages in the customer's language),
    not by the browser's built-in validation."""
    return rx.form.root(*children, on_submit=on_submit, no_validate=True, **props)
