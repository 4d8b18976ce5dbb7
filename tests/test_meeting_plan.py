"""The meeting sequence, reminder times around quiet hours in two time zones, and a meeting's messages:
written with the meeting, moved and cancelled with it, each sent once on the simulated clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher
from icalendar import Calendar

from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import (
    Done,
    MeetingSettings,
    in_holidays,
    in_quiet_hours,
    local_moment,
    next_step,
    reminder_times,
)
from handlers.meeting_notices import compose_cancelled, compose_scheduled
from storage.models import MeetingStatus
from storage.repos import Repositories
from storage.repos.meetings import StaleMeeting
from tests.conftest import manual_clock
from tests.factories import approved_pair, school
from tests.fakeapi import FakeBotAPI
from tests.outbox_helpers import drained

MOSCOW, KAMCHATKA = "Europe/Moscow", "Asia/Kamchatka"
END = date(2027, 5, 31)
SETTINGS = MeetingSettings(1)


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time for these tests."""
    return manual_clock()


def at(day: date, hh: int, mm: int, tz: str) -> datetime:
    return local_moment(day, time(hh, mm), tz)


def test_sequence_five_steps_then_regular_until_the_final() -> None:
    t0 = datetime(2026, 10, 1, 12, tzinfo=UTC)
    done: list[Done] = []
    assert next_step(SETTINGS, done, END) == "organisational"
    done.append(Done("organisational", False, t0))  # not held: still due
    assert next_step(SETTINGS, done, END) == "organisational"
    for n, step in enumerate(("organisational", "trial", "planning")):
        done.append(Done(step, True, t0 + timedelta(days=7 * n)))
    assert next_step(SETTINGS, done, END) == "regular"
    done.append(Done("regular", True, datetime(2027, 5, 10, 12, tzinfo=UTC)))
    assert next_step(SETTINGS, done, END) == "final"  # another fortnight would pass the end
    done.append(Done("final", True, datetime(2027, 5, 20, 12, tzinfo=UTC)))
    assert next_step(SETTINGS, done, END) is None
    short = MeetingSettings(1, steps=("organisational", "planning", "final"))
    assert next_step(short, [Done("organisational", True, t0)], END) == "planning"
    with pytest.raises(ValueError):
        MeetingSettings(1, steps=("final", "organisational"))


def test_reminders_never_in_quiet_hours_in_both_zones() -> None:
    now = datetime(2026, 10, 1, tzinfo=UTC)
    for tz in (MOSCOW, KAMCHATKA):
        # 15:30 local: 24 h and 1 h before are both in the day.
        meeting = at(date(2026, 10, 7), 15, 30, tz)
        assert [(m, t) for m, t in reminder_times(meeting, SETTINGS, tz, now)] == [
            (1440, meeting - timedelta(days=1)), (60, meeting - timedelta(hours=1)),
        ]
        # 08:30 local: the 1 h reminder (07:30) is quiet and moves to 08:00, still before the meeting.
        early = at(date(2026, 10, 7), 8, 30, tz)
        times = dict(reminder_times(early, SETTINGS, tz, now))
        assert times[60] == at(date(2026, 10, 7), 8, 0, tz)
        # 08:00 local: the 1 h reminder comes just before the quiet hours the evening before.
        first = at(date(2026, 10, 7), 8, 0, tz)
        times = dict(reminder_times(first, SETTINGS, tz, now))
        assert times[60] == at(date(2026, 10, 6), 20, 59, tz)
        for moment in (*times.values(), *dict(reminder_times(early, SETTINGS, tz, now)).values()):
            assert not in_quiet_hours(moment, SETTINGS, tz)
    # A reminder whose moment has passed is left out.
    soon = datetime(2026, 10, 1, 12, tzinfo=UTC)
    assert reminder_times(soon, SETTINGS, MOSCOW, soon - timedelta(minutes=30)) == []


def test_holidays_inclusive() -> None:
    autumn = [(date(2026, 10, 26), date(2026, 11, 3))]
    assert in_holidays(date(2026, 10, 26), autumn) and in_holidays(date(2026, 11, 3), autumn)
    assert not in_holidays(date(2026, 11, 4), autumn)


