"""The customer layout and the page decorators.

`@template(route=..., title=...)` puts a page inside the layout (a sidebar on a desktop, a top
bar with a menu drawer on a phone, the avatar menu in the bottom-left corner) and checks the
session on load. `@public_template` is for the login, registration and recovery pages.
"""
from __future__ import annotations

from typing import Callable

import reflex as rx
from reflex.event import EventHandler

from rxportal.components.forms import language_select
from rxportal.components.i18n import t
from rxportal.state.session import SessionState

SIDEBAR_WIDTH = "240px"
# On each page's <main>: "true" once the page's on_load handlers have run (Reflex sets
# is_hydrated at the end of the chain). The end-to-end tests wait for it after a page load.
HYDRATED = {"data-hydrated": rx.State.is_hydrated.to_string()}
DESKTOP = ["none", "none", "flex"]  # shown from the "sm" breakpoint (48em, 768 px) up
PHONE = ["flex", "flex", "none"]
ACCOUNT_MENU = "account-menu"


def nav_link(label: rx.Var, href: str, icon: str) -> rx.Component:
    active = SessionState.router.page.path.startswith(href)
    return rx.link(
        rx.hstack(rx.icon(icon, size=18, aria_hidden="true"), rx.text(label, size="3"),
                  align="center", spacing="3", padding="10px 12px", border_radius="8px",
                  class_name="w-full",
                  background=rx.cond(active, "var(--accent-4)", "transparent"),
                  color=rx.cond(active, "var(--accent-12)", "var(--gray-12)"),
                  _hover={"background": "var(--accent-3)"}),
        href=href, underline="none", class_name="w-full",
        aria_current=rx.cond(active, "page", "false"),
    )


def nav_links() -> rx.Component:
    return rx.vstack(
        nav_link(t("Billing"), "/billing", "receipt"),
        rx.cond(SessionState.show_tickets, nav_link(t("Support Tickets"), "/tickets", "life-buoy")),
        rx.cond(SessionState.show_usage, nav_link(t("Data Usage"), "/usage", "chart-column")),
        rx.cond(SessionState.show_contracts, nav_link(t("Contracts"), "/contracts", "signature")),
        nav_link(t("My Details"), "/details", "user"),
        spacing="1", class_name="w-full",
    )


def amount_due_badge() -> rx.Component:
    return rx.box(
        rx.text(t("Amount due"), size="1", color_scheme="gray"),
        # Each text keeps its line while still empty, so nothing moves when the data comes.
        rx.text(SessionState.amount_due_text, size="5", weight="bold", id="layout-amount-due",
                min_height="var(--line-height-5)"),
        padding="10px 12px", border_radius="8px", background="var(--gray-3)", class_name="w-full",
    )


def avatar_menu() -> rx.Component:
    """The avatar in the bottom-left corner opens "My Details" and "Log out" (guide, item 1).

    A native popover (HTML's `popover` attribute: the browser opens it from the button, closes
    it on Escape or a click elsewhere, and tells screen readers whether it is open): Radix's
    dropdown menu cost every customer page a 23 KB script (bench/README.md)."""
    return rx.fragment(
        rx.el.button(
            rx.el.span(SessionState.username[:2].upper(), class_name="account-avatar",
                       aria_hidden="true"),
            rx.vstack(rx.text(SessionState.account_name, size="2", weight="medium",
                              trim="both", max_width="140px", overflow="hidden",
                              text_overflow="ellipsis", white_space="nowrap"),
                      rx.text(SessionState.username, size="1", color_scheme="gray"),
                      spacing="0", align="start"),
            type="button", class_name="account-button", aria_label=t("Account menu"),
            custom_attrs={"popoverTarget": ACCOUNT_MENU},
        ),
        rx.el.div(
            rx.link(t("My Details"), href="/details", class_name="account-menu-item"),
            rx.el.button(t("Log out"), type="button", on_click=SessionState.logout,
                         class_name="account-menu-item account-menu-logout"),
            id=ACCOUNT_MENU, custom_attrs={"popover": "auto"}, class_name="account-menu",
        ),
    )


def logout_button() -> rx.Component:
    return rx.button(rx.icon("log-out", size=16, aria_hidden="true"), t("Log out"),
                     on_click=SessionState.logout, variant="soft", color_scheme="gray",
                     class_name="w-full", justify="start")


def sidebar() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            rx.text(SessionState.isp_name, size="4", weight="bold", padding="8px 12px",
                    min_height="var(--line-height-4)", box_sizing="content-box"),
            amount_due_badge(),
            nav_links(),
            rx.box(class_name="spacer"),
            logout_button(),
            avatar_menu(),
            height="100%", spacing="4", padding="16px 12px",
        ),
        aria_label=t("Main navigation"),
        style={"position": "fixed", "top": "0", "left": "0", "bottom": "0",
               "width": SIDEBAR_WIDTH, "borderRight": "1px solid var(--gray-5)",
               "background": "var(--gray-1)", "overflowY": "auto"},
        display=DESKTOP,
    )


