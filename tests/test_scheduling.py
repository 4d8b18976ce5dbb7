"""Scheduling from a phone: the calendar (Monday first, in both languages; past days and holidays refused),
typed times, online and school places, the saved meeting with its notices, reminders and .ics; a mentee's
request to move; moving and cancelling; forged and stale taps; the group final meeting in UTC+12."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from aiogram import Dispatcher
from icalendar import Calendar

from bot.callbacks import MatchCb, MeetingCb, ProgrammeCb
from bot.clock import ManualClock
from dialogs.meeting_plan import local_moment
from handlers.meeting_notices import compose_scheduled
from handlers.scheduling import parse_time
from storage.models import MeetingStatus, Role
from storage.repos import Repositories
from storage.repos.pairs import NewProposal
from tests.client import TgUser
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, approved_pair, school
from tests.outbox_helpers import drained

MOSCOW, KAMCHATKA = "Europe/Moscow", "Asia/Kamchatka"
NOT_YOURS = "Only the pair's mentor can schedule, move or cancel its meetings."
STALE = "This button is out of date: the scheduling it belongs to was finished or stopped."
CHANGED = ("This meeting has changed since this message (it was moved, cancelled or logged). "
           "Use the newest message about it.")
NO_ACCESS = "You don't have access to this programme."


@pytest.fixture
def clock() -> ManualClock:
    """Thursday 8 October 2026, noon in Moscow."""
    moment = manual_clock()
    moment.set(datetime(2026, 10, 8, 9, 0, tzinfo=UTC))
    return moment


def weekday_row(user: TgUser) -> list[str]:
    return [str(b["text"]) for b in user.last_message.keyboard[1]]


def button_data(user: TgUser, label: str) -> str:
    keyboard = user.last_message.keyboard
    return next(str(b["callback_data"]) for row in keyboard for b in row if b["text"] == label)


async def open_scheduling(user: TgUser, pair_id: int) -> None:
    """The mentor's "Schedule the … meeting" button (as on /mypairs)."""
    await user.click_data(MeetingCb(action="schedule", pair=pair_id).pack(), 1)


async def pending_reminders(repos: Repositories, meeting_id: int) -> list[datetime]:
    rows = await repos.db.fetchall(
        "SELECT not_before FROM outbox WHERE kind = 'reminder' AND ref = ? AND status = 'pending'",
        (meeting_id,))
    return sorted(datetime.fromisoformat(r[0]) for r in rows)


def test_typed_times() -> None:
    for text in ("15:30", "15.30", "1530", "15 30", " 15:30 "):
        assert parse_time(text) == time(15, 30), text
    assert parse_time("9:05") == time(9, 5) and parse_time("930") == time(9, 30)
    assert parse_time("17") == time(17, 0)
    for bad in ("25:00", "15:60", "15:7", "abc", "", "15:30:00", "1530pm"):
        assert parse_time(bad) is None, bad


async def test_calendar_starts_on_monday_in_both_languages(
    make_user: UserFactory, repos: Repositories
) -> None:
    sch = await school(repos)
    ru_pair = await approved_pair(repos, sch, 20_001, (10_001,))
    en_pair = await approved_pair(repos, sch, 20_002, (10_002,))
    olga = make_user(20_001, "Ольга", "ru")
    await open_scheduling(olga, ru_pair.id)
    assert weekday_row(olga) == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    assert "Октябрь 2026" in olga.buttons()
    ivan = make_user(20_002, "Ivan", "en")
    await open_scheduling(ivan, en_pair.id)
    assert weekday_row(ivan) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert "October 2026" in ivan.buttons()
    # 1 October 2026 is a Thursday: three empty cells before it; the days before today are marked.
    first_week = [str(b["text"]) for b in ivan.last_message.keyboard[2]]
    assert first_week == [" ", " ", " ", "·1·", "·2·", "·3·", "·4·"]
    # « » move between months; there is no month before the current one.
    await ivan.click("»")
    assert "November 2026" in ivan.buttons()
    await ivan.click("«")
    assert "October 2026" in ivan.buttons() and "«" not in ivan.buttons()
    for data in (str(b["callback_data"]) for row in ivan.last_message.keyboard for b in row):
        assert len(data.encode()) <= 64


