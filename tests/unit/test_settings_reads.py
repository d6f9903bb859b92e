"""ISP settings are read once per database transaction (one statement for all of them), and a
change is seen at once in the session that made it and by every transaction after it."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from rxportal import db
from rxportal.services import settings


@pytest.fixture()
def statements():
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if "FROM setting" in statement:
            seen.append(statement)

    event.listen(db.get_engine(), "before_cursor_execute", count)
    yield seen
    event.remove(db.get_engine(), "before_cursor_execute", count)


def test_one_statement_reads_every_setting_of_a_transaction(session, statements):
    settings.get(session, "country")
    settings.get_many(session, ["isp_name", "page_usage"])
    settings.get(session, "default_language")
    assert len(statements) == 1


def test_a_change_is_seen_in_its_session_and_after_it_by_the_others(session, statements):
    assert settings.get(session, "isp_name") == "Example Internet"
    settings.put(session, "isp_name", "Fibre <b>Nord</b>")
    assert settings.get(session, "isp_name") == "Fibre <b>Nord</b>"
    session.commit()
    with db.session_scope() as other:
        assert settings.get(other, "isp_name") == "Fibre <b>Nord</b>"
        settings.put(other, "isp_name", "Fibre Sud")
    # The first session's next transaction reads again: it sees the other worker's change.
    assert settings.get(session, "isp_name") == "Fibre Sud"


def test_a_change_rolled_back_is_forgotten(session):
    settings.put(session, "country", "FR")
    assert settings.get(session, "country") == "FR"
    session.rollback()
    assert settings.get(session, "country") == "CA"


def test_an_unknown_key_is_refused(session):
    with pytest.raises(KeyError):
        settings.get(session, "no_such_setting")
    with pytest.raises(KeyError):
        settings.put(session, "'; DROP TABLE setting; --", 1)
