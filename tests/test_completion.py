"""Completing a programme on the simulated clock: awards and the thank-you letters read back, closing with a
confirmation (pairs end, the end surveys to those not asked yet, meetings' reminders cancelled, links dead),
the closed programme read-only while its results stay viewable, the long-term mentor base question, the
deletion of personal data after the retention and not before, and another school's coordinator refused."""

from __future__ import annotations

from datetime import date, time, timedelta
from io import BytesIO

import pytest
from aiogram import Dispatcher
from docx import Document

from bot.callbacks import CompletionCb, MentorBaseCb
from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import local_moment
from dialogs.schema import Registry
from handlers.completion import retention_sweep
from handlers.surveys import invite
from storage.models import Meeting, OutboxMessage, Role, SurveyKind
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, School, approved_pair, school
from tests.outbox_helpers import drained

TZ = "Europe/Moscow"
MENTOR, MENTEE, OTHER_MENTOR = 20_001, 10_001, 20_002
TITLE = "Вместе по лестнице успеха"
NO_ACCESS = "You don't have access to this programme."
CLOSED = ("This programme is closed: it is kept read-only. Its cards, results and documents can still be "
          "viewed, but nothing in it can be changed.")


@pytest.fixture
def clock() -> ManualClock:
    moment = manual_clock()
    moment.set(local_moment(date(2027, 5, 20), time(12, 0), TZ))
    return moment


async def open_completion(maria: TgUser) -> None:
    await maria.send("/programmes")
    await maria.click(TITLE)
    await maria.click("Completion")
    assert maria.last_text.startswith(f"Completing «{TITLE}»")


async def two_mentors(repos: Repositories, sch: School) -> tuple[int, int]:
    pair = await approved_pair(repos, sch, MENTOR, (MENTEE,))
    other = await repos.participants.enrol(sch.programme.id, OTHER_MENTOR, Role.MENTOR, "pupil_pupil",
                                           "Игорь Волков", False, "test")
    return pair.id, other.id


async def test_awards_and_thank_you_letters(
    repos: Repositories, make_user: UserFactory, clock: ManualClock,
) -> None:
    sch = await school(repos, timezone=TZ)
    pair_id, other_id = await two_mentors(repos, sch)
    mentor_id = (await repos.pairs.get(pair_id)).mentor_id
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_completion(maria)
    assert "Status: running." in maria.last_text
    assert "Mentor of the year: —" in maria.last_text and "Best pair: —" in maria.last_text
    await maria.click("Thank-you letters (DOCX)")
    assert maria.alerts[-1] == "Mark a mentor of the year or a best pair first."
    assert maria.documents == []

    await maria.click("Mentor of the year…")
    assert maria.buttons()[:2] == ["☐ Игорь Волков", "☐ Ольга Смирнова"]
    await maria.click("☐ Ольга Смирнова")
    await maria.click("☐ Игорь Волков")
    await maria.click("☑ Игорь Волков")  # taken back
    assert maria.buttons()[:2] == ["☐ Игорь Волков", "☑ Ольга Смирнова"]
    assert await repos.completion.awarded(sch.programme.id, "mentor") == {mentor_id}
    await maria.click("Back")
    await maria.click("Best pair…")
    await maria.click("☐ Ольга Смирнова — Пётр Сидоров")
    assert await repos.completion.awarded(sch.programme.id, "pair") == {pair_id}
    await maria.click("Back")
    assert "Mentor of the year: Ольга Смирнова" in maria.last_text
    assert "Best pair: Ольга Смирнова — Пётр Сидоров" in maria.last_text
    assert other_id not in await repos.completion.awarded(sch.programme.id, "mentor")

    await maria.click("Thank-you letters (DOCX)")
    [letters] = maria.documents
    assert letters.filename == f"thank-you-{sch.programme.id}.docx"
    doc = Document(BytesIO(letters))
    text = "\n".join(p.text for p in doc.paragraphs)
    pages = text.split("Лицей №21\nLETTER OF THANKS\n")
    assert pages[0] == "" and len(pages) == 3  # a page per award, each headed by the organisation
    assert pages[1].startswith("Mentor of the year\nОльга Смирнова\n")
    assert pages[2].startswith("Best pair\nОльга Смирнова\nПётр Сидоров\n")
    for page in pages[1:]:
        assert f"mentoring programme «{TITLE}»" in page
        assert "Date: May 20, 2027" in page
        assert "Head of the organisation ____________ / ____________" in page
    assert "Игорь Волков" not in text
    breaks = [r for p in doc.paragraphs for r in p.runs if 'w:br w:type="page"' in r._r.xml]
    assert len(breaks) == 1


