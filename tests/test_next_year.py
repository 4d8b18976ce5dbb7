"""Next year: a programme started again from an old one; its mentors agree, decline or are forged."""

from __future__ import annotations

import asyncio
from datetime import date

from bot.callbacks import NextYearCb, ProgrammeCb
from dialogs.schema import Registry
from handlers.consent import CONSENT_VERSION
from handlers.next_year import a_year_later, next_title
from storage.models import Participant, Programme, ResponseStatus, Role
from storage.repos import Repositories
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, school
from tests.fakeapi import FakeBotAPI

NO_ACCESS = "You don't have access to this programme."
ANSWERED = "You have already answered this offer."
# The old programme runs in the current school year, so that the one started from it is still to come and
# its invite links can be issued (they are refused 30 days after a programme ends) whenever the test runs.
_TODAY = date.today()
Y = _TODAY.year if _TODAY.month >= 9 else _TODAY.year - 1
OLD_TITLE = f"Лестница успеха {Y}/{(Y + 1) % 100:02d}"
NEW = f"Лестница успеха {Y + 1}/{Y + 2}"  # the title the coordinator types for the new one


async def mentor(
    repos: Repositories, registry: Registry, programme: Programme, user_id: int, name: str
) -> Participant:
    participant = await repos.participants.enrol(programme.id, user_id, Role.MENTOR, "pupil_pupil", name,
                                                 False, "0.9")
    q = registry.for_participant(Role.MENTOR, "pupil_pupil")
    response = await repos.responses.start(participant.id, q.id, q.version)
    await repos.responses.save_answer(response.id, q.questions[0].id, f"answer of {name}")
    assert await repos.responses.submit(response.id)
    await repos.users.seen(user_id, "en")
    return participant


async def delivered(repos: Repositories, fake: FakeBotAPI, programme_id: int, count: int) -> None:
    """Wait until the outbox has sent `count` offers of the programme (a guard, not a timing check)."""
    async with asyncio.timeout(10):
        while (await repos.outbox.counts("carry_over", programme_id))["sent"] < count:
            await fake.wait_activity(0.5)


def test_title_and_dates_move_on_by_a_year() -> None:
    start, end = date(2027, 9, 1), date(2028, 5, 31)
    assert next_title("Лестница успеха 2026/27", start, end) == "Лестница успеха 2027/28"
    assert next_title("Наставничество 2026-2027", start, end) == "Наставничество 2027-2028"
    assert next_title("Наставничество 2026–2027 учебного года", start, end) == (
        "Наставничество 2027–2028 учебного года"
    )
    assert next_title("Наставники 2026", start, end) == "Наставники 2027"
    assert next_title("Вместе по лестнице успеха", start, end) == "Вместе по лестнице успеха 2027/28"
    assert next_title("Летняя школа", date(2027, 6, 1), date(2027, 8, 31)) == "Летняя школа 2027"
    assert len(next_title("Я" * 200, start, end)) == 200
    assert a_year_later(date(2026, 9, 1)) == date(2027, 9, 1)
    assert a_year_later(date(2028, 2, 29)) == date(2029, 2, 28)


