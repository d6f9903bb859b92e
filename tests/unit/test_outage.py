"""The outage handler: lost connections to PostgreSQL or Redis get the plain message (and the
forms re-enabled, or a reload for Redis); any other error keeps Reflex's own handling."""
import redis
import sqlalchemy.exc

from rxportal import outage


def _payloads(events) -> str:
    return repr(events)


def test_a_lost_database_connection_is_an_outage_even_when_wrapped():
    lost = sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("connection refused"))
    try:
        try:
            raise lost
        except sqlalchemy.exc.OperationalError as error:
            raise RuntimeError("handler failed") from error
    except RuntimeError as wrapped:
        assert outage.is_outage(wrapped)
    assert outage.is_outage(redis.ConnectionError("down"))
    assert not outage.is_outage(ValueError("a bug"))
    assert not outage.is_outage(sqlalchemy.exc.IntegrityError("INSERT", {}, Exception()))


def test_database_outage_re_enables_forms_and_says_nothing_was_saved():
    events = outage.backend_exception_handler(
        sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("refused")))
    text = _payloads(events)
    assert "forms_ready" in text and "briefly unavailable" in text and "Nothing was saved" in text
    assert "reload" not in text


def test_redis_outage_reloads_the_page_once_it_is_back():
    text = _payloads(outage.backend_exception_handler(redis.ConnectionError("down")))
    assert "briefly unavailable" in text and "window.location.reload" in text


def test_other_errors_keep_reflex_default_message():
    text = _payloads(outage.backend_exception_handler(ValueError("a bug")))
    assert "An error occurred." in text and "briefly unavailable" not in text