def top_bar() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.icon_button(rx.cond(SessionState.menu_open, rx.icon("x"), rx.icon("menu")),
                           on_click=SessionState.toggle_menu, variant="ghost", size="3",
                           aria_label=t("Menu"), aria_expanded=SessionState.menu_open.to_string(),
                           aria_controls="mobile-menu"),
            rx.text(SessionState.isp_name, size="4", weight="bold", trim="both"),
            rx.box(class_name="spacer"),
            rx.text(SessionState.amount_due_text, weight="bold", size="3",
                    aria_label=t("Amount due")),
            align="center", padding="10px 12px", class_name="w-full",
            min_height="44px", box_sizing="border-box",  # as tall before the data as after
        ),
        rx.cond(
            SessionState.menu_open,
            rx.el.nav(
                rx.vstack(nav_links(), rx.divider(), logout_button(), spacing="3",
                          padding="8px 12px 16px"),
                id="mobile-menu", aria_label=t("Main navigation"),
            ),
        ),
        display=PHONE, flex_direction="column",
        style={"position": "sticky", "top": "0", "zIndex": "10",
               "background": "var(--color-background)",
               "borderBottom": "1px solid var(--gray-5)"},
    )


def shell(navigation: rx.Component, top: rx.Component, content: rx.Component,
          lang: rx.Var, nav_width: str = SIDEBAR_WIDTH) -> rx.Component:
    """A page with a fixed side navigation on a desktop and a top bar on a phone (shared by
    the customer layout and the staff console)."""
    return rx.box(
        rx.el.a(t("Skip to content"), href="#main", class_name="skip-link"),
        navigation,
        top,
        rx.el.main(
            content,
            id="main",
            custom_attrs=HYDRATED,
            style={"padding": "16px", "maxWidth": "1100px", "boxSizing": "border-box"},
            margin_left=["0", "0", nav_width],
            width=["100%", "100%", f"calc(100% - {nav_width})"],
        ),
        min_height="100vh",
        lang=lang,  # screen readers read the page in the chosen language
    )


def layout(content: rx.Component) -> rx.Component:
    return shell(sidebar(), top_bar(), content, SessionState.ui_lang)


def placeholder(framed: bool) -> rx.Component:
    lines = rx.vstack(rx.skeleton(height="14px", width="35%"),
                      rx.skeleton(height="28px", width="60%"), spacing="3", class_name="w-full")
    return rx.card(lines, class_name="w-full") if framed else lines


def until_loaded(loaded: rx.Var, content: rx.Component, cards: int = 4,
                 framed: bool = True) -> rx.Component:
    """The page's data, or grey placeholders while its first load is on its way.

    The build prerenders each page with empty data ("No invoices yet."): shown on arrival, it
    was wrong for a moment and then jumped when the data came. New elements moving nothing,
    the placeholders leave the page steady (no layout shift) and say what is happening. Their
    box is a plain <div>, not a Radix stack like the page's: React would otherwise keep the
    placeholder cards' elements for the page's cards in the same places, which then move."""
    return rx.cond(
        loaded,
        content,
        rx.el.div(
            rx.text(t("Loading your account…"), class_name="visually-hidden", role="status"),
            *[placeholder(framed) for _ in range(cards)],
            aria_busy="true",
            style={"display": "flex", "flexDirection": "column", "gap": "var(--space-3)",
                   "width": "100%"},
        ),
    )


def page_title(title: rx.Var) -> rx.Component:
    return rx.heading(title, as_="h1", size="7", margin_bottom="16px")


def page_tab_title(title: str) -> rx.Var:
    """The browser tab's title: the page's name in the visitor's language, then the ISP's."""
    return t(title, strict=False) + " · " + SessionState.isp_name


def named_after(wrapped: Callable, page: Callable, name: str) -> Callable:
    """Give the registered page function its page's name and module: Reflex writes a page's
    components into a JavaScript module named after that Python module, so without this every
    page would share one (the layout's) and each page would download all of them."""
    wrapped.__name__ = wrapped.__qualname__ = name
    wrapped.__module__ = page.__module__
    return wrapped


def template(route: str, title: str, load: EventHandler | None = None) -> Callable:
    """Register a customer page: inside the layout. Its on_load is `load`, a handler made with
    `page_load` (which checks the login first, in the same event), or the login check alone."""
    if load is not None and not getattr(load.fn, "opens_page", False):
        raise TypeError(f"{route}: its load handler must be made with state.session.page_load")

    def decorator(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @rx.page(route=route, title=page_tab_title(title),
                 on_load=[load or SessionState.check_login])
        def wrapped() -> rx.Component:
            return layout(page())

        return named_after(wrapped, page, page.__name__)

    return decorator


def public_layout(content: rx.Component) -> rx.Component:
    return rx.center(
        rx.el.main(
            rx.vstack(
                content,
                rx.box(language_select("language"), padding_top="8px"),
                spacing="4", class_name="w-full", align="stretch",
            ),
            id="main",
            custom_attrs=HYDRATED,
            style={"width": "100%", "maxWidth": "440px", "padding": "24px 16px",
                   "boxSizing": "border-box"},
        ),
        min_height="100vh", background="var(--gray-2)", lang=SessionState.ui_lang,
    )


def public_template(route: str, title: str, on_load: list | None = None) -> Callable:
    """Register a page that needs no login (login, registration, recovery)."""

    def decorator(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @rx.page(route=route, title=page_tab_title(title),
                 on_load=[SessionState.load_public, *(on_load or [])])
        def wrapped() -> rx.Component:
            return public_layout(page())

        return named_after(wrapped, page, page.__name__)

    return decorator