async def test_meeting_messages_follow_the_meeting(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    sch = await school(repos, timezone=KAMCHATKA)
    pair = await approved_pair(repos, sch, 20_001, (10_001,), minor_mentees=True)
    settings = MeetingSettings(sch.programme.id, notify_parents=True)
    await repos.meetings.save_settings(settings, 1)
    clock.set(at(date(2026, 10, 1), 12, 0, KAMCHATKA))
    i18n = dp["i18n"]
    starts = at(date(2026, 10, 7), 15, 30, KAMCHATKA)

    async def scheduled(m):
        return await compose_scheduled(repos, i18n, clock, m)

    meeting = await repos.meetings.schedule(sch.programme.id, pair.id, "organisational", starts, 60,
                                            "Кабинет 12", False, 20_001, scheduled)
    rows = await repos.db.fetchall("SELECT kind, user_id, not_before, expires_at, file_name FROM outbox")
    kinds = sorted((r["kind"], r["user_id"]) for r in rows)
    assert kinds == sorted([
        ("meeting", 10_001), ("meeting", 510_001),
        *[("reminder", u) for u in (20_001, 10_001, 510_001) for _ in (1440, 60)],
        ("log_prompt", 20_001),
    ])
    await drained(repos, due_by=clock.now())
    notice = fake.calls_of("sendDocument", 10_001)[-1]
    assert "Кабинет 12" in notice.params["caption"] and "15:30" in notice.params["caption"]
    event = Calendar.from_ical(notice.files["document"]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == starts and str(event.get("location")) == "Кабинет 12"

    with pytest.raises(StaleMeeting):  # one scheduled meeting per pair at a time
        await repos.meetings.schedule(sch.programme.id, pair.id, "trial", starts, 60, "x", False, 1,
                                      scheduled)

    # Moved: the old reminders are cancelled, the new ones follow the new time.
    later = starts + timedelta(days=1)

    async def moved(m):
        return await compose_scheduled(repos, i18n, clock, m, moved=True)

    meeting = await repos.meetings.move(meeting.id, meeting.version, later, 45, "Онлайн", True, moved)
    with pytest.raises(StaleMeeting):  # a stale screen moving the old version
        await repos.meetings.move(meeting.id, 1, later, 45, "x", True, moved)
    pending = await repos.db.fetchall(
        "SELECT not_before FROM outbox WHERE kind = 'reminder' AND status = 'pending'")
    assert sorted(datetime.fromisoformat(r[0]) for r in pending) == sorted(
        [later - timedelta(days=1)] * 3 + [later - timedelta(hours=1)] * 3)
    assert (await repos.outbox.counts("reminder", meeting.id))["cancelled"] == 6

    # The simulated clock reaches each reminder: each person gets each one once.
    clock.set(later - timedelta(days=1))
    await drained(repos, due_by=clock.now())
    clock.set(later - timedelta(hours=1))
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    for user_id in (20_001, 10_001, 510_001):
        texts = [c.params["text"] for c in fake.calls_of("sendMessage", user_id) if c.ok]
        assert len([t for t in texts if "Reminder" in t or "Напоминание" in t]) == 2, texts

    # The log prompt comes after the end, and a reminder left over for a past meeting is dropped.
    clock.set(later + timedelta(minutes=45))
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    assert (await repos.outbox.counts("log_prompt", meeting.id))["sent"] == 1

    # Cancelling a scheduled meeting cancels what is still pending and tells the mentee and the parent.
    other = await repos.meetings.log(meeting.id, meeting.version, held=True, minutes=45,
                                     compose=lambda m: _none())
    assert other.status is MeetingStatus.HELD
    trial = await repos.meetings.schedule(sch.programme.id, pair.id, "trial", later + timedelta(days=7), 60,
                                          "Кабинет 12", False, 20_001, scheduled)

    async def cancelled(m):
        return await compose_cancelled(repos, i18n, m)

    await repos.meetings.cancel(trial.id, trial.version, cancelled)
    counts = await repos.outbox.counts("reminder", trial.id)
    assert counts["pending"] == 0 and counts["cancelled"] == 6
    await drained(repos, due_by=clock.now())
    assert any("is cancelled" in c.params["text"] or "отменена" in c.params["text"]
               for c in fake.calls_of("sendMessage", 10_001) if c.ok)


async def _none() -> list:
    return []


def test_local_moment_is_utc() -> None:
    moment = local_moment(date(2026, 10, 7), time(15, 30), KAMCHATKA)
    assert moment.tzinfo is not None and moment.astimezone(ZoneInfo(KAMCHATKA)).hour == 15


async def test_reminders_missed_while_down_are_sent_late_or_dropped(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox, bot: Bot
) -> None:
    sch = await school(repos, timezone=MOSCOW)
    pair = await approved_pair(repos, sch, 20_001, (10_001,))
    day = date(2026, 10, 5)
    clock.set(at(day, 12, 0, MOSCOW))
    starts = at(day + timedelta(days=2), 15, 30, MOSCOW)

    async def scheduled(m):
        return await compose_scheduled(repos, dp["i18n"], clock, m)

    meeting = await repos.meetings.schedule(sch.programme.id, pair.id, "organisational", starts, 60,
                                            "Кабинет 12", False, 20_001, scheduled)
    await drained(repos, due_by=clock.now())
    await fast_outbox.stop()  # the bot is down while the 24-hour reminder falls due
    clock.set(at(day + timedelta(days=1), 18, 0, MOSCOW))
    await fast_outbox.start(bot)
    await drained(repos, due_by=clock.now())
    sent = await repos.db.fetchall(
        "SELECT user_id FROM outbox WHERE kind = 'reminder' AND status = 'sent' AND ref = ?", (meeting.id,))
    assert sorted(r[0] for r in sent) == [10_001, 20_001]  # late, but sent: the meeting is still ahead

    await fast_outbox.stop()  # down again until after the meeting started: the 1-hour reminder is dropped
    clock.set(starts + timedelta(minutes=30))
    await fast_outbox.start(bot)
    await drained(repos, due_by=clock.now())
    counts = await repos.outbox.counts("reminder", meeting.id)
    assert counts["expired"] == 2 and counts["sent"] == 2 and counts["pending"] == 0
    for user_id in (10_001, 20_001):
        texts = [c.params["text"] for c in fake.calls_of("sendMessage", user_id) if c.ok]
        assert len([t for t in texts if "Кабинет" in t]) == 1
