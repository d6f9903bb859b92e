"""Outbox attachments (added for signed contracts): files under the data folder, read when the
message is sent; messages without attachments are unchanged."""
from __future__ import annotations

import pytest
from sqlmodel import select

from rxportal import config
from rxportal.models import OutboxMail
from rxportal.services import mail


def test_a_message_without_attachments_has_none(session, smtp_server):
    queued = mail.queue(session, "a@example.net", "password_changed", "en", username="a")
    assert queued.attachments is None
    assert mail.deliver(session, queued.id)
    [message] = smtp_server.to("a@example.net")
    assert list(message.iter_attachments()) == []


def test_a_stored_file_is_attached_when_the_message_is_sent(session, smtp_server):
    folder = config.get().data_dir / "files"
    folder.mkdir()
    (folder / "doc.pdf").write_bytes(b"%PDF-1.4 test")
    queued = mail.queue(session, "b@example.net", "password_changed", "fr", username="b",
                        attachments=[{"path": "files/doc.pdf", "filename": "contrat.pdf",
                                      "mime": "application/pdf"}])
    assert mail.deliver(session, queued.id)
    [message] = smtp_server.to("b@example.net")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "contrat.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"


def test_a_missing_file_keeps_the_message_queued_for_a_retry(session, smtp_server):
    queued = mail.queue(session, "c@example.net", "password_changed", "en", username="c",
                        attachments=[{"path": "files/gone.pdf"}])
    assert not mail.deliver(session, queued.id)
    row = session.exec(select(OutboxMail).where(OutboxMail.id == queued.id)).one()
    assert row.status == "queued" and row.attempts == 1 and "gone.pdf" in row.last_error
    assert smtp_server.to("c@example.net") == []


@pytest.mark.parametrize("path", ["/etc/passwd", "../secret.txt", "files/../../x"])
def test_attachments_outside_the_data_folder_are_refused(session, path):
    with pytest.raises(ValueError):
        mail.queue(session, "d@example.net", "password_changed", "en", username="d",
                   attachments=[{"path": path}])
