"""The sequence of a pair's meetings and the times around them, as pure functions of data.

organisational → trial working → planning → regular (every `cadence_days` until the final is due) → final.
A programme may drop steps or change the cadence (`MeetingSettings`). Times are UTC in and out; local
times (quiet hours, holidays) are computed in the organisation's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STEPS = ("organisational", "trial", "planning", "regular", "final")
GROUP_FINAL = "group_final"
CADENCES = (7, 14, 30)  # weekly, fortnightly, monthly


@dataclass(frozen=True)
class MeetingSettings:
    """How a programme runs its meetings (the defaults are the methodology's)."""

    programme_id: int
    steps: tuple[str, ...] = STEPS
    cadence_days: int = 14
    reminder_minutes: tuple[int, ...] = (1440, 60)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    schedule_within_days: int = 7
    inactivity_days: int = 21
    notify_parents: bool = False
    holidays: tuple[tuple[date, date], ...] = field(default=())

    def __post_init__(self) -> None:
        unknown = [s for s in self.steps if s not in STEPS]
        if unknown or len(set(self.steps)) != len(self.steps) or not self.steps:
            raise ValueError(f"steps must be distinct, in {STEPS}: {self.steps}")
        if list(self.steps) != sorted(self.steps, key=STEPS.index):
            raise ValueError("steps keep the methodology's order")
        if self.cadence_days not in CADENCES:
            raise ValueError(f"cadence must be one of {CADENCES}")


@dataclass(frozen=True)
class Done:
    """A logged meeting as the sequence sees it."""

    step: str
    held: bool
    starts_at: datetime


def next_step(settings: MeetingSettings, done: Sequence[Done], programme_end: date) -> str | None:
    """The step due next for a pair, or None when the final meeting has been held.

    Each step but `regular` is due once, in order, until held. After the planning meeting, regular meetings
    repeat every `cadence_days`; the final is due once the next regular one would fall within a cadence
    of the programme's end (or when there is no regular step)."""
    held = [d for d in done if d.held]
    held_steps = {d.step for d in held}
    if "final" in held_steps:
        return None
    for step in settings.steps:
        if step == "regular":
            last = max((d.starts_at for d in held), default=None)
            if last is not None and last.date() + timedelta(days=2 * settings.cadence_days) > programme_end:
                continue  # no room for another regular meeting before the end: the final is next
            return "regular"
        if step not in held_steps:
            return step
    return None


def due_by(settings: MeetingSettings, step: str, previous: datetime | None, now: datetime) -> datetime:
    """When a step should be scheduled by: a regular meeting a cadence after the previous meeting, any other
    step within `schedule_within_days` of becoming due (`now` when nothing was held yet)."""
    start = previous or now
    if step == "regular":
        return start + timedelta(days=settings.cadence_days)
    return start + timedelta(days=settings.schedule_within_days)


def in_holidays(day: date, holidays: Sequence[tuple[date, date]]) -> bool:
    """Whether a local date falls in one of the programme's holidays (inclusive)."""
    return any(first <= day <= last for first, last in holidays)


def in_quiet_hours(moment: datetime, settings: MeetingSettings, timezone: str) -> bool:
    """Whether a UTC moment is in the quiet hours of the organisation's time zone."""
    local = moment.astimezone(ZoneInfo(timezone)).time()
    start, end = settings.quiet_start, settings.quiet_end
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def out_of_quiet_hours(moment: datetime, settings: MeetingSettings, timezone: str) -> datetime:
    """The first moment at or after `moment` outside quiet hours (the quiet end, local time)."""
    if not in_quiet_hours(moment, settings, timezone):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day = local.date() if local.time() < settings.quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(day, settings.quiet_end, tzinfo=zone).astimezone(moment.tzinfo)


def before_quiet_hours(moment: datetime, settings: MeetingSettings, timezone: str) -> datetime:
    """The last moment before the quiet hours that contain `moment` (a minute before they start)."""
    if not in_quiet_hours(moment, settings, timezone):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day = local.date() if local.time() >= settings.quiet_start else local.date() - timedelta(days=1)
    start = datetime.combine(day, settings.quiet_start, tzinfo=zone) - timedelta(minutes=1)
    return start.astimezone(moment.tzinfo)


def reminder_times(
    starts_at: datetime, settings: MeetingSettings, timezone: str, now: datetime
) -> list[tuple[int, datetime]]:
    """(minutes before, UTC moment) of each reminder of a meeting, never in quiet hours: a reminder that
    would fall in them comes at their end if that is still before the meeting, else just before they
    begin. Reminders whose moment has passed, or that would come twice at once, are left out."""
    found: list[tuple[int, datetime]] = []
    for minutes in sorted(set(settings.reminder_minutes), reverse=True):
        at = starts_at - timedelta(minutes=minutes)
        if in_quiet_hours(at, settings, timezone):
            later = out_of_quiet_hours(at, settings, timezone)
            at = later if later < starts_at else before_quiet_hours(at, settings, timezone)
        if at <= now or at >= starts_at or any(at == other for _m, other in found):
            continue
        found.append((minutes, at))
    return found


def log_prompt_time(starts_at: datetime, minutes: int, settings: MeetingSettings, timezone: str) -> datetime:
    """When the mentor is asked how the meeting went: at its end, or after the quiet hours."""
    return out_of_quiet_hours(starts_at + timedelta(minutes=minutes), settings, timezone)


def local_moment(day: date, at: time, timezone: str) -> datetime:
    """A local date and time of the organisation as a UTC moment (a nonexistent time moves forward)."""
    zone = ZoneInfo(timezone)
    local = datetime.combine(day, at, tzinfo=zone)
    # Round-trip through UTC to normalise times skipped by a clock change.
    return local.astimezone(ZoneInfo("UTC"))
