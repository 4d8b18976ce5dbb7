"""The coordinator's meetings screen through the real dispatcher: the late lists, a pair's meetings with the
mentees' ratings and the fit check, settings that persist, holidays typed right and wrong, and another
school's coordinator refused on every button."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.callbacks import MeetingCb, ProgrammeCb
from bot.clock import ManualClock
from dialogs.meeting_plan import local_moment
from storage.models import Pair
from storage.repos import Repositories
from storage.repos._convert import ts
from tests.client import TgUser
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, School, approved_pair, school

NO_ACCESS = "You don't have access to this programme."
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, inside the programme's dates


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time for these tests."""
    clock = manual_clock()
    clock.set(NOW)
    return clock


async def _none(_meeting: object) -> list:
    return []


async def approved_at(repos: Repositories, pair: Pair, moment: datetime) -> None:
    await repos.db.execute("UPDATE pairs SET approved_at = ? WHERE id = ?", (ts(moment), pair.id))


async def open_meetings(maria: TgUser) -> None:
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Meetings")
    assert maria.last_text.startswith("Meetings of «Вместе по лестнице успеха»")


async def three_pairs(repos: Repositories, sch: School) -> dict[str, Pair]:
    """Late to schedule (approved 10 days ago), not logged (met 3 days ago), inactive with a bad fit."""
    late = await approved_pair(repos, sch, 20_001, (10_001,))
    await approved_at(repos, late, NOW - timedelta(days=10))
    unlogged = await approved_pair(repos, sch, 20_002, (10_002,))
    await approved_at(repos, unlogged, NOW - timedelta(days=5))
    await repos.meetings.schedule(sch.programme.id, unlogged.id, "organisational", NOW - timedelta(days=3),
                                  60, "Кабинет 5", False, 20_002, _none)
    quiet = await approved_pair(repos, sch, 20_003, (10_003,))
    await approved_at(repos, quiet, NOW - timedelta(days=40))
    held = await repos.meetings.schedule(sch.programme.id, quiet.id, "organisational",
                                         NOW - timedelta(days=30), 60, "Кабинет 7", False, 20_003, _none)
    await repos.meetings.log(held.id, held.version, held=True, minutes=45, activities=["conversation"],
                             notes="Познакомились", compose=_none)
    mentee = quiet.mentee_ids[0]
    await repos.meetings.add_feedback(held.id, mentee, 4, "Было интересно")
    await repos.meetings.answer_fit(quiet.id, mentee, "bad")
    await repos.meetings.schedule(sch.programme.id, quiet.id, "trial", NOW + timedelta(days=2), 60,
                                  "Кабинет 7", False, 20_003, _none)
    return {"late": late, "unlogged": unlogged, "quiet": quiet}


