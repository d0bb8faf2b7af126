"""Time source for records: timezone-aware UTC datetimes (SQLModel stores them as UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, with tzinfo."""
    return datetime.now(UTC)
