"""Issue 4 as it will be tried: two organisations in different time zones (UTC+3 and UTC+12), a pair in each
driven through all five steps by taps on a simulated clock — scheduled from the calendar, moved, cancelled
and scheduled again, reminded, logged, rated — with every reminder counted per person per meeting and none
sent in quiet hours in either zone."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher

from bot.callbacks import MeetingCb
from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import MeetingSettings, in_quiet_hours
from storage.models import MeetingStatus, Pair
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory, manual_clock
from tests.factories import School, approved_pair, school
from tests.outbox_helpers import drained

ZONES = {"Europe/Moscow": (21_001, 11_001), "Asia/Kamchatka": (22_001, 12_001)}
STEPS = ["organisational", "trial", "planning", "regular", "final"]


@pytest.fixture
def clock() -> ManualClock:
    moment = manual_clock()
    moment.set(datetime(2027, 3, 1, 0, 0, tzinfo=UTC))
    return moment


async def deliver(dp: Dispatcher, repos: Repositories, clock: ManualClock) -> None:
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())


async def tick_until(dp: Dispatcher, repos: Repositories, clock: ManualClock, moment: datetime) -> None:
    """Move the clock to `moment`, stopping at every queued message's time on the way (as the running bot,
    which looks at its queue every few seconds, would send it)."""
    while True:
        row = await repos.db.fetchone(
            "SELECT MIN(not_before) FROM outbox WHERE status = 'pending' AND not_before > ? "
            "AND not_before <= ?",
            (clock.now().isoformat(), moment.isoformat()))
        if row[0] is None:
            break
        clock.set(datetime.fromisoformat(row[0]))
        await deliver(dp, repos, clock)
    clock.set(moment)
    await deliver(dp, repos, clock)


async def pick_day(user: TgUser, day: date) -> None:
    """Tap the day in the calendar, turning months with » as a person would."""
    wanted = day.strftime("%Y%m%d")
    for _ in range(3):
        for row in user.last_message.keyboard:
            for button in row:
                if wanted in str(button.get("callback_data", "")) and str(button["text"]) == str(day.day):
                    await user.click_data(str(button["callback_data"]), user.last_message.message_id)
                    return
        await user.click("»")
    raise AssertionError(f"{day} not in the calendar: {user.last_message}")


async def schedule(mentor: TgUser, pair: Pair, day: date, at: str) -> None:
    await mentor.click_data(MeetingCb(action="schedule", pair=pair.id).pack(), 1)
    await pick_day(mentor, day)
    await mentor.send(at)
    await mentor.click("60 min")
    await mentor.click("At school")
    await mentor.send("кабинет 12")
    await mentor.click("Confirm")
    assert mentor.texts[-2].startswith("Saved: the "), mentor.texts[-3:]


async def log_held(mentor: TgUser, step: str) -> None:
    prompt = next(m for m in reversed(mentor.messages) if m.text.startswith("How did the "))
    await mentor.click("Held", prompt)
    await mentor.click("60 min")
    await mentor.click("Conversation")
    await mentor.click("Done")
    await mentor.click("Skip")
    if step == "planning":
        await mentor.send("Подготовиться к олимпиаде\nПрочитать три книги")
    await mentor.click("Save")
    assert mentor.last_text.startswith("Saved: the meeting was held."), mentor.last_text


async def test_two_zones_five_steps_moved_cancelled_reminded_logged(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    people: dict[str, tuple[School, Pair, TgUser, TgUser]] = {}
    for n, (tz, (mentor_id, mentee_id)) in enumerate(ZONES.items()):
        sch = await school(repos, name=f"Школа №{n + 1}", coordinator_id=3000 + n, timezone=tz)
        await repos.meetings.save_settings(MeetingSettings(sch.programme.id, cadence_days=30), 1)
        pair = await approved_pair(repos, sch, mentor_id, (mentee_id,))
        mentor, mentee = make_user(mentor_id, "Olga", "en"), make_user(mentee_id, "Petr", "en")
        for user in (mentor, mentee):
            await user.send("/help")
        people[tz] = (sch, pair, mentor, mentee)

    day = date(2027, 3, 3)
    for step in STEPS:
        for _sch, pair, mentor, mentee in people.values():
            at = "08:30" if step == "trial" else "15:30"  # 08:30: the 1-hour reminder would be quiet
            await schedule(mentor, pair, day, at)
            meeting = await repos.meetings.scheduled_of_pair(pair.id)
            assert meeting is not None and meeting.step == step
            if step == "organisational":
                # The mentee asks to move it; the mentor moves it a day later from the request.
                await deliver(dp, repos, clock)
                await mentee.click("Ask to move it")
                await mentee.send("Can we meet a day later?")
                await deliver(dp, repos, clock)
                assert "Can we meet a day later?" in mentor.last_text
                await mentor.click("Move the meeting")
                await pick_day(mentor, day + timedelta(days=1))
                await mentor.send("15:30")
                await mentor.click("60 min")
                await mentor.click("At school")
                await mentor.send("кабинет 12")
                await mentor.click("Confirm")
            if step == "trial":
                # Cancelled, then scheduled again on the same day.
                await mentor.click_data(MeetingCb(action="schedule", pair=pair.id).pack(), 1)
                await mentor.click("Cancel the meeting")
                await mentor.click("Yes, cancel")
                assert (await repos.meetings.get(meeting.id)).status is MeetingStatus.CANCELLED
                await schedule(mentor, pair, day, at)
        # Time passes through the reminders to the end of both meetings; each mentor logs.
        latest = max([await repos.meetings.scheduled_of_pair(p.id) for _s, p, _m, _e in people.values()],
                     key=lambda m: m.starts_at)
        await tick_until(dp, repos, clock, latest.starts_at + timedelta(minutes=61))
        for _sch, _pair, mentor, mentee in people.values():
            await log_held(mentor, step)
            await deliver(dp, repos, clock)
            rating = next(m for m in reversed(mentee.messages) if m.text.startswith("How useful was the "))
            await mentee.click("5", rating)
        day = clock.now().date() + timedelta(days=7 if step != "regular" else 2)
        if step == "planning":
            day = clock.now().date() + timedelta(days=30)  # the regular meeting a cadence later

    for tz, (sch, pair, mentor, mentee) in people.items():
        meetings = await repos.meetings.of_pair(pair.id)
        held = [m.step for m in meetings if m.status is MeetingStatus.HELD]
        assert held == STEPS, (tz, held)
        assert [m.step for m in meetings if m.status is MeetingStatus.CANCELLED] == ["trial"]
        assert any("complete" in t.lower() for t in mentor.texts[-3:])
        assert await repos.pairs.goals(pair.id) == ["Подготовиться к олимпиаде", "Прочитать три книги"]
        feedback = await repos.db.fetchall(
            "SELECT usefulness FROM meeting_feedback f JOIN meetings m ON m.id = f.meeting_id "
            "WHERE m.pair_id = ?",
            (pair.id,))
        assert [r[0] for r in feedback] == [5] * 5
        # Reminders per person per meeting: 24 h and 1 h before each held meeting, once each; none for the
        # old time of the moved meeting or for the cancelled one; none in quiet hours.
        rows = await repos.db.fetchall(
            "SELECT o.user_id, o.ref, o.status, o.not_before FROM outbox o JOIN meetings m ON m.id = o.ref "
            "WHERE o.kind = 'reminder' AND m.pair_id = ?", (pair.id,))
        sent = Counter((r["user_id"], r["ref"]) for r in rows if r["status"] == "sent")
        for meeting in meetings:
            for user_id in (mentor.id, mentee.id):
                expected = 2 if meeting.status is MeetingStatus.HELD else 0
                assert sent[(user_id, meeting.id)] == expected, (tz, meeting.step, meeting.status, user_id)
        settings = await repos.meetings.settings(sch.programme.id)
        for r in rows:
            if r["status"] == "sent":
                moment = datetime.fromisoformat(r["not_before"])
                assert not in_quiet_hours(moment, settings, tz), (tz, moment.astimezone(ZoneInfo(tz)))
        trial = next(m for m in meetings if m.step == "trial" and m.status is MeetingStatus.HELD)
        local = sorted(datetime.fromisoformat(r["not_before"]).astimezone(ZoneInfo(tz)).strftime("%H:%M")
                       for r in rows if r["ref"] == trial.id and r["user_id"] == mentee.id)
        assert local == ["08:00", "08:30"]  # 07:30 is quiet: the 1-hour reminder comes at 08:00
        received = [t for t in mentee.texts if t.startswith("Reminder:")]
        assert len(received) == 10
