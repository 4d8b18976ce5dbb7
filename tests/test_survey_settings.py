"""Survey settings on the simulated clock: feedback during the work in the chosen period and frequency, the
self-assessment asking only the chosen parameters, the digest's survey line with its Remind, the
department's results of all schools, and forged buttons refused."""

from __future__ import annotations

from datetime import date, time
from io import BytesIO

import pytest
from aiogram import Bot, Dispatcher
from openpyxl import load_workbook

from bot.callbacks import DigestCb, ProgrammeCb, SurveyDeptCb
from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import local_moment
from dialogs.schema import Registry
from handlers.digest_compose import run_digests
from handlers.surveys import survey_sweep
from storage.models import SurveyKind
from storage.repos import Repositories
from storage.repos.digests import DigestSetting
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, approved_pair, school
from tests.outbox_helpers import drained
from tests.questionnaire_helpers import answer_all

TZ = "Europe/Moscow"
MENTOR, MENTEE = 20_001, 10_001


@pytest.fixture
def clock() -> ManualClock:
    moment = manual_clock()
    moment.set(local_moment(date(2027, 1, 20), time(12, 0), TZ))
    return moment


async def sweep(dp: Dispatcher, repos: Repositories, registry: Registry, clock: ManualClock):
    found = await survey_sweep(repos, dp["i18n"], registry, clock)
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    return found


async def feedback_labels(repos: Repositories, programme_id: int) -> list[str]:
    return [r.label for r in await repos.surveys.of_programme(programme_id) if r.kind is SurveyKind.FEEDBACK]


