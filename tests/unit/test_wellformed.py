"""Lone surrogates (JSON's "\\ud800") are replaced where input arrives: in every websocket event
before a handler sees it, and in the JSON API. Found by fuzzing: such a string failed deep in
the services (database driver, bcrypt, hmac)."""
from __future__ import annotations

import asyncio
import json

from rxportal.wellformed import guard_reflex_events, well_formed


def test_lone_surrogates_become_replacement_characters_everywhere_in_a_payload():
    raw = json.loads('{"a\\ud800": ["x\\udfffy", {"k": "\\ud83d\\ude00"}], "n": 1}')
    assert well_formed(raw) == {"a\ufffd": ["x\ufffdy", {"k": "😀"}], "n": 1}
    assert well_formed("plain ²") == "plain ²"


def test_every_websocket_event_is_made_well_formed_before_reflex_handles_it(monkeypatch):
    from reflex.app import EventNamespace

    seen = []

    async def original(self, sid, data):
        seen.append(data)

    monkeypatch.setattr(EventNamespace, "on_event", original)
    guard_reflex_events()
    guard_reflex_events()  # installed once
    asyncio.run(EventNamespace.on_event(None, "sid", {"payload": {"form": {"x": "\ud800"}}}))
    assert seen == [{"payload": {"form": {"x": "\ufffd"}}}]


def test_the_app_installs_the_guard():
    from reflex.app import EventNamespace

    import rxportal.rxportal  # noqa: F401 - the app module, as Reflex imports it

    assert getattr(EventNamespace.on_event, "_rxportal_well_formed", False)


def test_a_submitted_form_reaches_its_handler_as_text_fields_only(monkeypatch):
    """A hand-made websocket message cannot hand a form handler a number, a list or a null
    where a browser always sends text (found by tests/integration/test_fuzz_handlers.py:
    registration crashed on {"email": 1})."""
    from reflex.app import EventNamespace

    seen = []

    async def original(self, sid, data):
        seen.append(data)

    monkeypatch.setattr(EventNamespace, "on_event", original)
    guard_reflex_events()
    hostile = {"email": 1, "amount": 2.5, "autopay": True, "save": False, "name": None,
               "list": ["a"], "nested": {"k": "v"}, "ok": "text"}
    result = {"empty": False, "data": "x"}  # a script's answer is not a form: left as it is
    asyncio.run(EventNamespace.on_event(None, "sid", {"name": "s.register",
                                                      "payload": {"form": hostile}}))
    asyncio.run(EventNamespace.on_event(None, "sid", {"payload": {"result": result}}))
    assert seen[0] == {"name": "s.register",
                       "payload": {"form": {"email": "1", "amount": "2.5", "autopay": "on",
                                            "ok": "text"}}}
    assert seen[1] == {"payload": {"result": {"empty": False, "data": "x"}}}
    # Reflex's own browser code sends a form as name/value pairs: text kept, the rest dropped.
    pairs = [["username", "demo"], ["n", 2], ["bad", None], [1, "x"], "junk", ["a", "b", "c"],
             ["refuse_common", True], ["unticked", False]]
    asyncio.run(EventNamespace.on_event(None, "sid", {
        "payload": {"form": {"__reflex_form_data__": pairs}}}))
    assert seen[2] == {"payload": {"form": {"__reflex_form_data__": [["username", "demo"],
                                                                      ["n", "2"],
                                                                      ["refuse_common", "on"]]}}}
