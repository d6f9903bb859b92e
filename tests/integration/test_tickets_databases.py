"""Tickets on the real PostgreSQL and MariaDB this machine runs: migrations, a large mail
(MEDIUMTEXT / LONGBLOB on MariaDB), attachments, the idempotent create and the list."""
import contextlib
import uuid

import pytest
from sqlalchemy import create_engine, text

SERVERS = {
    "postgresql": ("postgresql://postgres@127.0.0.1:5432/postgres",
                   "postgresql://postgres@127.0.0.1:5432/{name}"),
    "mariadb": ("mysql+pymysql://root@127.0.0.1:3306/mysql",
                "mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"),
}


@contextlib.contextmanager
def new_database(kind: str, monkeypatch):
    """A new database on this machine's server of that kind, DATABASE_URL pointing at it,
    dropped after."""
    admin_url, url_pattern = SERVERS[kind]
    name = f"rxportal_tickets_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quote = '"' if kind == "postgresql" else "`"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    url = url_pattern.format(name=name)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        yield url
    finally:
        from rxportal import db

        db.engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        admin.dispose()


@pytest.fixture(params=sorted(SERVERS))
def server_url(request, monkeypatch, data_dir):
    with new_database(request.param, monkeypatch) as url:
        yield url


def test_tickets_and_a_large_mail_on_the_server(server_url):
    from rxportal import db
    from rxportal.models import Account
    from rxportal.services import migrations, ticket_mail, tickets

    migrations.upgrade()
    assert migrations.pending_differences() == []
    pdf = b"%PDF-1.4\n" + b"x" * 3_000_000
    with db.session_scope() as session:
        account = Account(number="9", name="Zoé", email="zoe@example.org")
        session.add(account)
        session.flush()
        first = tickets.create_ticket(session, account.id, "Wi-Fi", "Ça ne marche pas",
                                      client_key="form-key-1", upload=tickets.Upload("a.pdf", pdf))
        again = tickets.create_ticket(session, account.id, "Wi-Fi", "Ça ne marche pas",
                                      client_key="form-key-1")
        assert again.id == first.id
        raw = (b"From: zoe@example.org\r\nTo: support@example.net\r\n"
               b"Subject: [Ticket #%d] Wi-Fi\r\nMessage-ID: <big@example.org>\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n\r\n" % first.number
               + "é".encode() * 2_600_000)
        assert ticket_mail.process(session, raw).outcome == "added"
        account_id, ticket_id = account.id, first.id
    with db.session_scope() as session:
        rows, total = tickets.list_tickets(session, account_id)
        assert total == 1 and rows[0]["subject"] == "Wi-Fi"
        views = tickets.conversation(session, account_id, ticket_id)
        assert views[0].text == "Ça ne marche pas"
        assert views[1].text.startswith("éé") and views[1].text.endswith("[…]")
        assert tickets.get_attachment(session, account_id,
                                      views[0].attachments[0]["id"]).data == pdf
        assert ticket_mail.process(session, raw).outcome == "duplicate"
