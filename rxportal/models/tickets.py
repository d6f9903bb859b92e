"""Support tickets: a conversation between an account and the ISP's support mailbox, whichever
side writes and whether from the portal or by e-mail; and mail read from that mailbox that was
not added to any conversation (kept for staff to look at)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from rxportal.models.base import utcnow

__all__ = ["Ticket", "TicketMessage", "TicketAttachment", "InboundMail"]

# Raw mails and attachments may be megabytes: LONGBLOB on MySQL/MariaDB (BLOB stops at 64 KB).
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
# Mail text may pass 64 KB (MySQL/MariaDB TEXT): MEDIUMTEXT there (16 MB).
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

STATUS_AWAITING_RESPONSE = "awaiting_response"  # the ISP answered last
STATUS_WAITING_FOR_ISP = "waiting_for_isp"  # the customer wrote last
STATUS_CLOSED = "closed"


class Ticket(SQLModel, table=True):
    # The list pages one account's tickets by last activity (the index gives that order).
    __table_args__ = (UniqueConstraint("account_id", "client_key", name="uq_ticket_client_key"),
                      Index("ix_ticket_account_activity", "account_id", "last_activity_at", "id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    number: Optional[int] = Field(default=None, index=True, unique=True)  # shown as #n
    account_id: int = Field(foreign_key="account.id", index=True)
    subject: str = Field(max_length=200)
    status: str = Field(default=STATUS_WAITING_FOR_ISP, max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: Optional[datetime] = None
    # A reply to a ticket closed too long ago starts a new ticket that refers to the old one.
    previous_ticket_id: Optional[int] = Field(default=None, foreign_key="ticket.id")
    # Set by the browser's form: a double click or a resubmitted form finds the same ticket.
    client_key: Optional[str] = Field(default=None, max_length=64)


class TicketMessage(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("ticket_id", "client_key", name="uq_ticketmessage_client_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author_kind: str = Field(max_length=16)  # customer | isp
    author_name: str = Field(default="", max_length=200)
    author_email: str = Field(default="", max_length=254)
    via: str = Field(default="portal", max_length=16)  # portal | email
    body_text: str = Field(sa_column=Column(LongText, nullable=False))
    # HTML of a mail, sanitized (nh3) with remote images removed; empty for portal messages.
    body_html: str = Field(default="", sa_column=Column(LongText, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # Message-ID of the mail this message was (or went out as): each mail is stored once.
    message_id: str = Field(index=True, unique=True, max_length=255)
    in_reply_to: str = Field(default="", max_length=255)
    # The original mail, byte for byte, for messages that arrived by e-mail.
    raw: Optional[bytes] = Field(default=None, sa_column=Column(Blob, nullable=True))
    client_key: Optional[str] = Field(default=None, max_length=64)


class TicketAttachment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="ticketmessage.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)  # from the content, never from the name
    size: int
    data: bytes = Field(sa_column=Column(Blob, nullable=False))


class InboundMail(SQLModel, table=True):
    """Every mail read from the support mailbox, by Message-ID, with what was done with it:
    so the same mail is never processed twice, and staff can see why one was not added."""
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: str = Field(index=True, unique=True, max_length=255)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    from_addr: str = Field(default="", max_length=254)
    subject: str = Field(default="", max_length=300)
    # added | own | auto_reply | bounce | unknown_sender | other_account | no_ticket | too_large
    outcome: str = Field(max_length=20, index=True)
    ticket_id: Optional[int] = Field(default=None, foreign_key="ticket.id")
    detail: str = Field(default="", max_length=300)
