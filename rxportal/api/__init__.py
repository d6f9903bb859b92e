"""HTTP routes beside the Reflex app (webhooks, the JSON API, file downloads). Each module in
this package exposes `routes`, a list of Starlette routes; they are mounted in front of Reflex."""
from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

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


class PagesWithoutRedirect:
    """ASGI middleware: `/billing` is answered with the page the build prerendered for it.

    The build writes each page as `<route>/index.html`, and Reflex's static server answers a
    folder's name without its slash with a 307 to `/billing/`: on a phone's network that is a
    round trip before the first byte of every page opened from a bookmark or a typed address.
    The address stays as it was; the router in the browser treats both forms alike."""

    def __init__(self, app, static_dir: Path | None = None):
        self.app = app
        self.static_dir = static_dir

    def _pages(self) -> Path:
        if self.static_dir is None:
            from reflex import constants
            from reflex.config import get_config
            from reflex.utils import prerequisites

            self.static_dir = (prerequisites.get_web_dir() / constants.Dirs.STATIC
                               / get_config().frontend_path.strip("/"))
        return self.static_dir

    @functools.lru_cache(maxsize=256)
    def _prerendered(self, path: str) -> bool:
        """Whether `path` (no trailing slash) is a folder holding a prerendered page."""
        return (self._pages() / path.strip("/") / "index.html").is_file()

    async def __call__(self, scope, receive, send):
        if (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
                and self._is_page_name(scope["path"]) and self._prerendered(scope["path"])):
            scope = {**scope, "path": scope["path"] + "/"}
            if scope.get("raw_path"):
                scope["raw_path"] += b"/"
        return await self.app(scope, receive, send)

    @staticmethod
    def _is_page_name(path: str) -> bool:
        last = path.rsplit("/", 1)[-1]
        return (len(path) > 1 and not path.endswith("/") and "." not in last
                and ".." not in path and not path.startswith(("/_", "/assets/")))


def build_api() -> Starlette:
    routes = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        routes.extend(importlib.import_module(f"{__name__}.{module.name}").routes)
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders),
                                                  Middleware(CacheHashedAssets),
                                                  Middleware(PagesWithoutRedirect)])
