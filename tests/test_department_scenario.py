"""Issue 3 as it will be tried: a municipal department with two schools, each with 40 mentees and 15 mentors
who join by link and answer their questionnaires through the bot; preferences from some; matching run,
adjusted and approved; the documents read; coordinators of one school forging callbacks at the other's."""

from __future__ import annotations

import random
from io import BytesIO

from aiogram import Bot, Dispatcher
from openpyxl import load_workbook

from bot.callbacks import BasesCb, MatchCb, PreferenceCb, ReadinessCb
from dialogs.schema import Question, QuestionType, Registry
from storage.models import ProposalStatus, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import School, school
from tests.outbox_helpers import drained
from tests.questionnaire_helpers import current_question

MENTEES, MENTORS = 40, 15
FIRST = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Захар", "Ирина", "Кирилл"]
LAST = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев"]


def name_of(n: int, school_name: str) -> str:
    """A distinct name in letters for person n of a school."""
    return f"{FIRST[n % 10]} {LAST[n // 10 % 8]} {school_name}"
NO_ACCESS = "You don't have access to this programme."


async def press(user: TgUser, label: str) -> None:
    """Tap the button of the newest message whose label is exactly `label` (after a ▫️/✅ mark)."""
    message = user.last_message
    for row in message.keyboard:
        for button in row:
            if button["text"] == label or button["text"].split(" ", 1)[-1] == label:
                await user.click_data(button["callback_data"], message.message_id)
                return
    raise AssertionError(f"no button {label!r} in {message}")


async def answer_varied(user: TgUser, question: Question, rng: random.Random) -> None:
    """A valid answer that differs from person to person, given through the buttons or as text."""
    if question.type is QuestionType.SINGLE:
        await press(user, rng.choice(question.options).text["en"])
    elif question.type is QuestionType.MULTI:
        limit = min(2, question.max_choices or 2)
        for option in rng.sample(question.options, rng.randint(1, limit)):
            await press(user, option.text["en"])
        await press(user, "Done")
    elif question.type is QuestionType.YESNO:
        await user.click(rng.choice(["Yes", "No"]))
    elif question.type is QuestionType.SCALE:
        await user.click(str(rng.randint(question.min, question.max)))  # type: ignore[arg-type]
    elif question.type is QuestionType.NUMBER:
        await user.send(str(rng.randint(question.min, min(question.max, 3))))  # type: ignore[arg-type,type-var]
    elif question.type is QuestionType.DATE:
        await user.send("01.09.2025" if not question.future_only else "01.09.2030")
    else:
        await user.send("Хочу подтянуть математику")


async def join_and_submit(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry,
    token: str, user_id: int, name: str, rng: random.Random, *, minor: bool,
) -> TgUser:
    """Open the link, consent (a minor's parent confirms), answer every question, submit."""
    user = make_user(user_id, name.split()[0], "en")
    await user.send(f"/start {token}")
    if minor:
        await user.click("I agree, I am under 18")
        await user.send(name)
        parent_token = user.last_message.url_buttons[0][1].split("start=")[1]
        parent = make_user(user_id + 500_000, "Parent", "en")
        await parent.send(f"/start {parent_token}")
        await parent.click("I confirm")
        await user.click("Start the questionnaire")
    else:
        await user.click("I agree (I am 18 or older)")
        await user.send(name)
    answered = 0
    while (question := await current_question(dp, bot, repos, registry, user.id)) is not None:
        await answer_varied(user, question, rng)
        answered += 1
        assert answered < 40
    await user.click("Submit")
    assert user.last_text.startswith("Thank you! Your questionnaire has been sent.")
    return user


async def populate(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry,
    sch: School, base_id: int, rng: random.Random,
) -> tuple[list[TgUser], list[TgUser]]:
    suffix = "Северная" if base_id == 40_000 else "Южная"
    mentors = [
        await join_and_submit(make_user, dp, bot, repos, registry, sch.mentor_token, base_id + i,
                              name_of(100 + i, suffix), rng, minor=False)
        for i in range(MENTORS)
    ]
    mentees = [
        await join_and_submit(make_user, dp, bot, repos, registry, sch.mentee_token, base_id + 100 + i,
                              name_of(i, suffix), rng, minor=i % 4 == 0)
        for i in range(MENTEES)
    ]
    return mentors, mentees