async def test_late_lists_and_a_pairs_feedback(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    await three_pairs(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_meetings(maria)
    screen = maria.last_text
    assert "Pairs and groups: 3" in screen and "Late to schedule: 1" in screen
    assert "Meetings not logged a day after: 1" in screen and "Inactive for 21 days: 1" in screen
    assert "Re-pair requests: 1" in screen and "Next group final meeting: not scheduled" in screen

    await maria.click("Late to schedule (1)")
    assert "organisational meeting due by" in maria.last_text and len(maria.last_text.splitlines()) == 3
    await maria.click("Back to meetings")
    await maria.click("Meetings not logged (1)")
    assert "organisational meeting of" in maria.last_text
    await maria.click("Back to meetings")
    await maria.click("All pairs and groups (3)")  # every pair's names and state, read for all at once
    assert maria.last_text.splitlines()[2:] == [
        "1. Ольга Смирнова — Пётр Сидоров: organisational meeting due by Saturday 7 November, 12:00",
        "2. Ольга Смирнова — Пётр Сидоров: organisational meeting on Saturday 7 November, 12:00",
        "3. Ольга Смирнова — Пётр Сидоров: trial working meeting on Thursday 12 November, 12:00",
    ]
    await maria.click("Back to meetings")
    await maria.click("Re-pair requests (1)")
    await maria.click("1. Ольга Смирнова")
    pair = maria.last_text
    assert "held; 45 min; Conversation" in pair and "Notes: Познакомились" in pair
    assert "rated it 4/5: «Было интересно»" in pair  # the mentee's rating, for coordinators only
    assert "Fit check (seen only by coordinators):" in pair and "not a good fit" in pair
    assert "trial working meeting on" in pair  # the next meeting is scheduled
    await maria.click("Back to the list")
    assert maria.last_text.startswith("Re-pair requests")


async def test_settings_persist(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_meetings(maria)
    await maria.click("Settings")
    assert "Regular meetings: fortnightly" in maria.last_text
    assert "Reminders before a meeting: 24 h + 1 h" in maria.last_text
    await maria.click("How often regular meetings are held")
    await maria.click("weekly")
    assert maria.alerts[-1] == "Saved." and "Regular meetings: weekly" in maria.last_text
    await maria.click("Reminders before a meeting")
    await maria.click("2 h + 15 min")
    await maria.click("Quiet hours")
    await maria.click("22:00–07:00")
    await maria.click("Days the mentor has to schedule")
    await maria.click("3 days")
    await maria.click("Days without a held meeting")
    await maria.click("30 days")
    await maria.click("Tell minors' parents")
    await maria.click("Yes")
    await maria.click("The sequence")
    await maria.click("☑ trial working meeting")
    assert "☐ trial working meeting" in maria.buttons()
    assert not any("organisational" in b for b in maria.buttons())  # it always stays
    saved = await repos.meetings.settings(sch.programme.id)
    assert saved.cadence_days == 7 and set(saved.reminder_minutes) == {120, 15}
    assert (saved.quiet_start, saved.quiet_end) == (time(22, 0), time(7, 0))
    assert saved.schedule_within_days == 3 and saved.inactivity_days == 30 and saved.notify_parents
    assert saved.steps == ("organisational", "planning", "regular", "final")
    await maria.click("Back to settings")
    assert "Quiet hours: 22:00–07:00" in maria.last_text and "Tell minors' parents: Yes" in maria.last_text
    # A forged choice changes nothing.
    await maria.click_data(MeetingCb(action="set_val", value=f"{sch.programme.id}/cad/5").pack(),
                           maria.last_message.message_id)
    await maria.click_data(MeetingCb(action="set_val", value=f"{sch.programme.id}/seq/final").pack(),
                           maria.last_message.message_id)
    assert (await repos.meetings.settings(sch.programme.id)) == saved


async def test_holidays_typed_right_and_wrong(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_meetings(maria)
    await maria.click("Settings")
    await maria.click("School holidays (0)")
    await maria.click("Add holidays")
    question = maria.last_text
    assert question.startswith("Write the first and the last day of the holidays")
    await maria.send_sticker()
    assert maria.last_text == "Please write the dates in a text message.\n\n" + question
    for wrong, reason in (
        ("осенние каникулы", "Please write two dates as DD.MM.YYYY, for example 26.10.2026–03.11.2026."),
        ("31.02.2026–03.11.2026", "There is no such date in the calendar: 31.02.2026."),
        ("03.11.2026–26.10.2026", "The holidays end before they start."),
        ("26.06.2027–30.06.2027",
         "The holidays must fall within the programme's dates, 01.09.2026–31.05.2027."),
        ("01.09.2026–31.05.2027", "Holidays can be at most 120 days long."),
    ):
        await maria.send(wrong)
        assert maria.last_text == f"{reason}\n\n{question}", wrong
    assert await repos.meetings.holidays(sch.programme.id) == []

    await maria.send("26.10.2026 – 03.11.2026")
    assert maria.last_text.startswith("Saved.") and "• 26.10.2026–03.11.2026" in maria.last_text
    await maria.click("Add holidays")
    await maria.send("04.01.2027")  # a single day
    holidays = await repos.meetings.holidays(sch.programme.id)
    assert [(a, b) for _id, a, b in holidays] == [
        (date(2026, 10, 26), date(2026, 11, 3)), (date(2027, 1, 4), date(2027, 1, 4))]
    await maria.send("Привет", expect_reply=True)  # the question is over: no holidays are added
    assert len(await repos.meetings.holidays(sch.programme.id)) == 2

    await maria.click("Remove 26.10.2026–03.11.2026")
    assert maria.alerts[-1] == "Removed."
    assert [(a, b) for _id, a, b in await repos.meetings.holidays(sch.programme.id)] == [
        (date(2027, 1, 4), date(2027, 1, 4))]
    # The same remove button again (stale): nothing else is removed.
    await maria.click_data(MeetingCb(action="hol_del", value=f"{sch.programme.id}/{holidays[0][0]}").pack(),
                           maria.last_message.message_id)
    assert maria.alerts[-1] == "These holidays were already removed."
    assert len(await repos.meetings.holidays(sch.programme.id)) == 1
    # The holidays keep due steps quiet (see tests/test_sweeps.py); the moment is in the org's zone.
    assert local_moment(date(2027, 1, 4), time(12), "Europe/Moscow") < datetime(2027, 1, 5, tzinfo=UTC)


async def test_another_schools_coordinator_is_refused_on_every_button(
    make_user: UserFactory, repos: Repositories
) -> None:
    sch = await school(repos)
    pairs = await three_pairs(repos, sch)
    holiday = await repos.meetings.add_holiday(sch.programme.id, date(2026, 12, 28), date(2027, 1, 8))
    await school(repos, name="Гимназия №3", coordinator_id=2001)
    intruder = make_user(2001, "Ivan", "en")
    await intruder.send("/start")
    message_id = intruder.last_message.message_id
    p = sch.programme.id
    forged = [
        ProgrammeCb(action="meetings", programme=p),
        MeetingCb(action="adm_home", value=f"{p}"),
        MeetingCb(action="adm_list", value=f"{p}/late/0"),
        MeetingCb(action="adm_pair", pair=pairs["quiet"].id, value=f"{p}/all"),
        MeetingCb(action="adm_pair", pair=pairs["quiet"].id, value="999/all"),  # the pair decides
        MeetingCb(action="set_home", value=f"{p}"),
        MeetingCb(action="set_menu", value=f"{p}/cad"),
        MeetingCb(action="set_val", value=f"{p}/cad/7"),
        MeetingCb(action="hol_list", value=f"{p}"),
        MeetingCb(action="hol_add", value=f"{p}"),
        MeetingCb(action="hol_del", value=f"{p}/{holiday}"),
        MeetingCb(action="adm_home", value="x/y"),
    ]
    for cb in forged:
        before = len(intruder.texts)
        await intruder.click_data(cb.pack(), message_id)
        assert intruder.alerts[-1] == NO_ACCESS, cb
        assert len(intruder.texts) == before, cb  # nothing of the programme was shown
    assert (await repos.meetings.settings(p)).cadence_days == 14
    assert len(await repos.meetings.holidays(p)) == 1
    await intruder.send("01.02.2027–02.02.2027")  # no holidays question was ever asked
    assert len(await repos.meetings.holidays(p)) == 1
    # The screen of the pair shows no rating to anyone but coordinators: the mentor has no such button.
    mentor = make_user(20_003, "Olga", "en")
    await mentor.click_data(MeetingCb(action="adm_pair", pair=pairs["quiet"].id, value=f"{p}/all").pack(), 1)
    assert mentor.alerts[-1] == NO_ACCESS
    assert not any("Было интересно" in t for t in mentor.texts)
