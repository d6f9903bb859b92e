"""The demo staff user: admin / correct-horse-admin, an administrator. Its authenticator
(TOTP) is enrolled at the first login."""
from __future__ import annotations

from sqlmodel import Session

from rxportal.models.staff import StaffUser
from rxportal.services import passwords

ORDER = 90
DEMO_STAFF_PASSWORD = "correct-horse-admin"


def load(session: Session, ctx: dict) -> None:
    admin = StaffUser(username="admin", role="administrator",
                      password_hash=passwords.hash_password(DEMO_STAFF_PASSWORD))
    session.add(admin)
    session.flush()
    ctx["staff_admin"] = admin
