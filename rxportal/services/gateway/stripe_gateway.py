"""The Stripe implementation of the gateway interface (stripe SDK 16, StripeClient).

Works against real Stripe and against localstripe. Differences handled here:
- localstripe does not attach a SetupIntent's payment method to its customer: we attach it
  when its customer is empty;
- localstripe refuses `off_session` on a separate confirm: sent only to real Stripe;
- localstripe ignores idempotency keys (real Stripe honours them). The payment service does not
  depend on them alone: it creates the PaymentIntent, stores its id, then confirms it, and a
  retry looks the stored PaymentIntent up instead of creating another. A refund carries its
  key in its metadata too, so that after a lost answer `find_refund` finds it among the
  payment's refunds, on both;
- localstripe takes no `reason` on a refund (real Stripe takes one of three words): our reason
  is free text and goes in the metadata.
"""
from __future__ import annotations

import stripe

from rxportal.services.gateway import (GatewayError, GatewayEvent, GatewayUnavailable,
                                       MalformedEvent, MethodInfo, PaymentResult, RefundResult,
                                       SignatureError, StripeSettings)

PAYMENT_EVENTS = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
    "payment_intent.canceled", "charge.refunded", "charge.dispute.created",
}


# Canadian pre-authorised debits need a mandate that says when the customer is debited: the
# monthly invoice (interval) and the payments they choose to make (sporadic), i.e. "combined".
ACSS_INTERVAL = "Monthly, on the billing day, for the amount of the invoice"


def setup_intent_params(customer_ref: str, kind: str, currency: str = "") -> dict:
    """The SetupIntent Stripe requires for each method type (cards and SEPA need no options)."""
    params = {"customer": customer_ref, "payment_method_types": [kind], "usage": "off_session"}
    if kind == "acss_debit":
        params["payment_method_options"] = {"acss_debit": {
            "currency": (currency or "cad").lower(),
            "mandate_options": {"payment_schedule": "combined",
                                "interval_description": ACSS_INTERVAL,
                                "transaction_type": "personal"},
            "verification_method": "automatic"}}
    elif kind == "us_bank_account":
        params["payment_method_options"] = {"us_bank_account": {
            "financial_connections": {"permissions": ["payment_method"]},
            "verification_method": "automatic"}}
    return params


def _attr(obj, name, default=None):
    try:
        value = getattr(obj, name)
    except AttributeError:
        return default
    return default if value is None else value