async def test_start_again_mentors_agree_decline_and_forge(
    make_user: UserFactory, repos: Repositories, registry: Registry, fake: FakeBotAPI
) -> None:
    sch = await school(repos)
    old = await repos.programmes.create(sch.org.id, OLD_TITLE, ["pupil_pupil"], date(Y, 9, 1),
                                        date(Y + 1, 5, 31), COORDINATOR_ID)
    olga = await mentor(repos, registry, old, 20_000, "Olga Petrova")
    ivan = await mentor(repos, registry, old, 20_001, "Ivan Sidorov")
    await mentor(repos, registry, old, 20_002, "Boris Orlov")
    await repos.participants.enrol(old.id, 10_000, Role.MENTEE, "pupil_pupil", "Petr Ivanov", False, "0.9")
    await repos.readiness.set_flag(olga.id, "interview", True, COORDINATOR_ID)
    await repos.readiness.set_training(olga.id, "School of mentors", date(2026, 10, 1), COORDINATOR_ID)
    await repos.readiness.set_flag(olga.id, "agreement", True, COORDINATOR_ID)
    await repos.readiness.set_flag(olga.id, "ready", True, COORDINATOR_ID)

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click(OLD_TITLE)
    await maria.click("Start again for a new year")
    screen = maria.last_text
    assert f"Start «{OLD_TITLE}» again for a new year" in screen
    assert f"Title: «Лестница успеха {Y + 1}/{(Y + 2) % 100:02d}»" in screen
    assert f"Dates: September 1, {Y + 1} — May 31, {Y + 2}" in screen
    assert "Each of its 3 mentors will be asked" in screen

    # Another title: validated as in /newprogramme.
    await maria.click("Another title")
    await maria.send_sticker()
    assert maria.last_text.startswith("I need the title as a text message")
    await maria.send("ab")
    assert maria.last_text.startswith("The title must be 3 to 200 characters long; yours has 2.")
    await maria.send(f"  Лестница   успеха {Y + 1}/{Y + 2} ")
    assert f"Title: «{NEW}»" in maria.last_text
    await maria.click("Create")
    assert f"The programme «{NEW}» is created. Mentors asked whether they continue: 3." \
        in maria.texts
    new = await repos.programmes.next_of(old.id)
    assert (new.title, new.organisation_id, new.forms, new.previous_id) == (
        NEW, sch.org.id, ("pupil_pupil",), old.id)
    assert (new.start_date, new.end_date, new.retention_days) == (
        date(Y + 1, 9, 1), date(Y + 2, 5, 31), old.retention_days)
    assert any(t.startswith(f"Invite link for mentees of «{NEW}»") for t in maria.texts)

    # A second tap on Create, a stale one: nothing more is created.
    await maria.click_data(ProgrammeCb(action="ny_create", programme=old.id).pack(), 1)
    assert maria.alerts[-1] == f"«{OLD_TITLE}» has already been started again for a new year."
    rows = await repos.db.fetchall("SELECT id FROM programmes WHERE previous_id = ?", (old.id,))
    assert [r["id"] for r in rows] == [new.id]

    await delivered(repos, fake, new.id, 3)
    olga_chat = make_user(20_000, "Olga", "en")
    offer = olga_chat.last_text
    assert offer.startswith(f"«{OLD_TITLE}» is starting again as «{NEW}». "
                            "Will you continue as a mentor?")
    assert "Consent to the processing of personal data" in offer and CONSENT_VERSION in offer
    assert olga_chat.buttons() == ["Yes, I continue", "No"]
    assert make_user(10_000).messages == []  # mentees are not asked

    await olga_chat.click("Yes, I continue")
    assert olga_chat.last_text.startswith(f"Welcome to «{NEW}»!")
    joined = await repos.participants.find(new.id, 20_000)
    assert (joined.role, joined.form, joined.full_name, joined.status.value) == (
        Role.MENTOR, "pupil_pupil", "Olga Petrova", "active")
    consents = await repos.participants.consents(joined.id)
    assert [(c.kind, c.decision, c.text_version, c.given_by) for c in consents] == [
        ("self", "given", CONSENT_VERSION, 20_000)]
    [old_response] = await repos.responses.of_participant(olga.id)
    [copied] = await repos.responses.of_participant(joined.id)
    assert copied.status is ResponseStatus.SUBMITTED and copied.answers == old_response.answers
    assert copied.answers != {}
    readiness = await repos.readiness.get(joined.id)
    before = await repos.readiness.get(olga.id)
    assert (readiness.interview_at, readiness.training_course, readiness.training_date) == (
        before.interview_at, "School of mentors", date(2026, 10, 1))
    assert readiness.agreement_at is None and not readiness.ready
    await olga_chat.send("/questionnaire")
    assert "Status: submitted" in olga_chat.last_text

    # A second tap on Yes, and Olga's No after her Yes, change nothing.
    offer_message = next(m for m in olga_chat.messages if m.text.startswith(f"«{OLD_TITLE}»"))
    for action in ("y", "n"):
        await olga_chat.click_data(NextYearCb(action=action, programme=new.id, participant=olga.id).pack(),
                                   offer_message.message_id)
    assert olga_chat.alerts[-2:] == [ANSWERED, ANSWERED]
    assert (await repos.carry_over.get(new.id, olga.id)).decision == "agreed"
    assert await repos.participants.count_by_role(new.id) == {Role.MENTOR: 1, Role.MENTEE: 0}

    # Ivan declines; then forges Olga's offer and an offer that does not exist.
    ivan_chat = make_user(20_001, "Ivan", "en")
    await ivan_chat.click("No")
    assert ivan_chat.last_text.startswith(f"Understood: you do not continue in «{NEW}».")
    assert await repos.participants.find(new.id, 20_001) is None
    assert (await repos.carry_over.get(new.id, ivan.id)).decision == "declined"
    message = ivan_chat.last_message.message_id
    await ivan_chat.click_data(NextYearCb(action="y", programme=new.id, participant=olga.id).pack(), message)
    await ivan_chat.click_data(NextYearCb(action="y", programme=old.id, participant=ivan.id).pack(), message)
    await ivan_chat.click_data(NextYearCb(action="y", programme=new.id, participant=ivan.id).pack(), message)
    assert ivan_chat.alerts == [
        "This offer is not yours.", "This offer is no longer valid. Please ask the coordinator.", ANSWERED,
    ]
    assert await repos.participants.find(new.id, 20_001) is None
    assert await repos.participants.count_by_role(new.id) == {Role.MENTOR: 1, Role.MENTEE: 0}

    # The coordinator sees the answers on the old programme's and on the new programme's screen.
    counts = "agreed 1, declined 1, not answered yet 1."
    await maria.send("/programmes")
    await maria.click(OLD_TITLE, maria.last_message)
    await maria.click("Start again for a new year")
    assert f"has been started again as «{NEW}»" in maria.last_text
    assert counts in maria.last_text
    await maria.click(f"Open «{NEW}»")
    await maria.click("Start again for a new year")
    assert counts in maria.last_text and f"Title: «Лестница успеха {Y + 2}/{Y + 3}»" in maria.last_text