async def test_mentor_schedules_online_meeting(
    dp: Dispatcher, make_user: UserFactory, repos: Repositories, clock: ManualClock, fast_outbox: object
) -> None:
    sch = await school(repos)
    pair = await approved_pair(repos, sch, 20_001, (10_001,))
    await repos.meetings.add_holiday(sch.programme.id, date(2026, 10, 12), date(2026, 10, 13))
    await repos.users.seen(10_001, "en")
    olga = make_user(20_001, "Olga", "en")
    await open_scheduling(olga, pair.id)
    assert olga.last_text.startswith("The organisational meeting with Пётр Сидоров.")
    assert {"·7·", "·12·", "·13·", "8", "14"} <= set(olga.buttons())
    await olga.click("·7·")
    assert olga.alerts[-1] == "This day has passed. Choose another one."
    await olga.click("·12·")
    assert olga.alerts[-1] == "This day is in the school holidays: no meetings then. Choose another one."
    forged = button_data(olga, "14").replace("20261014", "20270701")  # after the programme's end
    await olga.click_data(forged, olga.last_message.message_id)
    assert olga.alerts[-1] == "This day is outside the programme's dates. Choose another one."
    assert olga.last_text.startswith("The organisational meeting")  # still the calendar

    await olga.click("8")  # today: a time already past is refused
    assert "Day: Thursday 8 October" in olga.last_text and "15:00" in olga.buttons()
    await olga.send("10:00")
    assert olga.last_text.startswith("This time has already passed.")
    await olga.send("25:99")
    assert olga.last_text.startswith("I didn't understand the time.")
    await olga.send_sticker()
    assert olga.last_text.startswith("Please type it as a text message.")
    await olga.click("Another day")
    await olga.click("15")
    await olga.send("1530")
    assert olga.last_text.endswith("How long will it take?")
    await olga.click("60 min")
    await olga.click("Online")
    await olga.send("not a link at all")
    assert olga.last_text.startswith("This doesn't look like a link.")
    await olga.send("https://telemost.yandex.ru/j/42")
    summary = olga.last_text
    assert "When: Thursday 15 October, 15:30" in summary
    assert "online: https://telemost.yandex.ru/j/42" in summary
    assert await repos.meetings.scheduled_of_pair(pair.id) is None  # nothing saved before Confirm

    confirm, summary_id = button_data(olga, "Confirm"), olga.last_message.message_id
    await olga.click("Confirm")
    assert olga.texts[-2].startswith("Saved: the organisational meeting, Thursday 15 October, 15:30")
    assert olga.documents[-1].filename.endswith(".ics")
    meeting = await repos.meetings.scheduled_of_pair(pair.id)
    starts = local_moment(date(2026, 10, 15), time(15, 30), MOSCOW)
    assert meeting is not None and meeting.starts_at == starts and meeting.online and meeting.minutes == 60
    assert meeting.step == "organisational" and meeting.place == "https://telemost.yandex.ru/j/42"
    rows = await repos.db.fetchall("SELECT kind, user_id FROM outbox WHERE ref = ?", (meeting.id,))
    assert sorted((r["kind"], r["user_id"]) for r in rows) == sorted([
        ("meeting", 10_001), ("log_prompt", 20_001),
        *[("reminder", u) for u in (20_001, 10_001) for _ in (1440, 60)],
    ])
    assert await pending_reminders(repos, meeting.id) == sorted(
        [starts - timedelta(days=1)] * 2 + [starts - timedelta(hours=1)] * 2)

    # The summary's Confirm again (a stale copy): nothing happens twice.
    await olga.click_data(confirm, summary_id)
    assert olga.alerts[-1] == STALE
    assert len(await repos.meetings.of_pair(pair.id)) == 1
    await drained(repos, due_by=clock.now())
    petr = make_user(10_001, "Petr", "en")
    notice = petr.messages[-1]
    assert "is scheduled: Thursday 15 October, 15:30, https://telemost.yandex.ru/j/42" in notice.text
    assert notice.buttons == ["Ask to move it"]
    event = Calendar.from_ical(petr.documents[-1]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == starts and str(event.get("location")) == meeting.place

    # A pair with a scheduled meeting: "already scheduled" with Move / Cancel.
    await open_scheduling(olga, pair.id)
    assert olga.last_text.startswith("The organisational meeting is already scheduled: Thursday 15 October")
    assert olga.buttons() == ["Move", "Cancel the meeting"]


async def scheduled_meeting(dp: Dispatcher, repos: Repositories, clock: ManualClock, pair_id: int,
                            programme_id: int, starts: datetime):
    async def compose(m):
        return await compose_scheduled(repos, dp["i18n"], clock, m)

    return await repos.meetings.schedule(programme_id, pair_id, "organisational", starts, 60, "room 5",
                                         False, 20_001, compose)


async def test_mentee_asks_mentor_moves_then_cancels(
    dp: Dispatcher, make_user: UserFactory, repos: Repositories, clock: ManualClock, fast_outbox: object
) -> None:
    sch = await school(repos)
    pair = await approved_pair(repos, sch, 20_001, (10_001,))
    for user_id in (20_001, 10_001):
        await repos.users.seen(user_id, "en")
    starts = local_moment(date(2026, 10, 15), time(15, 30), MOSCOW)
    meeting = await scheduled_meeting(dp, repos, clock, pair.id, sch.programme.id, starts)
    await drained(repos, due_by=clock.now())
    petr, olga = make_user(10_001, "Petr", "en"), make_user(20_001, "Olga", "en")
    notice = petr.messages[-1]

    # Only a mentee of the pair may ask; the mentor's tap on it is refused.
    await olga.click_data(MeetingCb(action="ask_move", meeting=meeting.id, version=1).pack(), 1)
    assert olga.alerts[-1] == "This button is not for you."
    await petr.click("Ask to move it")
    assert petr.last_text.startswith("Write to your mentor why the meeting should be moved")
    await petr.send_sticker()
    assert petr.last_text.startswith("Please write it as a text message.")
    await petr.send("x" * 501)
    assert petr.last_text.startswith("The text is 501 characters long; the limit is 500.")
    await petr.send("I have an olympiad on Thursday, Friday after 15:00 suits me")
    assert petr.last_text.startswith("Sent to your mentor.")
    requests = await repos.db.fetchall("SELECT participant_id, text FROM move_requests")
    assert [r["text"] for r in requests] == ["I have an olympiad on Thursday, Friday after 15:00 suits me"]
    await drained(repos, due_by=clock.now())
    assert olga.last_text.startswith("Пётр Сидоров asks to move the organisational meeting (Thursday 15 "
                                     "October, 15:30):\n«I have an olympiad")

    # The mentor moves it from that message: at school, room typed.
    await olga.click("Move the meeting")
    assert olga.last_text.startswith("Moving the organisational meeting (now: Thursday 15 October, 15:30")
    await olga.click("16")
    await olga.click("16:00")
    await olga.click("45 min")
    await olga.click("At school")
    await olga.send("room 12")
    assert "Where: at school, room 12" in olga.last_text
    await olga.click("Confirm")
    assert olga.texts[-2].startswith("Moved: the organisational meeting, Friday 16 October, 16:00")
    moved = await repos.meetings.get(meeting.id)
    later = local_moment(date(2026, 10, 16), time(16, 0), MOSCOW)
    assert moved.version == 2 and moved.starts_at == later and moved.minutes == 45
    assert await pending_reminders(repos, meeting.id) == sorted(
        [later - timedelta(days=1)] * 2 + [later - timedelta(hours=1)] * 2)
    assert (await repos.outbox.counts("reminder", meeting.id))["cancelled"] == 4
    await drained(repos, due_by=clock.now())
    assert "is moved: Friday 16 October, 16:00, at school, room 12" in petr.messages[-1].text
    await petr.click("Ask to move it", notice)  # the old notice's button is stale now
    assert petr.alerts[-1] == CHANGED

    # Cancel, asked first; a second tap changes nothing.
    await olga.click("Cancel the meeting")  # on the confirmation, above the .ics file
    question = olga.messages[-2]
    assert question.text.startswith("Cancel the organisational meeting on Friday 16 October, 16:00?")
    yes = next(str(b["callback_data"]) for row in question.keyboard for b in row
               if b["text"] == "Yes, cancel it")
    await olga.click("Yes, cancel it")
    assert olga.texts[-2].startswith("Cancelled: the organisational meeting.")
    assert (await repos.meetings.get(meeting.id)).status is MeetingStatus.CANCELLED
    assert await pending_reminders(repos, meeting.id) == []
    await olga.click_data(yes, question.message_id)
    assert olga.alerts[-1] == CHANGED
    await drained(repos, due_by=clock.now())
    assert "is cancelled" in petr.last_text
    # Scheduling again from the cancellation: the organisational meeting is still the next step.
    await olga.click("Schedule it again")
    assert olga.last_text.startswith("The organisational meeting with Пётр Сидоров.")


async def test_forged_and_foreign_taps_refused(
    dp: Dispatcher, make_user: UserFactory, repos: Repositories, clock: ManualClock
) -> None:
    sch = await school(repos)
    pair = await approved_pair(repos, sch, 20_001, (10_001,))
    other = await approved_pair(repos, sch, 20_002, (10_002,))
    starts = local_moment(date(2026, 10, 15), time(15, 30), MOSCOW)
    meeting = await scheduled_meeting(dp, repos, clock, pair.id, sch.programme.id, starts)
    ivan, petr = make_user(20_002, "Ivan", "en"), make_user(10_001, "Petr", "en")
    await open_scheduling(ivan, pair.id)  # another mentor's pair
    assert ivan.alerts[-1] == NOT_YOURS
    await open_scheduling(petr, pair.id)  # the mentee
    assert petr.alerts[-1] == NOT_YOURS
    await open_scheduling(ivan, 999_999)  # no such pair
    assert ivan.alerts[-1] == NOT_YOURS
    for action in ("move", "cancel_ask", "cancel_yes"):
        await ivan.click_data(MeetingCb(action=action, meeting=meeting.id, version=1).pack(), 1)
        assert ivan.alerts[-1] == NOT_YOURS
    olga = make_user(20_001, "Olga", "en")
    await olga.click_data(MeetingCb(action="move", meeting=meeting.id, version=7).pack(), 1)
    assert olga.alerts[-1] == CHANGED
    # Draft buttons without a draft (or of another one) are out of date.
    await ivan.click_data(MeetingCb(action="sch_ok", value="abcdef").pack(), 1)
    assert ivan.alerts[-1] == STALE
    await open_scheduling(ivan, other.id)
    await ivan.click_data(MeetingCb(action="cal_day", value="abcdef-20261020").pack(), 1)
    assert ivan.alerts[-1] == STALE
    # A mentor who stops with Cancel keeps nothing.
    await ivan.click("Cancel")
    assert ivan.last_text == "Stopped: nothing was scheduled or changed."
    assert await repos.meetings.scheduled_of_pair(other.id) is None
    assert (await repos.meetings.get(meeting.id)).status is MeetingStatus.SCHEDULED


async def test_group_final_at_utc_plus_12(
    dp: Dispatcher, make_user: UserFactory, repos: Repositories, clock: ManualClock, fast_outbox: object
) -> None:
    sch = await school(repos, timezone=KAMCHATKA)
    await approved_pair(repos, sch, 20_001, (10_001,))
    await approved_pair(repos, sch, 20_002, (10_002, 10_003))
    for user_id in (20_001, 20_002, 10_001, 10_002, 10_003):
        await repos.users.seen(user_id, "en")
    stranger_school = await school(repos, name="Школа №1", coordinator_id=2001)
    stranger = make_user(2001, "Sergey", "en")
    await stranger.click_data(ProgrammeCb(action="group_final", programme=sch.programme.id).pack(), 1)
    assert stranger.alerts[-1] == NO_ACCESS
    await stranger.click_data(MeetingCb(action="gf_new", value=str(sch.programme.id)).pack(), 1)
    assert stranger.alerts[-1] == NO_ACCESS
    assert stranger_school.programme.id != sch.programme.id

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Group final meeting")
    await maria.click("Schedule the group final meeting")
    # 8 October 21:00 in Kamchatka: today is the 8th there too; the 20th is chosen.
    await maria.click("20")
    await maria.click("17:00")
    await maria.click("90 min")
    await maria.send("Актовый зал")
    await maria.click("Confirm")
    assert maria.texts[-2].startswith(
        "Saved: the group final meeting of all pairs, Tuesday 20 October, 17:00, Актовый зал.")
    [final] = await repos.meetings.group_finals(sch.programme.id)
    assert final.pair_id is None and final.step == "group_final"
    assert final.starts_at == datetime(2026, 10, 20, 5, 0, tzinfo=UTC)  # 17:00 at UTC+12
    await drained(repos, due_by=clock.now())
    for user_id in (20_001, 20_002, 10_001, 10_002, 10_003):
        texts = [m.text for m in make_user(user_id, "X", "en").messages]
        assert any("is scheduled: Tuesday 20 October, 17:00, Актовый зал" in t for t in texts), user_id

    # The same screen shows it with Move / Cancel, and no second one can be scheduled.
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Group final meeting")
    assert "Scheduled: Tuesday 20 October, 17:00, Актовый зал." in maria.last_text
    assert "Schedule the group final meeting" not in maria.buttons()
    await maria.click("Move")
    await maria.click("21")
    await maria.click("15:30")
    await maria.click("60 min")
    await maria.click("Online")
    await maria.send("meet.example.org/final")
    await maria.click("Confirm")
    assert maria.texts[-2].startswith(
        "Moved: the group final meeting of all pairs, Wednesday 21 October, 15:30")
    assert (await repos.meetings.get(final.id)).place == "https://meet.example.org/final"


async def test_approval_message_has_the_schedule_button(
    dp: Dispatcher, make_user: UserFactory, repos: Repositories, fast_outbox: object
) -> None:
    sch = await school(repos)
    programme = sch.programme.id
    mentor = await repos.participants.enrol(programme, 20_001, Role.MENTOR, "pupil_pupil", "Ольга Смирнова",
                                            False, "test")
    mentee = await repos.participants.enrol(programme, 10_001, Role.MENTEE, "pupil_pupil", "Пётр Сидоров",
                                            False, "test")
    await repos.pairs.pair_by_hand(programme, NewProposal(mentor.id, mentee.id, 1.0, []), COORDINATOR_ID)
    await repos.users.seen(20_001, "en")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.click_data(MatchCb(action="apy", programme=programme).pack(), 1)
    await drained(repos)
    olga = make_user(20_001, "Olga", "en")
    assert olga.last_text.startswith("Your mentoring in «Вместе по лестнице успеха» is approved.")
    assert olga.buttons() == ["Schedule the organisational meeting"]
    await olga.click("Schedule the organisational meeting")
    assert olga.last_text.startswith("The organisational meeting with Пётр Сидоров.")
    # The mentee cannot use the mentor's button.
    petr = make_user(10_001, "Petr", "en")
    await petr.click_data(MeetingCb(action="schedule", value=str(programme)).pack(), 1)
    assert petr.alerts[-1] == NOT_YOURS