async def test_department_with_two_schools(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry
) -> None:
    rng = random.Random(2026)
    department = await repos.organisations.create("Управление образования", "Asia/Yekaterinburg", 1)
    north = await school(repos, name="Школа №1", coordinator_id=3001, timezone="Asia/Yekaterinburg")
    south = await school(repos, name="Школа №2", coordinator_id=3002, timezone="Asia/Yekaterinburg")
    for sch in (north, south):
        await repos.organisations.set_parent(sch.org.id, department.id)
    await repos.organisations.add_coordinator(department.id, 3000, "Елена Викторовна", "test")

    people = {}
    for base_id, sch in ((40_000, north), (50_000, south)):
        people[sch.programme.id] = await populate(make_user, dp, bot, repos, registry, sch, base_id, rng)
        participants = await repos.participants.count_by_role(sch.programme.id)
        assert participants == {Role.MENTOR: MENTORS, Role.MENTEE: MENTEES}
        for person, state in await repos.participants.of_programme(sch.programme.id, Role.MENTOR, limit=100):
            assert state == "without_pair"
            await repos.readiness.set_flag(person.id, "interview", True, 3000)
            await repos.readiness.set_flag(person.id, "ready", True, 3000)

    # The north school's coordinator opens the preference survey; some mentees choose their mentors.
    anya = make_user(3001, "Anya", "en")
    await anya.send("/programmes")
    await anya.click("Вместе по лестнице успеха")
    await anya.click("Preference survey")
    await anya.click("Open the survey")
    await anya.click("Yes, open")
    await drained(repos)
    north_mentees = people[north.programme.id][1]
    for pupil in north_mentees[:10]:
        survey = [m for m in pupil.messages if any("☐" in b for b in m.buttons)][-1]
        for label in rng.sample([b for b in survey.buttons if b.startswith("☐")], 2):
            await pupil.click(label, survey)
        await pupil.click("Save")
    assert len(await repos.preferences.all_choices(north.programme.id)) == 10

    # Matching: run, adjust (reject one, pair one by hand), accept the rest, approve.
    await anya.send("/programmes")
    await anya.click("Вместе по лестнице успеха")
    await anya.click("Matching and pairs")
    await anya.click("Run matching")
    result = anya.last_text
    proposals = await repos.pairs.proposals(north.programme.id, ProposalStatus.PROPOSED)
    unmatched = await repos.pairs.unmatched(north.programme.id)
    assert len(proposals) + len(unmatched) == MENTEES
    expected = f"Matching done: {len(proposals)} new proposals, {len(unmatched)} without a pair."
    assert result.startswith(expected)
    capacities = await repos.pairs.proposals(north.programme.id)
    assert len({p.mentee_id for p in capacities}) == len(capacities)  # one proposal per mentee
    first = proposals[0]
    await anya.click_data(MatchCb(action="r", programme=north.programme.id, item=first.id).pack(),
                          anya.last_message.message_id)
    await anya.click("Back to matching")
    await anya.click("Accept all proposed")
    await anya.click("Yes, accept all")
    await anya.click("Approve accepted pairs")
    await anya.click("Yes, approve")
    active = await repos.pairs.active(north.programme.id)
    paired = sum(len(p.mentee_ids) for p in active)
    assert paired == len(proposals) - 1
    await drained(repos)
    informed = [p for p in north_mentees if any("Your mentor in «" in t for t in p.texts)]
    assert len(informed) == paired

    # The documents: every approved mentee appears once in the pairs sheet.
    xlsx = anya.documents[-2]
    sheet = list(load_workbook(BytesIO(xlsx))["Pairs and groups"].iter_rows(values_only=True))[1:]
    assert sum(row[3] for row in sheet) == paired
    assert len(sheet) == len(active)

    # The base shows the new states.
    await anya.click_data(BasesCb(action="l", programme=north.programme.id, role=Role.MENTEE,
                                  state="in_pair").pack(), anya.last_message.message_id)
    assert f"Shown: {paired}," in anya.last_text

    # The department coordinator runs both schools' programmes.
    elena = make_user(3000, "Elena", "en")
    await elena.send("/programmes")
    assert len([b for b in elena.buttons() if "Вместе по лестнице успеха" in b]) == 2

    # The south school's coordinator forges callbacks at the north school's programme and people.
    boris = make_user(3002, "Boris", "en")
    north_pupil = (await repos.participants.of_programme(north.programme.id, Role.MENTEE, limit=1))[0][0]
    north_mentor = (await repos.participants.of_programme(north.programme.id, Role.MENTOR, limit=1))[0][0]
    forged = [
        BasesCb(action="c", programme=north.programme.id, role=Role.MENTEE, participant=north_pupil.id),
        BasesCb(action="l", programme=north.programme.id, role=Role.MENTOR),
        ReadinessCb(action="r", programme=north.programme.id, participant=north_mentor.id),
        MatchCb(action="run", programme=north.programme.id),
        MatchCb(action="docs", programme=north.programme.id),
        MatchCb(action="apy", programme=north.programme.id),
    ]
    for data in forged:
        await boris.click_data(data.pack(), 1)
        assert boris.alerts[-1] == NO_ACCESS, data
    # ... and through the own programme with the other school's people.
    await boris.click_data(MatchCb(action="mx", programme=south.programme.id, item=north_pupil.id,
                                   other=north_mentor.id).pack(), 1)
    assert boris.alerts[-1].startswith("This pair cannot be made now")
    await boris.click_data(BasesCb(action="c", programme=south.programme.id, role=Role.MENTEE,
                                   participant=north_pupil.id).pack(), 1)
    assert boris.alerts[-1] == NO_ACCESS
    # A pupil forging someone else's preference choice changes nothing.
    pupil = north_mentees[-1]
    other = north_mentees[0]
    other_participant = await repos.participants.find(north.programme.id, other.id)
    before = await repos.preferences.choices(other_participant.id)
    await pupil.click_data(PreferenceCb(action="s", participant=other_participant.id).pack(), 1)
    assert await repos.preferences.choices(other_participant.id) == before
    assert boris.documents == [] and await repos.pairs.active(south.programme.id) == []
