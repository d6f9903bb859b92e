"""Demo data for `make run` and the tests. Each module here has ORDER and
`load(session, ctx)`; ctx carries what earlier modules made (ctx["demo"], ctx["demo2"] are
the two demo accounts). Modules run in ORDER."""
from __future__ import annotations

import importlib
import pkgutil

from sqlmodel import Session

DEMO_PASSWORD = "correct-horse-demo"


def load_all(session: Session) -> dict:
    modules = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    ctx: dict = {}
    for module in sorted(modules, key=lambda m: m.ORDER):
        module.load(session, ctx)
        session.flush()
    return ctx