class StripeGateway:
    name = "stripe"

    def __init__(self, settings: StripeSettings, timeout: float = 20.0):
        self.settings = settings
        self.client = stripe.StripeClient(
            settings.secret_key, base_addresses={"api": settings.api_base},
            max_network_retries=0, http_client=stripe.RequestsClient(timeout=timeout))

    # -- errors ---------------------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise GatewayUnavailable(str(error.user_message or error), "unavailable") from error
        except stripe.APIError as error:  # 5xx: the outcome is unknown
            raise GatewayUnavailable(str(error.user_message or error), "unavailable") from error
        except stripe.StripeError as error:
            raise GatewayError(str(error.user_message or error), error.code or "") from error

    # -- customers and methods --------------------------------------------------------------
    def create_customer(self, *, email: str, name: str, account_number: str) -> str:
        customer = self._call(self.client.v1.customers.create, params={
            "email": email or None, "name": name, "metadata": {"account": account_number}})
        return customer.id

    def create_setup_intent(self, customer_ref: str, kind: str,
                            currency: str = "") -> tuple[str, str]:
        intent = self._call(self.client.v1.setup_intents.create,
                            params=setup_intent_params(customer_ref, kind, currency))
        return intent.id, intent.client_secret

    def get_method(self, method_ref: str) -> MethodInfo:
        return self._method_info(self._call(self.client.v1.payment_methods.retrieve, method_ref))

    def attach_method(self, method_ref: str, customer_ref: str) -> MethodInfo:
        method = self._call(self.client.v1.payment_methods.retrieve, method_ref)
        if not _attr(method, "customer"):
            method = self._call(self.client.v1.payment_methods.attach, method_ref,
                                params={"customer": customer_ref})
        return self._method_info(method)

    def detach_method(self, method_ref: str) -> None:
        try:
            self._call(self.client.v1.payment_methods.detach, method_ref)
        except GatewayUnavailable:
            raise
        except GatewayError:
            pass  # already detached or gone: nothing to do

    @staticmethod
    def _method_info(method) -> MethodInfo:
        kind = method.type
        if kind == "card":
            card = method.card
            return MethodInfo(method.id, "card", _attr(card, "brand", ""), _attr(card, "last4", ""),
                              _attr(card, "exp_month"), _attr(card, "exp_year"),
                              _attr(method, "customer"))
        details = _attr(method, kind)
        bank = _attr(details, "bank_name", "") or _attr(details, "bank_code", "") or ""
        return MethodInfo(method.id, kind, str(bank)[:32],
                          _attr(details, "last4", "") or "", None, None, _attr(method, "customer"))

    # -- payments ---------------------------------------------------------------------------
    def create_payment(self, *, amount_minor: int, currency: str, customer_ref: str,
                       method_ref: str, kind: str, idempotency_key: str,
                       metadata: dict) -> PaymentResult:
        intent = self._call(self.client.v1.payment_intents.create, params={
            "amount": amount_minor, "currency": currency.lower(), "customer": customer_ref,
            "payment_method": method_ref, "payment_method_types": [kind],
            "metadata": {k: str(v) for k, v in metadata.items()},
        }, options={"idempotency_key": idempotency_key})
        return self._result(intent)

    def confirm_payment(self, payment_ref: str, *, idempotency_key: str,
                        off_session: bool) -> PaymentResult:
        params = {"off_session": True} if off_session and not self.settings.local else {}
        try:
            intent = self._call(self.client.v1.payment_intents.confirm, payment_ref,
                                params=params, options={"idempotency_key": idempotency_key})
        except GatewayUnavailable:
            raise
        except GatewayError:
            # A decline is raised as an error; the PaymentIntent says what happened.
            return self.get_payment(payment_ref)
        return self._result(intent)

    def cancel_payment(self, payment_ref: str) -> PaymentResult:
        try:
            return self._result(self._call(self.client.v1.payment_intents.cancel, payment_ref))
        except GatewayUnavailable:
            raise
        except GatewayError:
            return self.get_payment(payment_ref)  # already succeeded or failed: say which

    def get_payment(self, payment_ref: str) -> PaymentResult:
        return self._result(self._call(self.client.v1.payment_intents.retrieve, payment_ref))

    @staticmethod
    def _result(intent) -> PaymentResult:
        status = intent.status
        error = _attr(intent, "last_payment_error")
        code = _attr(error, "code", "") if error else ""
        message = _attr(error, "message", "") if error else ""
        if status == "requires_payment_method" and error:
            status = "failed"
        return PaymentResult(ref=intent.id, status=status, amount_minor=int(intent.amount),
                             client_secret=_attr(intent, "client_secret", ""),
                             failure_code=code or "", failure_message=message or "")

    # -- refunds ----------------------------------------------------------------------------
    def refund(self, payment_ref: str, *, amount_minor: int, idempotency_key: str,
               metadata: dict) -> RefundResult:
        refund = self._call(self.client.v1.refunds.create, params={
            "payment_intent": payment_ref, "amount": amount_minor,
            "metadata": {**{k: str(v)[:500] for k, v in metadata.items()},
                         "idempotency_key": idempotency_key},
        }, options={"idempotency_key": idempotency_key})
        return self._refund_result(refund)

    def find_refund(self, payment_ref: str, idempotency_key: str) -> RefundResult | None:
        refunds = self._call(self.client.v1.refunds.list,
                             params={"payment_intent": payment_ref, "limit": 100})
        for refund in refunds.data:
            metadata = _attr(refund, "metadata")
            if metadata is not None and _attr(metadata, "idempotency_key") == idempotency_key:
                return self._refund_result(refund)
        return None

    @staticmethod
    def _refund_result(refund) -> RefundResult:
        return RefundResult(ref=refund.id, status=_attr(refund, "status", "pending"),
                            amount_minor=int(refund.amount),
                            failure_message=str(_attr(refund, "failure_reason", "") or ""))

    # -- webhooks ---------------------------------------------------------------------------
    def parse_webhook(self, payload: bytes, signature: str) -> GatewayEvent:
        secret = self.settings.webhook_secret
        if not secret:
            raise SignatureError("no webhook secret configured")
        if not signature or not signature.isascii():  # compare_digest raises on non-ASCII
            raise SignatureError("no or unreadable signature header")
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
        except stripe.SignatureVerificationError as error:
            raise SignatureError(str(error)) from error
        except (ValueError, AttributeError, TypeError, KeyError) as error:
            # Signed, but not UTF-8 JSON of an event object.
            raise MalformedEvent(f"malformed event: {error}") from error
        try:
            return self._event(event)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as error:
            raise MalformedEvent(f"malformed event: {error}") from error

    @staticmethod
    def _event(event) -> GatewayEvent:
        obj = event.data.object
        object_type = _attr(obj, "object", "")
        amount = 0
        if object_type == "payment_intent":
            ref = obj.id
        elif object_type == "charge":
            ref = _attr(obj, "payment_intent", "") or ""
            amount = int(_attr(obj, "amount_refunded", 0))
        elif object_type == "dispute":
            ref = _attr(obj, "payment_intent", "") or ""
            amount = int(_attr(obj, "amount", 0))
        else:
            ref = _attr(obj, "id", "") or ""
        parsed = GatewayEvent(id=event.id, type=event.type, object_ref=ref,
                              created=int(_attr(event, "created", 0)), amount_minor=amount)
        # As long as the WebhookEvent columns allow (PostgreSQL refuses longer ones).
        limits = ((parsed.id, 120), (parsed.type, 64), (parsed.object_ref, 120))
        if not all(isinstance(t, str) and len(t) <= n and t.isprintable() and t.isascii()
                   for t, n in limits) or not parsed.id \
                or not -2**63 <= parsed.created < 2**63 or not 0 <= amount < 2**63:
            raise ValueError("ids must be short strings, numbers within 64 bits")
        return parsed

