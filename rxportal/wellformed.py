"""Text from outside (the websocket's JSON, the JSON API) may hold lone surrogates: JSON's
"\\ud800" escape decodes to one, and no UTF-8 encoder (the database driver, bcrypt, hmac, the
mail) accepts it, so it would fail deep inside a service instead of being refused or kept as
text. Every such code point is replaced by U+FFFD where the input arrives, as a browser does
when it encodes a form."""
from __future__ import annotations

import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a valid pair is one code point in Python


def well_formed(value: Any) -> Any:
    """`value` with lone surrogates replaced, in strings, lists and dicts (keys too)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [well_formed(v) for v in value]
    if isinstance(value, dict):
        return {well_formed(k): well_formed(v) for k, v in value.items()}
    return value


def guard_reflex_events() -> None:
    """Every websocket event's payload made well-formed before any handler sees it."""
    from reflex.app import EventNamespace

    on_event = EventNamespace.on_event
    if getattr(on_event, "_rxportal_well_formed", False):
        return

    async def on_well_formed_event(self, sid: str, data: Any):
        return await on_event(self, sid, well_formed(data))

    on_well_formed_event._rxportal_well_formed = True
    EventNamespace.on_event = on_well_formed_event
