"""The staff console's own layout (not the customer sidebar): a navigation column on a desktop,
a top bar with a menu on a phone; links shown by role. `@admin_template(route, title, area)`
registers a staff page and checks the staff session and role on load."""
from __future__ import annotations

from typing import Callable

import reflex as rx

from rxportal.components.forms import language_select
from rxportal.components.i18n import t
from rxportal.components.layout import (HYDRATED, named_after, page_tab_title, page_title,
                                        shell)
from rxportal.state.admin import StaffState

NAV_WIDTH = "230px"
DESKTOP = ["none", "none", "flex"]
PHONE = ["flex", "flex", "none"]


def admin_link(label: rx.Var, href: str, icon: str) -> rx.Component:
    active = StaffState.router.page.path.startswith(href)
    return rx.link(
        rx.hstack(rx.icon(icon, size=18, aria_hidden="true"), rx.text(label, size="3"),
                  align="center", spacing="3", padding="8px 12px", border_radius="8px",
                  class_name="w-full",
                  background=rx.cond(active, "var(--accent-4)", "transparent"),
                  color=rx.cond(active, "var(--accent-12)", "var(--gray-12)"),
                  _hover={"background": "var(--accent-3)"}),
        href=href, underline="none", class_name="w-full",
        aria_current=rx.cond(active, "page", "false"),
    )


def admin_links() -> rx.Component:
    return rx.vstack(
        admin_link(t("Customers"), "/admin/customers", "users"),
        admin_link(t("Tickets"), "/admin/tickets", "life-buoy"),
        admin_link(t("Contracts"), "/admin/contracts", "file-pen-line"),
        rx.cond(
            StaffState.is_admin,
            rx.vstack(
                admin_link(t("Invite customers"), "/admin/invite", "send"),
                admin_link(t("Plans"), "/admin/plans", "package"),
                admin_link(t("Top-offs"), "/admin/topoffs", "gauge"),
                admin_link(t("Billing run"), "/admin/billing", "calendar-clock"),
                admin_link(t("Settings"), "/admin/settings", "settings"),
                admin_link(t("Mail"), "/admin/mail", "mail"),
                admin_link(t("Payments"), "/admin/payments", "credit-card"),
                admin_link(t("Audit log"), "/admin/audit", "scroll-text"),
                admin_link(t("Staff"), "/admin/staff", "shield"),
                spacing="1", class_name="w-full",
            ),
        ),
        spacing="1", class_name="w-full",
    )


def staff_footer() -> rx.Component:
    return rx.vstack(
        rx.text(StaffState.staff_username, " · ",
                rx.cond(StaffState.is_admin, t("Administrator"), t("Support")), size="2",
                weight="medium", style={"overflowWrap": "anywhere"}),
        rx.link(rx.hstack(rx.icon("key-round", size=16, aria_hidden="true"),
                          rx.text(t("My password"), size="2"), align="center", spacing="2"),
                href="/admin/password", underline="hover"),
        rx.button(rx.icon("log-out", size=16, aria_hidden="true"), t("Log out"),
                  on_click=StaffState.staff_logout, variant="soft", color_scheme="gray",
                  class_name="w-full", justify="start"),
        spacing="1", class_name="w-full", padding="0 12px",
    )


def admin_nav() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            rx.text(StaffState.isp_name, size="4", weight="bold", padding="8px 12px"),
            rx.badge(t("Staff console"), color_scheme="orange", high_contrast=True, margin_left="12px"),
            admin_links(),
            rx.box(class_name="spacer"),
            language_select("admin-language"),
            staff_footer(),
            height="100%", spacing="3", padding="16px 8px",
        ),
        aria_label=t("Staff navigation"),
        style={"position": "fixed", "top": "0", "left": "0", "bottom": "0",
               "width": NAV_WIDTH, "borderRight": "1px solid var(--gray-5)",
               "background": "var(--gray-2)", "overflowY": "auto"},
        display=DESKTOP,
    )


def admin_top_bar() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.icon_button(rx.cond(StaffState.menu_open, rx.icon("x"), rx.icon("menu")),
                           on_click=StaffState.toggle_menu, variant="ghost", size="3",
                           aria_label=t("Menu"), aria_expanded=StaffState.menu_open.to_string(),
                           aria_controls="admin-mobile-menu"),
            rx.text(StaffState.isp_name, size="4", weight="bold", trim="both"),
            rx.badge(t("Staff console"), color_scheme="orange", high_contrast=True),
            align="center", padding="10px 12px", class_name="w-full",
        ),
        rx.cond(
            StaffState.menu_open,
            rx.el.nav(
                rx.vstack(admin_links(), rx.divider(), staff_footer(), spacing="3",
                          padding="8px 12px 16px"),
                id="admin-mobile-menu", aria_label=t("Staff navigation"),
            ),
        ),
        display=PHONE, flex_direction="column",
        style={"position": "sticky", "top": "0", "zIndex": "10",
               "background": "var(--color-background)",
               "borderBottom": "1px solid var(--gray-5)"},
    )


def admin_layout(content: rx.Component) -> rx.Component:
    return shell(admin_nav(), admin_top_bar(), content, StaffState.ui_lang, NAV_WIDTH)


admin_title = page_title


def admin_template(route: str, title: str, area: str, on_load: list | None = None) -> Callable:
    """Register a staff page: inside the staff layout, session and role checked on load."""

    def decorator(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @rx.page(route=route, title=page_tab_title(title),
                 on_load=[StaffState.check_staff(area), *(on_load or [])])
        def wrapped() -> rx.Component:
            return admin_layout(page())

        return named_after(wrapped, page, f"admin_{page.__name__}")

    return decorator


def admin_public_template(route: str, title: str, on_load: list | None = None) -> Callable:
    """The staff login pages (no staff session yet)."""

    def decorator(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @rx.page(route=route, title=page_tab_title(title), on_load=on_load or [])
        def wrapped() -> rx.Component:
            return rx.center(
                rx.el.main(
                    rx.vstack(page(), rx.box(language_select("admin-language"), padding_top="8px"),
                              spacing="4", class_name="w-full", align="stretch"),
                    id="main",
                    custom_attrs=HYDRATED,
                    style={"width": "100%", "maxWidth": "440px", "padding": "24px 16px",
                           "boxSizing": "border-box"},
                ),
                min_height="100vh", background="var(--gray-3)", lang=StaffState.ui_lang,
            )

        return named_after(wrapped, page, f"admin_{page.__name__}")

    return decorator


CELL = {"padding": "8px 10px", "borderBottom": "1px solid var(--gray-5)", "textAlign": "left",
        "verticalAlign": "top"}


def data_table(label: rx.Var, headers: list[rx.Var], rows: rx.Var, cells: Callable) -> rx.Component:
    """A plain HTML table that scrolls sideways inside a focusable, labelled region on a phone
    (keyboard users can scroll it too)."""
    return rx.el.div(
        rx.el.table(
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style={**CELL, "fontWeight": "600"})
                                   for h in headers])),
            rx.el.tbody(rx.foreach(rows, lambda row: rx.el.tr(
                *[rx.el.td(cell, style=CELL) for cell in cells(row)]))),
            style={"width": "100%", "borderCollapse": "collapse", "fontSize": "14px"},
        ),
        role="region", aria_label=label, tab_index=0,
        style={"width": "100%", "overflowX": "auto"},
    )
