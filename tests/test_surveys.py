"""Surveys of the pair work on the simulated clock: the self-assessment when the work starts; the
satisfaction survey, the quality survey and the assessment again after the final meeting; answered through
the questionnaire runner; nobody asked twice; at most two reminders, never in quiet hours; forged buttons
refused."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher
from openpyxl import load_workbook
from PIL import Image

from bot.callbacks import ProgrammeCb, SurveyCb
from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import MeetingSettings, in_quiet_hours, local_moment
from dialogs.schema import Kind, Registry
from handlers.surveys import survey_sweep
from storage.models import Meeting, Role, SurveyKind
from storage.repos import Repositories
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, approved_pair, school
from tests.outbox_helpers import drained
from tests.questionnaire_helpers import answer_all

TZ = "Asia/Kamchatka"
MENTOR, MENTEE = 20_001, 10_001


@pytest.fixture
def clock() -> ManualClock:
    moment = manual_clock()
    moment.set(local_moment(date(2027, 4, 1), time(12, 0), TZ))
    return moment


async def _nothing(_meeting: Meeting) -> list:
    return []


async def sweep(dp: Dispatcher, repos: Repositories, registry: Registry, clock: ManualClock):
    found = await survey_sweep(repos, dp["i18n"], registry, clock)
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    return found


async def test_surveys_from_start_to_end(
    dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, clock: ManualClock,
    make_user: UserFactory, fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    pair = await approved_pair(repos, sch, MENTOR, (MENTEE,))
    mentor, mentee = make_user(MENTOR, "Olga", "en"), make_user(MENTEE, "Petr", "en")
    for user in (mentor, mentee):
        await user.send("/help")

    # The work starts: both assess themselves.
    found = await sweep(dp, repos, registry, clock)
    assert found.invited == 2
    assert mentee.last_text == ("«Mentee self-assessment» of «Вместе по лестнице успеха»: please answer, "
                                "it takes a few minutes.")
    assert (await sweep(dp, repos, registry, clock)).invited == 0  # nobody is asked twice
    invitation = mentee.last_message
    stranger = make_user(99_999, "Stranger", "en")
    data = next(b for row in invitation.keyboard for b in row)["callback_data"]
    await stranger.click_data(data, invitation.message_id)
    assert stranger.alerts[-1] == "This button is not for you."
    await mentee.click("Answer", invitation)
    assert mentee.texts[-2].startswith("Mentee self-assessment")
    assert await answer_all(mentee, dp, bot, repos, registry) == 4
    await mentee.click("Submit")
    assert mentee.last_text == "Thank you! Your answers are saved."
    [before] = [r for r in await repos.surveys.of_programme(sch.programme.id)]
    assert before.kind is SurveyKind.ASSESSMENT_BEFORE
    assert await repos.surveys.submitted(before.id) == {pair.mentee_ids[0]}
    # The survey is not the questionnaire: the base still says the mentee has not started it.
    [(_person, state)] = await repos.participants.of_programme(sch.programme.id, Role.MENTEE)
    assert state == "in_pair"
    await mentee.click("Answer", invitation)
    assert mentee.last_text == "You have already answered this survey. Thank you!"

    # The final meeting is held: satisfaction, quality and the assessment again, to both.
    final = await repos.meetings.schedule(sch.programme.id, pair.id, "final",
                                          clock.now() + timedelta(hours=1), 60, "кабинет 5", False, MENTOR,
                                          _nothing)
    await repos.meetings.log(final.id, final.version, held=True, minutes=60, compose=_nothing)
    found = await sweep(dp, repos, registry, clock)
    assert found.invited == 6
    titles = [t.split("»")[0] for t in mentee.texts[-3:]]
    assert titles == ["«Mentee satisfaction survey", "«Programme quality (mentee)", "«Mentee self-assessment"]
    assert [t.split("»")[0] for t in mentor.texts[-3:]] == [
        "«Mentor satisfaction survey", "«Programme quality (mentor)", "«Mentor self-assessment"]
    rounds = {r.kind: r for r in await repos.surveys.of_programme(sch.programme.id)}
    satisfaction = rounds[SurveyKind.SATISFACTION]
    await mentee.click_data(SurveyCb(round=satisfaction.id, participant=pair.mentee_ids[0]).pack(), 1)
    await answer_all(mentee, dp, bot, repos, registry)
    await mentee.click("Submit")
    assert mentee.last_text == "Thank you! Your answers are saved."

    # Reminders: at most two, three and seven days on, never in the quiet hours (it is night in Kamchatka).
    await repos.meetings.save_settings(MeetingSettings(sch.programme.id), 1)
    night = local_moment(date(2027, 4, 4), time(23, 30), TZ)
    clock.set(night)
    found = await sweep(dp, repos, registry, clock)
    assert found.reminded == 6  # the mentor: four unanswered rounds; the mentee: two (two answered)
    rows = await repos.db.fetchall(
        "SELECT user_id, not_before FROM outbox WHERE dedupe LIKE 'survey-rem:%'")
    for row in rows:
        moment = datetime.fromisoformat(row["not_before"])
        assert not in_quiet_hours(moment, await repos.meetings.settings(sch.programme.id), TZ)
        assert moment.astimezone(ZoneInfo(TZ)).strftime("%H:%M") == "08:00"
    assert sorted(r["user_id"] for r in rows) == [MENTEE] * 2 + [MENTOR] * 4
    for days in (8, 30):
        clock.set(local_moment(date(2027, 4, 1) + timedelta(days=days), time(12, 0), TZ))
        await sweep(dp, repos, registry, clock)
    counted = await repos.db.fetchall(
        "SELECT user_id, COUNT(*) FROM outbox WHERE dedupe LIKE 'survey-rem:%' GROUP BY user_id")
    assert {r[0]: r[1] for r in counted} == {MENTOR: 8, MENTEE: 4}  # two per unanswered round, no more


async def answer_round(repos: Repositories, registry: Registry, participant_id: int, round_id: int,
                       kind: Kind, answers: dict[str, object]) -> None:
    person = await repos.participants.get(participant_id)
    q = registry.survey(kind, person.role, person.form)
    response = await repos.responses.start(participant_id, q.id, q.version, round_id)
    for question_id, value in answers.items():
        await repos.responses.save_answer(response.id, question_id, value)
    assert await repos.responses.submit(response.id)


async def test_results_spreadsheet_and_charts_match_the_answers(
    dp: Dispatcher, repos: Repositories, registry: Registry, clock: ManualClock, make_user: UserFactory,
    fast_outbox: Outbox, tmp_path: Path,
) -> None:
    sch = await school(repos, timezone=TZ, forms=("pupil_pupil", "teacher_pupil"))
    first = await approved_pair(repos, sch, MENTOR, (MENTEE, MENTEE + 1))
    second = await approved_pair(repos, sch, MENTOR + 1, (MENTEE + 2,), form="teacher_pupil")
    for pair in (first, second):
        final = await repos.meetings.schedule(sch.programme.id, pair.id, "final", clock.now(), 60, "к. 5",
                                              False, 1, _nothing)
        await repos.meetings.log(final.id, final.version, held=True, minutes=60, compose=_nothing)
    await sweep(dp, repos, registry, clock)
    rounds = {r.kind: r for r in await repos.surveys.of_programme(sch.programme.id)}
    scores = {first.mentee_ids[0]: 9, first.mentee_ids[1]: 6, second.mentee_ids[0]: 4}
    ids = {kind: r.id for kind, r in rounds.items()}
    for mentee_id, score in scores.items():
        await answer_round(repos, registry, mentee_id, ids[SurveyKind.SATISFACTION], Kind.SATISFACTION, {
            "effective": score, "comfort": 10, "mentor_help": 8, "joint_work": 7, "expectations": 7,
            "meetings": 8, "liked": True, "school_life": score > 5, "become_mentor": False,
            "valuable": f"Полезно ({score})", "change": None,
        })
        params = {"motivation": 3, "confidence": 4, "results": 5, "skills": 5}
        await answer_round(repos, registry, mentee_id, ids[SurveyKind.ASSESSMENT_BEFORE], Kind.ASSESSMENT,
                           params)
        await answer_round(repos, registry, mentee_id, ids[SurveyKind.ASSESSMENT_AFTER], Kind.ASSESSMENT,
                           {**params, "motivation": score})

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Survey results")
    assert "Satisfaction: answered 3 of 5" in maria.last_text  # 3 mentees of 5 people asked
    await maria.click("Spreadsheet")
    assert maria.documents, maria.texts[-2:]
    book = load_workbook(BytesIO(maria.documents[-1]))
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Satisfaction"] == (5, 3, 60.0)
    items = {(row[0], row[1]): row for row in book["Items"].iter_rows(min_row=2, values_only=True)}
    effective = items[("Satisfaction", "How useful was the mentoring programme for you?")]
    assert effective[2:4] == (3, round((9 + 6 + 4) / 3, 2))
    assert effective[4:14] == (0, 0, 0, 1, 0, 1, 0, 0, 1, 0)  # one 4, one 6, one 9
    assert items[("Satisfaction", "Do you now want to take a more active part in school life?")][3] == \
        "yes: 66.7%"
    forms = {(r[1], r[2]): r[3] for r in book["By form"].iter_rows(min_row=2, values_only=True)}
    assert forms[("How useful was the mentoring programme for you?", "Pupil – pupil")] == 7.5
    assert forms[("How useful was the mentoring programme for you?", "Teacher – pupil")] == 4.0
    comments = sorted(r[2] for r in book["Comments"].iter_rows(min_row=2, values_only=True))
    assert comments == ["Полезно (4)", "Полезно (6)", "Полезно (9)"]
    change = list(book["Before and after"].iter_rows(values_only=True))
    assert change[0][:5] == ("Name", "Role", "Confidence: before", "Confidence: after", "Confidence: change")
    assert change[-1][0] == "Programme, mean change"
    assert {row[1] for row in change[1:-1]} == {"mentee"}  # the role as a person reads it
    motivation = change[0].index("Motivation: change")
    assert change[-1][motivation] == round(((9 - 3) + (6 - 3) + (4 - 3)) / 3, 2)

    await maria.click("Charts")
    photos = {p.filename: p for p in maria.photos}
    assert sorted(photos) == ["assess_mentee.png", "sat_mentee.png"]  # only mentees answered (before, after)
    width, height = Image.open(BytesIO(photos["sat_mentee.png"])).size
    assert width >= 900 and height > width / 2
    (tmp_path / "sat_mentee.png").write_bytes(photos["sat_mentee.png"])


async def test_results_refused_to_another_school(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    await school(repos, name="Школа №5", coordinator_id=3000)
    oleg = make_user(3000, "Oleg", "en")
    for action in ("results", "results_xlsx", "results_png"):
        await oleg.click_data(ProgrammeCb(action=action, programme=sch.programme.id).pack(), 1)
        assert oleg.alerts[-1] == "You don't have access to this programme."
    assert oleg.documents == [] and oleg.photos == []


async def test_reminders_go_on_after_the_pairs_have_ended(
    dp: Dispatcher, repos: Repositories, registry: Registry, clock: ManualClock, fast_outbox: Outbox,
) -> None:
    """A closed programme has no active pair, but those who have not answered its surveys are reminded."""
    sch = await school(repos, timezone=TZ)
    pair = await approved_pair(repos, sch, MENTOR, (MENTEE,))
    assert (await sweep(dp, repos, registry, clock)).invited == 2
    await repos.db.execute("UPDATE pairs SET status = 'ended' WHERE id = ?", (pair.id,))
    clock.set(clock.now() + timedelta(days=3, hours=1))
    assert (await sweep(dp, repos, registry, clock)).reminded == 2
