"""The time the bot's schedules run on: reminders, prompts and sweeps ask this clock, never the system.

Production uses the real UTC time; tests pass a clock they move by hand, so a week of meetings runs in
a second and the scheduler, the outbox and the handlers all agree on what "now" is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """The real time in UTC."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, UTC."""
        return datetime.now(UTC)


class ManualClock(Clock):
    """A clock that only moves when told to (for tests and simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward; the new moment."""
        if delta < timedelta(0):
            raise ValueError("the clock does not go back")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to a moment (a test sets its start this way, then moves forward)."""
        if moment.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware moment")
        self._now = moment.astimezone(UTC)
