"""HTTP routes beside the Reflex app (webhooks, the JSON API, file downloads). Each module in
this package exposes `routes`, a list of Starlette routes; they are mounted in front of Reflex."""
from __future__ import annotations

import importlib
import pkgutil

from starlette.applications import Starlette


def build_api() -> Starlette:
    routes = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        routes.extend(importlib.import_module(f"{__name__}.{module.name}").routes)
    return Starlette(routes=routes)
