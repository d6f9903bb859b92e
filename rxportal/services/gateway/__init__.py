"""The payment gateway interface. The payment service talks to a `Gateway`; `get_gateway()`
returns the Stripe implementation, configured by the ISP settings `stripe_secret_key`,
`stripe_publishable_key`, `stripe_webhook_secret` (staff console, stored in the database) or,
when those are empty, by the environment:

- STRIPE_SECRET_KEY: the secret key (sk_...). Without one, the local Stripe emulator
  (localstripe, see scripts/localstripe_server.py) is used with a test key.
- STRIPE_API_BASE: where the Stripe API is, whatever the keys (tests). Default:
  https://api.stripe.com with a secret key; without one, the local emulator at
  RXPORTAL_LOCAL_STRIPE (set by `make run`, default http://127.0.0.1:8420).
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

# The Stripe payment method type for a bank account, chosen by the currency the ISP bills in:
# SEPA Direct Debit (EUR), Canadian pre-authorised debit (ACSS, CAD), US ACH (USD).
BANK_KINDS = {"EUR": "sepa_debit", "CAD": "acss_debit", "USD": "us_bank_account"}


def bank_kind(currency: str) -> str | None:
    return BANK_KINDS.get((currency or "").upper())


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


class MalformedEvent(SignatureError):
    """A webhook whose signature verifies but whose content is not an event we can read:
    refused like a bad signature (delivering it again would not help)."""


@dataclass(frozen=True)
class MethodInfo:
    ref: str
    kind: str  # card | sepa_debit | acss_debit | us_bank_account
    brand: str  # the card's brand, or the bank's name (its code for SEPA)
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
class RefundResult:
    ref: str
    status: str  # succeeded | pending | failed | canceled
    amount_minor: int
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

    def create_setup_intent(self, customer_ref: str, kind: str,
                            currency: str = "") -> tuple[str, str]:
        """(id, client secret) of a SetupIntent for Stripe.js to collect a `kind` method."""
        ...

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

    def refund(self, payment_ref: str, *, amount_minor: int, idempotency_key: str,
               metadata: dict) -> RefundResult: ...

    def find_refund(self, payment_ref: str, idempotency_key: str) -> RefundResult | None:
        """The refund made with this key, if any (after an answer was lost)."""
        ...

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


def _stored_keys() -> dict:
    """The Stripe keys set by the ISP in the database (empty when not set or no database)."""
    try:
        from rxportal import db
        from rxportal.services import settings as isp_settings

        with db.session_scope() as session:
            return {k: v for k, v in isp_settings.get_many(session, list(STORED_KEYS)).items()
                    if v}
    except Exception:  # noqa: BLE001 - no database yet (first set-up): the environment decides
        return {}


STORED_KEYS = {"stripe_secret_key": "STRIPE_SECRET_KEY",
               "stripe_publishable_key": "STRIPE_PUBLISHABLE_KEY",
               "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET"}


def _register_settings() -> None:
    from rxportal.services import settings as isp_settings

    isp_settings.register("stripe_secret_key", "", secret=True)
    isp_settings.register("stripe_publishable_key", "")
    isp_settings.register("stripe_webhook_secret", "", secret=True)


_register_settings()


def stripe_settings() -> StripeSettings:
    stored = _stored_keys()
    env = {name: stored.get(key) or os.environ.get(name, "").strip()
           for key, name in STORED_KEYS.items()}
    secret = env["STRIPE_SECRET_KEY"]
    local_server = os.environ.get("RXPORTAL_LOCAL_STRIPE", "").strip().rstrip("/") \
        or LOCALSTRIPE_DEFAULT
    default_base = "https://api.stripe.com" if secret and not secret.startswith("sk_test_local") \
        else local_server
    api_base = os.environ.get("STRIPE_API_BASE", "").strip().rstrip("/") or default_base
    local = not api_base.startswith("https://api.stripe.com")
    return StripeSettings(
        secret_key=secret or "sk_test_localstripe",
        api_base=api_base,
        publishable_key=env["STRIPE_PUBLISHABLE_KEY"] or "pk_test_localstripe",
        js_url=os.environ.get("STRIPE_JS_URL", "").strip()
        or (f"{api_base}/js.stripe.com/v3/" if local else "https://js.stripe.com/v3/"),
        webhook_secret=env["STRIPE_WEBHOOK_SECRET"] or ("whsec_localstripe" if local else ""),
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
