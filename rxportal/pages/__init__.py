"""Pages: functions returning components, registered by their decorators. Every module (and
sub-package) here is imported by `import_all()` when the app starts."""
from __future__ import annotations

import importlib
import pkgutil


def import_all() -> None:
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(module.name)
