"""Conversions between SQLite text columns and Python values."""

from __future__ import annotations

from datetime import date, datetime


def ts(value: datetime) -> str:
    """A timezone-aware datetime as stored (ISO, UTC)."""
    return value.isoformat()


def parse_ts(value: str | None) -> datetime | None:
    """A stored timestamp back to an aware datetime."""
    return datetime.fromisoformat(value) if value else None


def parse_date(value: str) -> date:
    """A stored ISO date."""
    return date.fromisoformat(value)
