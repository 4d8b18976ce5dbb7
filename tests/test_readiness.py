"""Mentor readiness on a mentor's card: toggles, the training question, the decision and its checks."""

from __future__ import annotations

from datetime import date

import pytest

from bot.callbacks import ReadinessCb
from storage.models import Participant, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, school

NO_ACCESS = "You don't have access to this programme."
NOT_BEFORE_INTERVIEW = (
    "A mentor can be marked ready only after the interview. Record the interview first."
)
COURSE_QUESTION = "Which training course did the mentor attend? Write its name (2 to 200 characters)."
DATE_QUESTION = "When was the training? Write the date as DD.MM.YYYY, for example 15.08.2026."


async def mentor(repos: Repositories, sch: School, user_id: int = 20_000, name: str = "Ольга Петровна"
                 ) -> Participant:
    return await repos.participants.enrol(
        sch.programme.id, user_id, Role.MENTOR, "pupil_pupil", name, False, "v1"
    )


async def open_readiness(maria: TgUser, name: str, mentors: int = 1) -> None:
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click(f"Mentors ({mentors})")
    await maria.click(name)
    assert "Readiness:\nInterview held: No" in maria.last_text
    await maria.click("Readiness")


async def test_toggles_persist_and_show_on_the_card(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    olga = await mentor(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_readiness(maria, "Ольга Петровна")
    assert maria.last_text.startswith("Readiness of Ольга Петровна to work as a mentor\n\n")
    assert "Decision: not ready" in maria.last_text
    assert await repos.readiness.get(olga.id) is None

    await maria.click("Interview held")
    record = await repos.readiness.get(olga.id)
    assert record is not None and record.interview_at is not None and record.updated_by == COORDINATOR_ID
    assert "Interview held: Yes" in maria.last_text and "☑ Interview held" in maria.buttons()
    await maria.click("Written agreement received")
    assert (await repos.readiness.get(olga.id)).agreement_at is not None
    assert "Written agreement to the extra duties received: Yes" in maria.last_text
    await maria.click("Ready to be matched")
    assert (await repos.readiness.get(olga.id)).ready
    assert "Decision: ready to be matched" in maria.last_text
    assert await repos.readiness.ready_mentor_ids(sch.programme.id) == {olga.id}

    await maria.click("Back to the card")
    card = maria.last_text
    assert card.startswith("Ольга Петровна\nRole: mentor")
    assert "Interview held: Yes" in card and "Decision: ready to be matched" in card

    # Toggles go back off; clearing the interview also clears the decision.
    await maria.click("Readiness")
    await maria.click("Written agreement received")
    assert (await repos.readiness.get(olga.id)).agreement_at is None
    await maria.click("Interview held")
    record = await repos.readiness.get(olga.id)
    assert record.interview_at is None and not record.ready
    assert await repos.readiness.ready_mentor_ids(sch.programme.id) == set()
    assert "Decision: not ready" in maria.last_text


async def test_ready_is_refused_before_the_interview(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    olga = await mentor(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_readiness(maria, "Ольга Петровна")
    await maria.click("Ready to be matched")
    assert maria.alerts[-1] == NOT_BEFORE_INTERVIEW
    record = await repos.readiness.get(olga.id)
    assert record is None or not record.ready
    assert await repos.readiness.ready_mentor_ids(sch.programme.id) == set()
    with pytest.raises(ValueError):
        await repos.readiness.set_flag(olga.id, "ready", True, COORDINATOR_ID)


async def test_training_course_and_date(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    olga = await mentor(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_readiness(maria, "Ольга Петровна")
    assert "Training attended: not recorded" in maria.last_text
    await maria.click("Training…")
    assert maria.last_text == COURSE_QUESTION

    await maria.send_sticker()
    assert maria.last_text == "Please write the course name in a text message.\n\n" + COURSE_QUESTION
    await maria.send("Я")
    assert maria.last_text.startswith("The course name is 1 characters long; it must be 2 to 200.")
    await maria.send("к" * 201)
    assert "201 characters" in maria.last_text and maria.last_text.endswith(COURSE_QUESTION)
    assert await repos.readiness.get(olga.id) is None

    await maria.send("  Школа   наставников  ")
    assert maria.last_text == DATE_QUESTION
    await maria.send_sticker()
    assert maria.last_text.startswith("Please write the date as DD.MM.YYYY")
    assert maria.last_text.endswith(DATE_QUESTION)
    await maria.send("31.02.2026")
    assert maria.last_text.startswith("There is no such date in the calendar: 31.02.2026.")
    assert await repos.readiness.get(olga.id) is None

    await maria.send("15.08.2026")
    record = await repos.readiness.get(olga.id)
    assert record.training_course == "Школа наставников" and record.training_date == date(2026, 8, 15)
    assert "Training attended: Школа наставников, August 15, 2026" in maria.last_text
    assert not record.ready and record.interview_at is None
    # The conversation is over: more text does not change the record.
    await maria.send("01.01.2027")
    assert (await repos.readiness.get(olga.id)).training_date == date(2026, 8, 15)


async def test_ready_mentor_ids(repos: Repositories) -> None:
    sch = await school(repos)
    other = await school(repos, name="Гимназия №5", coordinator_id=3000)
    ready = await mentor(repos, sch, 20_000, "Наставник 0")
    unready = await mentor(repos, sch, 20_001, "Наставник 1")
    interviewed = await mentor(repos, sch, 20_002, "Наставник 2")
    elsewhere = await mentor(repos, other, 20_003, "Наставник 3")
    for person in (ready, interviewed, elsewhere):
        await repos.readiness.set_flag(person.id, "interview", True, COORDINATOR_ID)
    for person in (ready, elsewhere):
        await repos.readiness.set_flag(person.id, "ready", True, COORDINATOR_ID)
    await repos.readiness.set_flag(unready.id, "agreement", True, COORDINATOR_ID)
    assert await repos.readiness.ready_mentor_ids(sch.programme.id) == {ready.id}
    assert await repos.readiness.ready_mentor_ids(other.programme.id) == {elsewhere.id}
    await repos.readiness.set_flag(ready.id, "ready", False, COORDINATOR_ID)
    assert await repos.readiness.ready_mentor_ids(sch.programme.id) == set()


async def test_forged_callbacks_and_mentees_are_refused(
    make_user: UserFactory, repos: Repositories
) -> None:
    sch = await school(repos)
    other = await school(repos, name="Гимназия №5", coordinator_id=3000)
    olga = await mentor(repos, sch)
    stranger_mentor = await mentor(repos, other, 20_009, "Чужой наставник")
    pupil = await repos.participants.enrol(
        sch.programme.id, 10_000, Role.MENTEE, "pupil_pupil", "Ученик 01", False, "v1"
    )
    ivan = make_user(3000, "Ivan", "en")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    actions = ("v", "i", "a", "r", "t")

    for action in actions:  # another school's coordinator, with the right programme or his own
        await ivan.click_data(ReadinessCb(action=action, programme=sch.programme.id,
                                          participant=olga.id).pack(), 1)
        await ivan.click_data(ReadinessCb(action=action, programme=other.programme.id,
                                          participant=olga.id).pack(), 1)
    assert ivan.alerts == [NO_ACCESS] * 2 * len(actions)
    for action in actions:  # a mentee, and a mentor of another programme, through Maria's programme
        await maria.click_data(ReadinessCb(action=action, programme=sch.programme.id,
                                           participant=pupil.id).pack(), 1)
        await maria.click_data(ReadinessCb(action=action, programme=sch.programme.id,
                                           participant=stranger_mentor.id).pack(), 1)
    assert maria.alerts == [NO_ACCESS] * 2 * len(actions)
    for person in (olga, pupil, stranger_mentor):
        assert await repos.readiness.get(person.id) is None

    # A mentee's card has no readiness at all.
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Mentees (1)")
    await maria.click("Ученик 01")
    assert "Back to the list" in maria.buttons() and "Readiness" not in maria.buttons()
    assert "Readiness" not in maria.last_text


async def test_withdrawal_removes_the_record(repos: Repositories) -> None:
    sch = await school(repos)
    olga = await mentor(repos, sch)
    kept = await mentor(repos, sch, 20_001, "Наставник 1")
    for person in (olga, kept):
        await repos.readiness.set_flag(person.id, "interview", True, COORDINATOR_ID)
        await repos.readiness.set_flag(person.id, "ready", True, COORDINATOR_ID)
    assert await repos.participants.withdraw(olga.id, "v1")
    assert await repos.readiness.get(olga.id) is None
    row = await repos.db.fetchone(
        "SELECT COUNT(*) FROM mentor_readiness WHERE participant_id = ?", (olga.id,)
    )
    assert row[0] == 0
    assert await repos.readiness.ready_mentor_ids(sch.programme.id) == {kept.id}
