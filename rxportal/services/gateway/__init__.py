"""The payment gateway interface. The payment service talks to a `Gateway`; `get_gateway()`
returns the Stripe implementation configured from the environment:

- STRIPE_SECRET_KEY: the secret key (sk_...). Without one, the local Stripe emulator
  (localstripe, see scripts/localstripe_server.py) is used with a test key.
- STRIPE_API_BASE: where the Stripe API is (default https://api.stripe.com, or
  http://127.0.0.1:8420 when no secret key is set).
- STRIPE_PUBLISHABLE_KEY, STRIPE_JS_URL: what the browser uses (Stripe.js).
- STRIPE_WEBHOOK_SECRET: the signing secret of the webhook endpoint.

Card and bank numbers never reach this code: the browser gives them to Stripe.js, which hands
back a payment method id.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

LOCALSTRIPE_DEFAULT = "http://127.0.0.1:8420"


class GatewayError(Exception):
    """The gateway refused a request (bad request, unknown object)."""

    def __init__(self, message: str = "", code: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or did not answer: the outcome is unknown."""


class SignatureError(GatewayError):
    """A webhook whose signature does not verify."""


@dataclass(frozen=True)
class MethodInfo:
    ref: str
    kind: str  # card | sepa_debit
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    customer_ref: str | None


@dataclass(frozen=True)
class PaymentResult:
    ref: str
    # succeeded | processing | requires_action | requires_confirmation | failed | canceled
    status: str
    amount_minor: int = 0
    client_secret: str = ""
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class GatewayEvent:
    id: str
    type: str
    object_ref: str  # the PaymentIntent id this event is about
    created: int
    amount_minor: int = 0  # refunded or disputed amount, for those events
    data: dict = field(default_factory=dict)


class Gateway(Protocol):
    name: str

    def create_customer(self, *, email: str, name: str, account_number: str) -> str: ...

    def create_setup_intent(self, customer_ref: str, kind: str) -> tuple[str, str]: ...

    def get_method(self, method_ref: str) -> MethodInfo: ...

    def attach_method(self, method_ref: str, customer_ref: str) -> MethodInfo: ...

    def detach_method(self, method_ref: str) -> None: ...

    def create_payment(self, *, amount_minor: int, currency: str, customer_ref: str,
                       method_ref: str, kind: str, idempotency_key: str,
                       metadata: dict) -> PaymentResult: ...

    def confirm_payment(self, payment_ref: str, *, idempotency_key: str,
                        off_session: bool) -> PaymentResult: ...

    def get_payment(self, payment_ref: str) -> PaymentResult: ...

    def cancel_payment(self, payment_ref: str) -> PaymentResult: ...

    def parse_webhook(self, payload: bytes, signature: str) -> GatewayEvent: ...


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    api_base: str
    publishable_key: str
    js_url: str
    webhook_secret: str

    @property
    def local(self) -> bool:
        return not self.api_base.startswith("https://api.stripe.com")


def stripe_settings() -> StripeSettings:
    secret = os.environ.get("STRIPE_SECRET_KEY", "").strip()
    default_base = "https://api.stripe.com" if secret and not secret.startswith("sk_test_local") \
        else LOCALSTRIPE_DEFAULT
    api_base = os.environ.get("STRIPE_API_BASE", "").strip().rstrip("/") or default_base
    local = not api_base.startswith("https://api.stripe.com")
    return StripeSettings(
        secret_key=secret or "sk_test_localstripe",
        api_base=api_base,
        publishable_key=os.environ.get("STRIPE_PUBLISHABLE_KEY", "").strip() or "pk_test_localstripe",
        js_url=os.environ.get("STRIPE_JS_URL", "").strip()
        or (f"{api_base}/js.stripe.com/v3/" if local else "https://js.stripe.com/v3/"),
        webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip()
        or ("whsec_localstripe" if local else ""),
    )


_override: Gateway | None = None


def set_gateway(gateway: Gateway | None) -> None:
    """Tests: use this gateway instead of the configured one (None: back to the configuration)."""
    global _override
    _override = gateway


def get_gateway() -> Gateway:
    if _override is not None:
        return _override
    from rxportal.services.gateway.stripe_gateway import StripeGateway

    return StripeGateway(stripe_settings())