async def test_feedback_period_and_parameters_chosen_by_taps(
    dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, clock: ManualClock,
    make_user: UserFactory, fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    pid = sch.programme.id
    await approved_pair(repos, sch, MENTOR, (MENTEE,))
    mentor, mentee = make_user(MENTOR, "Olga", "en"), make_user(MENTEE, "Petr", "en")
    for user in (mentor, mentee):
        await user.send("/help")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Survey results")
    await maria.click("Survey settings")
    assert "Feedback during the work: off." in maria.last_text
    await maria.click("Monthly")
    await maria.click("From…")
    await maria.click("February 2027")
    await maria.click("To…")
    await maria.click("May 2027")
    assert "Feedback during the work: monthly, from February 2027 to May 2027" in maria.last_text
    await maria.click("☑️ Results in the subject")
    await maria.click("☑️ Professional skills")
    assert "Self-assessment asks about: Motivation, Confidence." in maria.last_text
    found = await repos.surveys.settings(pid)
    assert (found.feedback_every, found.feedback_from, found.feedback_to) == ("month", date(2027, 2, 1),
                                                                               date(2027, 5, 31))
    assert found.assess_params == ("motivation", "confidence")
    await maria.click("☑️ Motivation")
    await maria.click("☑️ Confidence")  # the last one stays
    assert maria.alerts[-1] == "Keep at least one parameter."
    await maria.click("⬜ Motivation")
    # A month outside the programme, a period ending before it starts: refused, nothing changed.
    await maria.click_data(ProgrammeCb(action="svset", programme=pid, value="from=2028-01").pack(), 1)
    assert maria.alerts[-1] == "This button is out of date."
    await maria.click_data(ProgrammeCb(action="svset", programme=pid, value="from=2027-05").pack(), 1)
    await maria.click_data(ProgrammeCb(action="svset", programme=pid, value="to=2027-03").pack(), 1)
    assert maria.alerts[-1] == "The period must end after it starts."
    await maria.click_data(ProgrammeCb(action="svset", programme=pid, value="from=2027-02").pack(), 1)

    # January: before the period, only the self-assessment (two parameters asked).
    assert (await sweep(dp, repos, registry, clock)).invited == 2
    assert await feedback_labels(repos, pid) == []
    await mentee.click("Answer", mentee.last_message)
    assert await answer_all(mentee, dp, bot, repos, registry) == 2
    await mentee.click("Submit")
    assert mentee.last_text == "Thank you! Your answers are saved."

    # February and March: one feedback round each, to both; the same month again asks nobody twice.
    clock.set(local_moment(date(2027, 2, 1), time(9, 0), TZ))
    assert (await sweep(dp, repos, registry, clock)).invited == 2
    assert (await sweep(dp, repos, registry, clock)).invited == 0
    assert mentee.last_text.startswith("«How it is going with your mentor»")
    await mentee.click("Answer", mentee.last_message)
    await answer_all(mentee, dp, bot, repos, registry)
    await mentee.click("Submit")
    clock.set(local_moment(date(2027, 3, 2), time(9, 0), TZ))
    await sweep(dp, repos, registry, clock)
    assert await feedback_labels(repos, pid) == ["2027-02-01", "2027-03-01"]
    # A round that has closed is not reminded (the mentor never answered February's).
    clock.set(local_moment(date(2027, 3, 20), time(12, 0), TZ))
    await sweep(dp, repos, registry, clock)
    rows = await repos.db.fetchall("SELECT dedupe FROM outbox WHERE dedupe LIKE 'survey-rem:%'")
    [february] = [r for r in await repos.surveys.of_programme(pid) if r.label == "2027-02-01"]
    assert not [r for r in rows if r["dedupe"].startswith(f"survey-rem:{february.id}:")]
    # June: after the period, no new round.
    clock.set(local_moment(date(2027, 6, 1), time(9, 0), TZ))
    await sweep(dp, repos, registry, clock)
    assert await feedback_labels(repos, pid) == ["2027-02-01", "2027-03-01"]  # missed slots not sent late

    # The mentee's answers reach the coordinator only; the mentor's chat never shows them.
    await maria.click_data(ProgrammeCb(action="results", programme=pid).pack(), 1)
    assert "Feedback: answered 1 of 4" in maria.last_text
    assert "Self-assessment before: answered 1 of 2" in maria.last_text
    assert not any("How the pair work" in t and "answered" in t for t in mentor.texts)


async def test_digest_counts_unanswered_surveys_and_reminds_once(
    dp: Dispatcher, repos: Repositories, registry: Registry, clock: ManualClock, make_user: UserFactory,
    fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    await approved_pair(repos, sch, MENTOR, (MENTEE,))
    mentee = make_user(MENTEE, "Petr", "en")
    await mentee.send("/help")
    await sweep(dp, repos, registry, clock)  # the self-assessment to both, unanswered
    await repos.digests.save_setting(COORDINATOR_ID, DigestSetting("daily", hour=8))
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/help")  # the bot knows she reads English
    clock.set(local_moment(date(2027, 1, 21), time(8, 5), TZ))
    await run_digests(repos, dp["i18n"], clock)
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    digest = maria.last_message
    assert "• 2 surveys not answered yet" in digest.text
    await maria.click("1 · Remind of surveys", digest)
    assert maria.alerts[-1] == "Reminders are queued for 2 people."
    await maria.click("1 · Remind of surveys", digest)
    assert maria.alerts[-1] == "Those who have not answered were already reminded for this digest."
    await drained(repos, due_by=clock.now())
    assert mentee.last_text.startswith("Reminder: please answer the survey")
    # A period with no digest, another school's coordinator: refused.
    await maria.click_data(DigestCb(action="survey_remind", programme=sch.programme.id,
                                    value="2027-01-01").pack(), 1)
    assert maria.alerts[-1] == "This button is out of date."
    other = await school(repos, name="Школа №5", coordinator_id=3000)
    oleg = make_user(3000, "Oleg", "en")
    await oleg.click_data(DigestCb(action="survey_remind", programme=sch.programme.id,
                                   value="2027-01-21").pack(), 1)
    assert oleg.alerts[-1] == "You don't have access to this programme."
    assert other.programme.id != sch.programme.id


async def test_department_results_per_school_and_overall(
    dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, clock: ManualClock,
    make_user: UserFactory, fast_outbox: Outbox,
) -> None:
    department = await repos.organisations.create("Управление образования", TZ, created_by=1)
    await repos.organisations.add_coordinator(department.id, 3000, "Инспектор", "test")
    for n in range(3):
        sch = await school(repos, name=f"Школа №{n + 1}", timezone=TZ, coordinator_id=2000 + n)
        await repos.organisations.set_parent(sch.org.id, department.id)
        await approved_pair(repos, sch, MENTOR + n, (MENTEE + n,))
        await make_user(MENTEE + n, f"M{n}", "en").send("/help")
    await sweep(dp, repos, registry, clock)
    for n in range(2):  # two of three mentees answer the self-assessment
        mentee = make_user(MENTEE + n, f"M{n}", "en")
        await mentee.click("Answer", mentee.last_message)
        await answer_all(mentee, dp, bot, repos, registry)
        await mentee.click("Submit")
    boss = make_user(3000, "Inspector", "en")
    await boss.send("/results")
    await boss.click("All schools of Управление образования")
    assert "Self-assessment before: answered 2 of 6" in boss.last_text
    await boss.click("Spreadsheet")
    book = load_workbook(BytesIO(boss.documents[-1]))
    assert {"Summary", "Школа №1", "Школа №2", "Школа №3"} <= set(book.sheetnames)
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Self-assessment before"] == (6, 2, 33.3)
    third = list(book["Школа №3"].iter_rows(min_row=2, values_only=True))
    assert third[0][1:] == ("Self-assessment before", "Response rate, %", 0, 0.0)
    await boss.click("Charts")
    assert sorted(p.filename for p in boss.photos) == ["assess_mentee.png"]
    # A school's coordinator does not get the department's results.
    school_one = make_user(2000, "Anna", "en")
    await school_one.click_data(SurveyDeptCb(action="xlsx", org=department.id).pack(), 1)
    assert school_one.alerts[-1] == "You don't have access to this organisation."
    assert school_one.documents == []
