"""HTTP routes beside the Reflex app (webhooks, the JSON API, file downloads). Each module in
this package exposes `routes`, a list of Starlette routes; they are mounted in front of Reflex."""
from __future__ import annotations

import importlib
import pkgutil

from starlette.applications import Starlette
from starlette.middleware import Middleware

# Sent with every answer, pages included. The Content-Security-Policy, which depends on where
# Stripe.js comes from, is set by the reverse proxy (see deploy/nginx.conf).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class CacheHashedAssets:
    """ASGI middleware: the build's /assets/ files carry a content hash in their name, so a
    browser may keep them for a year (a new build links new names); Reflex sends no
    Cache-Control, which makes every visit download the scripts and the stylesheet again."""

    HEADER = (b"cache-control", b"public, max-age=31536000, immutable")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/assets/"):
            return await self.app(scope, receive, send)

        async def send_with_cache(message):
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [*message.get("headers", []), self.HEADER]
            await send(message)

        return await self.app(scope, receive, send_with_cache)


def build_api() -> Starlette:
    routes = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        routes.extend(importlib.import_module(f"{__name__}.{module.name}").routes)
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders),
                                                  Middleware(CacheHashedAssets)])
