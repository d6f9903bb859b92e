"""Staff users of the console at /admin and their sessions. Separate from customer logins:
a customer's session token is never looked up here, so it never opens a staff page."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from rxportal.models.base import utcnow

__all__ = ["StaffUser", "StaffSession", "StaffTicketNote"]

ROLES = ("administrator", "support")


class StaffUser(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    password_hash: str = Field(default="", max_length=100)
    role: str = Field(default="support", max_length=16)  # administrator | support
    # The TOTP secret once enrolled, the pending one while enrolment is under way: both
    # encrypted (services/secrets_store.encrypt, "enc1:..."), never the Base32 text itself.
    totp_secret: str = Field(default="", max_length=255)
    totp_pending_secret: str = Field(default="", max_length=255)
    totp_last_counter: int = Field(default=0)  # a code is accepted once (no replay)
    # SHA-256 of each unused one-time recovery code.
    recovery_codes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: Optional[datetime] = None


class StaffSession(SQLModel, table=True):
    """A staff login; only the SHA-256 of its token is stored. `verified` turns true once the
    second factor (a TOTP code or a recovery code) is checked: until then the session opens
    nothing but the second-factor step, and it expires within minutes."""
    id: Optional[int] = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    verified: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: Optional[datetime] = None
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class StaffTicketNote(SQLModel, table=True):
    """An internal note on a support ticket: staff only, never shown or mailed to the customer
    (kept apart from the ticket's messages for that reason). The ticket id is not a foreign key
    so that this feature's migration does not depend on the tickets feature's."""
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(index=True)
    staff_id: int = Field(foreign_key="staffuser.id")
    author_name: str = Field(default="", max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
