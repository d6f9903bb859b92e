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


def form_fields(form: dict) -> dict:
    """A submitted form as a browser sends it: text values only. A hand-made websocket message
    can put numbers, lists or nulls there, which the handlers (written for text) must not see:
    numbers become their text, a ticked box "on", anything else is left out."""
    fields = {}
    for key, value in form.items():
        if key == REFLEX_FORM_DATA:  # how Reflex's browser code sends a form: [[name, value]]
            fields[key] = [[name, text] for name, text in _pairs(value)]
        elif isinstance(value, bool):
            if value:
                fields[str(key)] = "on"
        elif isinstance(value, (str, int, float)):
            fields[str(key)] = value if isinstance(value, str) else str(value)
    return fields


REFLEX_FORM_DATA = "__reflex_form_data__"


def _pairs(entries: Any):
    """The (name, value) pairs of Reflex's form data that are text, numbers made text."""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
            value = entry[1]
            if isinstance(value, bool):  # a ticked Radix checkbox or switch
                if value:
                    yield entry[0], "on"
            elif isinstance(value, str):
                yield entry[0], value
            elif isinstance(value, (int, float)):
                yield entry[0], str(value)


def as_received(payload: Any) -> Any:
    """An event's payload as handlers get it: well-formed text, and every handler argument named
    `form` (the portal's convention for an `on_submit` handler) holding text fields only."""
    payload = well_formed(payload)
    if isinstance(payload, dict) and isinstance(payload.get("form"), dict):
        payload = {**payload, "form": form_fields(payload["form"])}
    return payload


def _event_as_received(data: Any) -> Any:
    if not isinstance(data, dict):
        return well_formed(data)
    payload = data.get("payload")
    data = well_formed({k: v for k, v in data.items() if k != "payload"})
    if payload is not None:
        data["payload"] = as_received(payload)
    return data


def guard_reflex_events() -> None:
    """Every websocket event's payload made well-formed before any handler sees it."""
    from reflex.app import EventNamespace

    on_event = EventNamespace.on_event
    if getattr(on_event, "_rxportal_well_formed", False):
        return

    async def on_well_formed_event(self, sid: str, data: Any):
        return await on_event(self, sid, _event_as_received(data))

    on_well_formed_event._rxportal_well_formed = True
    EventNamespace.on_event = on_well_formed_event
