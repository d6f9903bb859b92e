"""Column helpers shared by every table."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Aware UTC timestamp (SQLModel's datetime columns require one); shown in the ISP's zone."""
    return datetime.now(timezone.utc)
