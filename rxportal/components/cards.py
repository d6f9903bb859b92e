"""The Stripe Card Element (assets/billing.js mounts it) and the "save this card" box, used by
the payment page and the top-off dialog. Card numbers go from the element straight to Stripe."""
import reflex as rx

from rxportal.components.i18n import t


def card_element(element_id: str) -> rx.Component:
    return rx.box(
        rx.text(t("Card details"), weight="medium", size="2", as_="p"),
        rx.el.div(id=element_id,
                  on_mount=rx.call_script(f"window.rxBilling && window.rxBilling.mountCard('{element_id}')"),
                  on_unmount=rx.call_script("window.rxBilling && window.rxBilling.unmountCard()"),
                  style={"padding": "10px", "border": "1px solid var(--gray-7)",
                         "borderRadius": "6px", "minHeight": "40px",
                         "background": "var(--color-background)"}),
        rx.text(t("Card numbers go directly to our payment processor, Stripe; we never see them."),
                size="1", color_scheme="gray"),
        class_name="w-full",
    )


def save_card_box(checked: rx.Var, on_change, input_id: str = "save_card") -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", id=input_id, name=input_id, checked=checked,
                    on_change=on_change, style={"width": "18px", "height": "18px"}),
        t("Save this card for later payments"), html_for=input_id,
        style={"display": "flex", "gap": "8px", "alignItems": "center"})
