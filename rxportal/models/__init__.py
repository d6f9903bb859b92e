"""SQLModel tables. One module per area; every module here is imported so that the metadata
(used by migrations and by tests) always holds every table."""
import importlib
import pkgutil

from sqlmodel import SQLModel

from rxportal.models.base import utcnow  # noqa: F401
from rxportal.models.core import *  # noqa: F401,F403

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

metadata = SQLModel.metadata
