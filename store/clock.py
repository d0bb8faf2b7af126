"""Time source for records: timezone-aware UTC datetimes (SQLModel stores them as UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, with tzinfo."""
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """A stored timestamp as UTC-aware (SQLite hands stored UTC times back naive)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