async def test_another_schools_coordinator_is_refused(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    await school(repos, name="Гимназия №5", coordinator_id=3000)
    olga = await mentor(repos, registry, sch.programme, 20_000, "Olga Petrova")
    stranger = make_user(3000, "Ivan", "en")
    for action in ("next_year", "ny_title", "ny_create"):
        await stranger.click_data(ProgrammeCb(action=action, programme=sch.programme.id).pack(), 1)
    assert stranger.alerts == [NO_ACCESS] * 3
    assert await repos.programmes.next_of(sch.programme.id) is None
    assert await repos.carry_over.get(sch.programme.id, olga.id) is None
    assert make_user(20_000).messages == []


async def test_a_minor_mentor_agrees_and_a_parent_is_asked_again(
    make_user: UserFactory, repos: Repositories, registry: Registry, fake: FakeBotAPI
) -> None:
    sch = await school(repos)
    kid = await repos.participants.enrol(sch.programme.id, 20_000, Role.MENTOR, "pupil_pupil", "Dasha Orlova",
                                         True, "0.9")
    await repos.participants.parent_decision(kid.id, 30_000, True, "0.9")
    await repos.users.seen(20_000, "en")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.click_data(ProgrammeCb(action="next_year", programme=sch.programme.id).pack(), 1)
    await maria.click("Create")
    new = await repos.programmes.next_of(sch.programme.id)
    assert new.title == "Вместе по лестнице успеха 2027/28"
    await delivered(repos, fake, new.id, 1)
    dasha = make_user(20_000, "Dasha", "en")
    await dasha.click("Yes, I continue")
    joined = await repos.participants.find(new.id, 20_000)
    assert joined.is_minor and joined.status.value == "parent_pending"
    assert "Dasha Orlova wants to take part in the mentoring programme «Вместе по лестнице успеха 2027/28»" \
        in dasha.last_text
    assert await repos.responses.of_participant(joined.id) == []  # nothing was submitted last year


async def test_long_term_base_decides_who_is_asked_first(repos: Repositories) -> None:
    """Mentors who agreed to stay in the long-term base are asked first; those who declined are not asked."""
    sch = await school(repos)
    ids = []
    for n, name in enumerate(("Анна А", "Борис Б", "Вера В")):
        mentor = await repos.participants.enrol(sch.programme.id, 30_000 + n, Role.MENTOR, "pupil_pupil",
                                                name, False, "v1")
        ids.append(mentor.id)
    for participant_id, decision in ((ids[0], "declined"), (ids[2], "agreed")):
        await repos.db.execute(
            "INSERT INTO mentor_base (participant_id, programme_id, decision, asked_at) "
            "VALUES (?, ?, ?, 'x')",
            (participant_id, sch.programme.id, decision))
    assert [m.id for m in await repos.carry_over.mentors(sch.programme.id)] == [ids[2], ids[1]]
