"""Backend HTTP routes for billing: the Stripe webhook endpoint.

Mounted in front of the Reflex backend by rxportal.api.build_api (this module's `routes`). POST /api/billing/stripe-webhook: the signature is verified with
STRIPE_WEBHOOK_SECRET; a bad one gets 400 and changes nothing; each event is applied once
(services.payments.handle_event) and answered 200 even when it is a redelivery, so Stripe stops
sending it; an error answers 500 so Stripe delivers it again later.
"""
from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rxportal import db
from rxportal.services import payments
from rxportal.services.gateway import MalformedEvent, SignatureError, get_gateway

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/api/billing/stripe-webhook"
MAX_BODY = 256 * 1024


def _apply(payload: bytes, signature: str) -> tuple[int, dict]:
    gateway = get_gateway()
    try:
        event = gateway.parse_webhook(payload, signature)
    except MalformedEvent:
        return 400, {"error": "malformed event"}
    except SignatureError:
        return 400, {"error": "bad signature"}
    with db.session_scope() as session:
        result = payments.handle_event(session, event, gateway.name)
    return 200, {"received": True, "result": result}


async def stripe_webhook(request: Request) -> JSONResponse:
    payload = await request.body()
    if len(payload) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        status, body = await run_in_threadpool(
            _apply, payload, request.headers.get("stripe-signature", ""))
    except Exception:  # noqa: BLE001 - Stripe retries on any non-2xx answer
        log.exception("webhook failed")
        return JSONResponse({"error": "retry later"}, status_code=500)
    return JSONResponse(body, status_code=status)


async def stripe_config(_request: Request) -> JSONResponse:
    """What the browser needs to load Stripe.js: public values only."""
    from rxportal.services.gateway import stripe_settings

    settings = stripe_settings()
    return JSONResponse({"publishable_key": settings.publishable_key, "js_url": settings.js_url},
                        headers={"Cache-Control": "no-store"})


routes = [Route(WEBHOOK_PATH, stripe_webhook, methods=["POST"]),
          Route("/api/billing/stripe-config", stripe_config, methods=["GET"])]
