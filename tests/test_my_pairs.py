"""/mypairs and /mymentor: the next meeting or the step due, the history and the goals, in the
organisation's time zone, on the simulated clock."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from aiogram import Dispatcher

from bot.callbacks import MeetingCb
from bot.clock import ManualClock
from dialogs.meeting_plan import local_moment
from storage.models import Meeting
from storage.repos import Repositories
from tests.conftest import UserFactory, manual_clock
from tests.factories import approved_pair, school

KAMCHATKA = "Asia/Kamchatka"
MENTOR, MENTEE, OTHER = 20_001, 10_001, 10_002
TITLE = "Вместе по лестнице успеха"


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time for these tests."""
    return manual_clock()


async def _nothing(_meeting: Meeting) -> list:
    return []


def kam(day: int, hh: int, mm: int = 0) -> object:
    return local_moment(date(2026, 12, day), time(hh, mm), KAMCHATKA)


async def test_mentor_card_next_step_history_goals_and_mentee_view(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory
) -> None:
    sch = await school(repos, timezone=KAMCHATKA)
    pair = await approved_pair(repos, sch, MENTOR, (MENTEE, OTHER))
    clock.set(kam(1, 9))
    olga, petr = make_user(MENTOR, "Olga", "en"), make_user(MENTEE, "Petr", "en")

    await olga.send("/mypairs")
    card = olga.last_text
    assert card.startswith(f"«{TITLE}», Pupil – pupil. Your mentees: Пётр Сидоров, Вера Иванова.")
    assert "Next step: the organisational meeting, not scheduled yet." in card
    assert "History: no meetings yet." in card
    assert "Personalised programme: the goals are agreed at the planning meeting." in card
    [[button]] = olga.last_message.keyboard
    assert button["text"] == "Schedule the organisational meeting"
    assert MeetingCb.unpack(button["callback_data"]) == MeetingCb(action="schedule", pair=pair.id)

    # Organisational held, trial not held then held, planning held with goals, one regular cancelled.
    programme = sch.programme.id
    history = [("organisational", kam(2, 15, 30), True), ("trial", kam(3, 15), False),
               ("trial", kam(3, 17), True), ("planning", kam(4, 16), True)]
    for step, starts, held in history:
        m = await repos.meetings.schedule(programme, pair.id, step, starts, 60, "Кабинет 12", False, MENTOR,
                                          _nothing)
        await repos.meetings.log(m.id, m.version, held=held, minutes=40, activities=["conversation"],
                                 reason=None if held else "mentee_ill",
                                 goals=["Win the olympiad", "Read ten books"] if step == "planning" else (),
                                 compose=_nothing)
    goals = await repos.meetings.goals(pair.id)
    m = await repos.meetings.schedule(programme, pair.id, "regular", kam(5, 10), 60, "Кабинет 12", False,
                                      MENTOR, _nothing)
    await repos.meetings.log(m.id, m.version, held=True, minutes=60, progress={goals[0][0]: "achieved"},
                             compose=_nothing)
    cancelled = await repos.meetings.schedule(programme, pair.id, "regular", kam(10, 10), 60, "x", False,
                                              MENTOR, _nothing)
    await repos.meetings.cancel(cancelled.id, cancelled.version, _nothing)
    clock.set(kam(6, 9))
    nxt = await repos.meetings.schedule(programme, pair.id, "regular", kam(12, 17, 45), 60, "Онлайн: zoom",
                                        True, MENTOR, _nothing)
    group = await repos.meetings.schedule(programme, None, "group_final", kam(20, 12), 90, "Актовый зал",
                                          False, 2000, _nothing)
    assert group.pair_id is None

    await olga.send("/mypairs")
    card = olga.last_text
    assert "Next meeting: the regular meeting, Saturday 12 December, 17:45, Онлайн: zoom." in card
    assert "The group final meeting of all pairs: Sunday 20 December, 12:00, Актовый зал." in card
    assert ("History:\n• 2 December — organisational meeting — held, 40 min\n"
            "• 3 December — trial working meeting — not held: The mentee was ill\n"
            "• 3 December — trial working meeting — held, 40 min\n"
            "• 4 December — planning meeting — held, 40 min\n"
            "• 5 December — regular meeting — held, 60 min\n"
            "• 10 December — regular meeting — cancelled") in card
    assert "Personalised programme:\n1. Win the olympiad — achieved\n2. Read ten books — not started" in card
    assert olga.buttons() == []

    await petr.send("/mymentor")
    view = petr.last_text
    assert view.startswith(f"«{TITLE}»: your mentor is Ольга Смирнова.")
    assert "Next meeting: the regular meeting, Saturday 12 December, 17:45, Онлайн: zoom." in view
    assert "group final meeting of all pairs: Sunday 20 December, 12:00" in view
    assert "1. Win the olympiad — achieved" in view
    assert "History" not in view and "not held" not in view

    # Once the meeting has begun and is not logged, the mentor's card offers to log it.
    clock.set(nxt.starts_at + timedelta(minutes=70))
    await olga.send("/mypairs")
    assert "Not logged yet: the regular meeting, Saturday 12 December, 17:45." in olga.last_text
    await olga.click("Not held")
    await olga.click("Nobody came")
    assert olga.last_text.startswith("Saved: the meeting was not held (Nobody came).")
    await olga.send("/mypairs")
    assert "• 12 December — regular meeting — not held: Nobody came" in olga.last_text
    assert olga.buttons() == ["Schedule the regular meeting"]
    await petr.send("/mymentor")
    assert "No meeting is scheduled yet: your mentor will invite you" in petr.last_text


async def test_without_pairs_and_mentor_of_nobody(
    dp: Dispatcher, repos: Repositories, make_user: UserFactory
) -> None:
    await school(repos)
    stranger = make_user(30_001, "Nobody", "en")
    await stranger.send("/mypairs")
    assert stranger.last_text.startswith("You have no approved mentoring pairs yet.")
    await stranger.send("/mymentor")
    assert stranger.last_text.startswith("You have no mentor yet.")