async def _reminder(meeting: Meeting) -> list[OutboxMessage]:
    return [OutboxMessage(user_id=MENTOR, kind="reminder", ref=meeting.id, dedupe=f"test-rem:{meeting.id}",
                          text="Tomorrow: the meeting.", not_before=meeting.starts_at - timedelta(days=1))]


async def test_closing_ends_pairs_sends_end_surveys_once_and_asks_mentors(
    dp: Dispatcher, repos: Repositories, registry: Registry, make_user: UserFactory, clock: ManualClock,
    fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    pair_id, _other = await two_mentors(repos, sch)
    pair = await repos.pairs.get(pair_id)
    meeting = await repos.meetings.schedule(sch.programme.id, pair.id, "regular",
                                            clock.now() + timedelta(days=5), 60, "кабинет 5", False, MENTOR,
                                            _reminder)
    mentor, mentee, igor = make_user(MENTOR, "Olga", "en"), make_user(MENTEE, "Petr", "en"), \
        make_user(OTHER_MENTOR, "Igor", "ru")
    for user in (mentor, mentee, igor):
        await user.send("/help")
    # The mentee was already asked for the satisfaction survey (after a final meeting, say).
    mentee_person = await repos.participants.get(pair.mentee_ids[0])
    await invite(repos, dp["i18n"], registry, sch.programme, SurveyKind.SATISFACTION, "end", [mentee_person],
                 clock.now())
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    assert mentee.last_text.startswith("«Mentee satisfaction survey» of «")

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_completion(maria)
    await maria.click("Close the programme…")
    assert maria.last_text.startswith(f"Close «{TITLE}»? Its pairs end;")
    assert "deleted 365 days later. This cannot be undone." in maria.last_text
    await maria.click("No, back")
    assert await repos.completion.closed_at(sch.programme.id) is None
    await maria.click("Close the programme…")
    confirmation = maria.last_message
    await maria.click("Yes, close the programme")
    assert maria.last_text.startswith(
        "The programme is closed. Pairs ended: 1. Survey invitations sent: 5. Meetings cancelled: 1. "
        "Mentors asked about the long-term base: 2.")
    assert "Status: closed on May 20, 2027, kept read-only. Personal data will be deleted on May 19, 2028." \
        in maria.last_text
    assert "Close the programme…" not in maria.buttons()
    assert await repos.completion.closed_at(sch.programme.id) == clock.now()

    row = await repos.db.fetchone("SELECT status, ended_at FROM pairs WHERE id = ?", (pair.id,))
    assert row["status"] == "ended" and row["ended_at"] is not None
    assert await repos.pairs.active(sch.programme.id) == []
    assert (await repos.meetings.get(meeting.id)).status.value == "cancelled"
    reminder = await repos.db.fetchone("SELECT status FROM outbox WHERE dedupe = ?",
                                       (f"test-rem:{meeting.id}",))
    assert reminder["status"] == "cancelled"
    assert await repos.invites.active_for_programme(sch.programme.id, clock.now()) == []

    await drained(repos, due_by=clock.now())
    # The end surveys: the mentee now gets the quality survey and the self-assessment again (satisfaction
    # was asked before), the mentor all three.
    survey_texts = [t.split("»")[0] for t in mentee.texts if " please answer" in t]
    assert survey_texts == ["«Mentee satisfaction survey", "«Programme quality (mentee)",
                            "«Mentee self-assessment"]
    assert [t.split("»")[0] for t in mentor.texts if " please answer" in t] == [
        "«Mentor satisfaction survey", "«Programme quality (mentor)", "«Mentor self-assessment"]
    invited = await repos.db.fetchone("SELECT COUNT(*) FROM survey_invitations")
    assert invited[0] == 6
    # Igor, a mentor without a pair, is asked about the base (in Russian) but gets no survey.
    assert not any(" please answer" in t for t in igor.texts)
    assert mentor.last_text.startswith(f"The mentoring programme «{TITLE}» is complete.")
    assert "long-term mentor base of Лицей №21" in mentor.last_text
    assert mentor.buttons() == ["Yes, keep me in the base", "No, thank you"]
    assert igor.buttons() == ["Да, оставьте меня в базе", "Нет, спасибо"]
    assert not any("long-term mentor base" in t for t in mentee.texts)

    # Pressing the stale confirmation again closes nothing twice.
    await maria.click_data(CompletionCb(action="close", programme=sch.programme.id).pack(),
                           confirmation.message_id)
    assert maria.alerts[-1] == CLOSED
    assert (await repos.db.fetchone("SELECT COUNT(*) FROM survey_invitations"))[0] == 6
    assert (await repos.db.fetchone("SELECT COUNT(*) FROM outbox WHERE kind = 'mentor_base'"))[0] == 2


async def test_long_term_mentor_base_answers(
    dp: Dispatcher, repos: Repositories, make_user: UserFactory, clock: ManualClock, fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    pair_id, other_id = await two_mentors(repos, sch)
    mentor_id = (await repos.pairs.get(pair_id)).mentor_id
    mentor, igor = make_user(MENTOR, "Olga", "en"), make_user(OTHER_MENTOR, "Igor", "en")
    for user in (mentor, igor):
        await user.send("/help")  # the bot knows they read English
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_completion(maria)
    await maria.click("Close the programme…")
    await maria.click("Yes, close the programme")
    await drained(repos, due_by=clock.now())
    assert "Long-term mentor base (agreed to mentor again next year): —\nDeclined: 0. " \
           "Not answered yet: 2." in maria.last_text

    question = mentor.last_message
    stranger = make_user(99_999, "Stranger", "en")
    await stranger.send("/help")
    await stranger.click_data(MentorBaseCb(action="y", participant=mentor_id).pack(), question.message_id)
    assert stranger.alerts[-1] == "This button is not for you."
    assert await repos.completion.base_decision(mentor_id) == ""

    await mentor.click("Yes, keep me in the base")
    assert mentor.last_text.startswith("Thank you! You stay in the long-term mentor base")
    await igor.click("No, thank you")
    assert igor.last_text == "Noted: you are not in the long-term mentor base. Thank you for your work!"
    assert await repos.completion.agreed_to_base(sch.programme.id) == {mentor_id}
    assert await repos.completion.base_decision(other_id) == "declined"
    await maria.click("Back to the card")
    await maria.click("Completion")
    assert "Long-term mentor base (agreed to mentor again next year): Ольга Смирнова\n" \
           "Declined: 1. Not answered yet: 0." in maria.last_text
    # A change of mind is recorded too.
    await igor.click("Yes, keep me in the base", igor.messages[-2])
    assert await repos.completion.agreed_to_base(sch.programme.id) == {mentor_id, other_id}


async def test_a_closed_programme_is_read_only_but_viewable(
    dp: Dispatcher, repos: Repositories, make_user: UserFactory, clock: ManualClock, fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    await two_mentors(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_completion(maria)
    await maria.click("Close the programme…")
    await maria.click("Yes, close the programme")
    await maria.click("Back to the card")
    card = maria.last_message
    for button in ("New links", "Invite links", "Revoke links"):
        await maria.click(button, card)
        assert maria.alerts[-1] == CLOSED
    assert await repos.invites.active_for_programme(sch.programme.id, clock.now()) == []
    await maria.click("Preference survey", card)
    assert maria.last_text.startswith(f"Preference survey of «{TITLE}»\n\nNot opened yet.")
    refusals = len(maria.alerts)
    await maria.click("Open the survey")
    assert len(maria.alerts) == refusals + 1 and maria.alerts[-1] == CLOSED
    assert "Not opened yet." in maria.last_text
    # Reading screens stay open: the results (with their files) and the bases.
    await maria.send("/programmes")
    await maria.click(TITLE)
    await maria.click("Survey results")
    assert maria.last_text.startswith(f"Survey results of «{TITLE}»")
    assert "Satisfaction: answered 0 of 2" in maria.last_text  # the end survey went to the pair on closing
    await maria.click("Spreadsheet")
    assert maria.documents[-1].filename.endswith(".xlsx")
    assert len(maria.alerts) == refusals + 1
    await maria.send("/programmes")
    await maria.click(TITLE)
    await maria.click("Mentors (2)")
    assert "Ольга Смирнова — questionnaire not started" in maria.buttons()

    # Nobody joins by the old links any more.
    newcomer = make_user(30_001, "Kate", "en")
    await newcomer.send(f"/start {sch.mentor_token}")
    assert newcomer.last_text == (
        "This mentoring programme has been completed and closed: its links no longer work.")
    assert await repos.participants.find(sch.programme.id, 30_001) is None


async def test_personal_data_deleted_after_the_retention_and_not_before(
    dp: Dispatcher, repos: Repositories, make_user: UserFactory, clock: ManualClock, fast_outbox: Outbox,
) -> None:
    sch = await school(repos, timezone=TZ)
    other_school = await school(repos, name="Гимназия №3", coordinator_id=3000)
    pair_id, _other = await two_mentors(repos, sch)
    kept = await repos.participants.enrol(other_school.programme.id, 40_001, Role.MENTEE, "pupil_pupil",
                                          "Чужой Ученик", False, "test")
    await repos.db.execute("UPDATE programmes SET retention_days = 30 WHERE id = ?", (sch.programme.id,))
    people = [p.id for p, _s in await repos.participants.of_programme(sch.programme.id, Role.MENTOR)]
    people += (await repos.pairs.get(pair_id)).mentee_ids
    assert len(people) == 3
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_completion(maria)
    await maria.click("Close the programme…")
    await maria.click("Yes, close the programme")
    closed = clock.now()
    assert "Personal data will be deleted on June 19, 2027." in maria.last_text

    clock.set(closed + timedelta(days=30) - timedelta(minutes=1))
    assert await retention_sweep(repos, clock) == 0
    assert all([await repos.participants.get(pid) for pid in people])

    clock.set(closed + timedelta(days=30))
    assert await retention_sweep(repos, clock) == 3
    assert [await repos.participants.get(pid) for pid in people] == [None, None, None]
    for table in ("pairs", "survey_invitations", "mentor_base", "responses"):
        count = await repos.db.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert count[0] == 0, table
    consents = await repos.db.fetchall(
        "SELECT participant_id, given_by FROM consents WHERE programme_id = ?", (sch.programme.id,))
    assert len(consents) == 3 and all(c["participant_id"] is None and c["given_by"] is None for c in consents)
    assert await repos.participants.get(kept.id) is not None  # another programme's people stay
    assert await retention_sweep(repos, clock) == 0  # done once
    await maria.click("Back to the card")
    await maria.click("Completion")
    assert "its personal data has been deleted after the retention period" in maria.last_text


async def test_another_schools_coordinator_is_refused(
    dp: Dispatcher, repos: Repositories, make_user: UserFactory, clock: ManualClock,
) -> None:
    sch = await school(repos, timezone=TZ)
    other_school = await school(repos, name="Гимназия №3", coordinator_id=3000)
    pair_id, _other = await two_mentors(repos, sch)
    mentor_id = (await repos.pairs.get(pair_id)).mentor_id
    ivan = make_user(3000, "Ivan", "en")
    await ivan.send("/programmes")
    message = ivan.last_message.message_id
    programme = sch.programme.id
    for data in (
        CompletionCb(action="screen", programme=programme),
        CompletionCb(action="award_m", programme=programme, item=mentor_id),
        CompletionCb(action="letters", programme=programme),
        CompletionCb(action="ask_close", programme=programme),
        CompletionCb(action="close", programme=programme),
    ):
        await ivan.click_data(data.pack(), message)
        assert ivan.alerts[-1] == NO_ACCESS
    assert await repos.completion.closed_at(programme) is None
    assert await repos.completion.awarded(programme, "mentor") == set()
    # Nor can he award our mentor inside his own programme.
    await ivan.click_data(
        CompletionCb(action="award_m", programme=other_school.programme.id, item=mentor_id).pack(), message)
    assert ivan.alerts[-1] == "This mentor or pair is not in the programme any more."
    assert (await repos.db.fetchone("SELECT COUNT(*) FROM awards"))[0] == 0
