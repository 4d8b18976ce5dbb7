"""Issue 5 as it will be tried: a programme driven to its end on the simulated clock with part of the people
answering — the self-assessment at the start, the final meetings, the end surveys, reminders, the coordinator
closing the programme, the spreadsheet's numbers checked against the answers given, the charts looked at."""

from __future__ import annotations

from datetime import date, time, timedelta
from io import BytesIO

import pytest
from aiogram import Bot, Dispatcher
from openpyxl import load_workbook
from PIL import Image

from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import local_moment
from dialogs.schema import Registry
from handlers.surveys import survey_sweep
from storage.models import Meeting
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, approved_pair, school
from tests.outbox_helpers import drained
from tests.questionnaire_helpers import current_question

TZ = "Asia/Yekaterinburg"
MENTORS = (21_001, 21_002, 21_003)
MENTEES = (11_001, 11_002, 11_003)


@pytest.fixture
def clock() -> ManualClock:
    moment = manual_clock()
    moment.set(local_moment(date(2027, 3, 1), time(12, 0), TZ))
    return moment


async def _nothing(_meeting: Meeting) -> list:
    return []


async def sweep(dp: Dispatcher, repos: Repositories, registry: Registry, clock: ManualClock) -> None:
    await survey_sweep(repos, dp["i18n"], registry, clock)
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())


async def answer_with(user: TgUser, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry,
                      score: int) -> None:
    """Answer every question on screen: each 1–10 item with `score`, yes/no with Yes, texts with a comment."""
    while (question := await current_question(dp, bot, repos, registry, user.id)) is not None:
        if question.type.value == "scale":
            await user.click(str(score), user.last_message)
        elif question.type.value == "yesno":
            await user.click("Yes", user.last_message)
        elif question.optional:
            await user.send(f"Комментарий {score}")
        else:
            await user.send("Текст")
    await user.click("Submit")
    assert user.last_text == "Thank you! Your answers are saved."


async def test_programme_to_its_end_with_part_answering(
    dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, clock: ManualClock,
    make_user: UserFactory, fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    pairs = [await approved_pair(repos, sch, m, (e,)) for m, e in zip(MENTORS, MENTEES, strict=True)]
    mentees = [make_user(e, "Pupil", "en") for e in MENTEES]
    mentors = [make_user(m, "Mentor", "en") for m in MENTORS]
    for user in (*mentees, *mentors):
        await user.send("/help")

    # The start: everyone is asked to assess themselves; two mentees answer.
    await sweep(dp, repos, registry, clock)
    for user, score in zip(mentees[:2], (3, 4), strict=True):
        await user.click("Answer", user.last_message)
        await answer_with(user, dp, bot, repos, registry, score)

    # The work is done: two pairs hold their final meeting; the third pair's is still ahead.
    clock.set(local_moment(date(2027, 5, 20), time(12, 0), TZ))
    for pair in pairs[:2]:
        final = await repos.meetings.schedule(sch.programme.id, pair.id, "final", clock.now(), 60, "к. 5",
                                              False, pair.mentor_id, _nothing)
        await repos.meetings.log(final.id, final.version, held=True, minutes=60, compose=_nothing)
    await sweep(dp, repos, registry, clock)
    satisfaction = [m for m in mentees[0].messages if m.text.startswith("«Mentee satisfaction survey»")]
    assert len(satisfaction) == 1 and not any("satisfaction" in t for t in mentees[2].texts)
    # The first mentee answers everything at the end; the second only the satisfaction survey.
    invitations = [m for m in mentees[0].messages if m.text.startswith("«") and "please answer" in m.text]
    for invitation in invitations[1:]:
        await mentees[0].click("Answer", invitation)
        await answer_with(mentees[0], dp, bot, repos, registry, 9)
    second = next(m for m in mentees[1].messages if m.text.startswith("«Mentee satisfaction survey»"))
    await mentees[1].click("Answer", second)
    await answer_with(mentees[1], dp, bot, repos, registry, 6)

    # The coordinator closes the programme: the third pair is asked at the end too, once.
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Completion")
    await maria.click("Close the programme…")
    await maria.click("Yes, close the programme")
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    assert any(t.startswith("«Mentee satisfaction survey»") for t in mentees[2].texts)

    # Reminders: at most two to those who have not answered, whatever the number of sweeps.
    for days in (1, 4, 8, 15, 30):
        clock.set(local_moment(date(2027, 5, 20) + timedelta(days=days), time(12, 0), TZ))
        await sweep(dp, repos, registry, clock)
    reminders = await repos.db.fetchall(
        "SELECT user_id, dedupe FROM outbox WHERE dedupe LIKE 'survey-rem:%' AND status = 'sent'")
    per_round: dict[str, int] = {}
    for r in reminders:
        key = r["dedupe"].rsplit(":", 1)[0]
        per_round[key] = per_round.get(key, 0) + 1
    assert per_round and set(per_round.values()) == {2}  # two reminders for every unanswered invitation
    reminded = {r["user_id"] for r in reminders}
    assert mentees[0].id not in reminded  # answered everything: never reminded
    third = [r for r in reminders if r["user_id"] == mentees[2].id]
    assert len(third) == 2 * 4  # nothing answered: two reminders for each of the four rounds

    # The results: the spreadsheet's numbers are the answers given; the charts are readable on a phone.
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Survey results")
    screen = maria.last_text
    assert "Satisfaction: answered 2 of 6" in screen
    assert "Self-assessment before: answered 2 of 6" in screen
    await maria.click("Spreadsheet")
    book = load_workbook(BytesIO(maria.documents[-1]))
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Satisfaction"] == (6, 2, 33.3)
    items = {(row[0], row[1]): row for row in book["Items"].iter_rows(min_row=2, values_only=True)}
    useful = items[("Satisfaction", "How useful was the mentoring programme for you?")]
    assert useful[2:4] == (2, 7.5)  # the answers 9 and 6
    changes = list(book["Before and after"].iter_rows(values_only=True))
    motivation = changes[0].index("Motivation: change")
    assert changes[-1][motivation] == 6  # the first mentee: 3 before, 9 after
    await maria.click("Charts")
    for photo in maria.photos:
        width, _height = Image.open(BytesIO(photo)).size
        assert width >= 900
    assert {p.filename for p in maria.photos} >= {"sat_mentee.png"}
