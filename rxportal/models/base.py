"""Column helpers shared by every table."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Aware UTC timestamp (SQLModel's datetime columns require one); shown in the ISP's zone."""
    return datetime.now(timezone.utc)


def bulk_rows(model, rows: list[dict]) -> list[dict]:
    """Rows for one bulk INSERT of `model`, completed with its defaults: SQLModel keeps defaults
    in Python (not in the table), and a bulk insert skips building the objects that apply them.
    Default timestamps are taken once, so every row of the batch gets the same one."""
    from pydantic_core import PydanticUndefined

    defaults = {}
    for name, info in model.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            defaults[name] = info.default_factory()
        elif info.default is not PydanticUndefined:
            defaults[name] = info.default
    return [{**defaults, **row} for row in rows]
