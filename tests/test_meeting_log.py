"""Logging a meeting from the log prompt, the mentees' feedback and the private fit check, driven through
the dispatcher on the simulated clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from aiogram import Dispatcher

from bot.callbacks import MeetingCb
from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import MeetingSettings, local_moment
from handlers.meeting_notices import compose_scheduled
from storage.models import Meeting, MeetingStatus, Pair
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, School, approved_pair, school
from tests.outbox_helpers import drained

MENTOR, MENTEE, OTHER_MENTEE = 20_001, 10_001, 10_002
ALREADY_LOGGED = "This meeting is already logged."


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time for these tests."""
    return manual_clock()


@dataclass
class Scene:
    sch: School
    pair: Pair
    meeting: Meeting
    mentor: TgUser
    mentees: list[TgUser]


async def _deliver(dp: Dispatcher, repos: Repositories, clock: ManualClock) -> None:
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())


async def schedule(dp: Dispatcher, repos: Repositories, clock: ManualClock, pair: Pair, step: str) -> Meeting:
    """A meeting of the pair an hour from now (the prompt to log it comes after its end)."""
    async def compose(m: Meeting) -> list:
        return await compose_scheduled(repos, dp["i18n"], clock, m)

    starts = clock.now() + timedelta(hours=1)
    return await repos.meetings.schedule(pair.programme_id, pair.id, step, starts, 60, "Кабинет 12", False,
                                         MENTOR, compose)


async def after_meeting(dp: Dispatcher, repos: Repositories, clock: ManualClock, meeting: Meeting) -> None:
    """The clock passes the meeting's end: the log prompt is sent."""
    clock.set(max(clock.now(), meeting.starts_at + timedelta(minutes=meeting.minutes, seconds=1)))
    await _deliver(dp, repos, clock)


async def scene(dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory,
                step: str = "organisational", mentees: tuple[int, ...] = (MENTEE,)) -> Scene:
    """A pair whose meeting of `step` has just ended; everyone has talked to the bot (in English)."""
    sch = await school(repos)
    pair = await approved_pair(repos, sch, MENTOR, mentees)
    clock.set(local_moment(date(2026, 12, 1), time(12, 0), "Europe/Moscow"))
    mentor = make_user(MENTOR, "Olga", "en")
    people = [make_user(m, "Pupil", "en") for m in mentees]
    for user in (mentor, *people):
        await user.send("/help")
    meeting = await schedule(dp, repos, clock, pair, step)
    await after_meeting(dp, repos, clock, meeting)
    assert "How did the organisational meeting" in mentor.last_text or step != "organisational"
    return Scene(sch, pair, meeting, mentor, people)


async def log_held(s: Scene, minutes: str = "45 min", note: str | None = "Talked about the olympiad."
                   ) -> None:
    await s.mentor.click("Held")
    assert s.mentor.last_text.startswith("Log of the ")
    await s.mentor.click(minutes)
    await s.mentor.click("Conversation")
    await s.mentor.click("Preparation for an olympiad")
    await s.mentor.click("Done")
    if note is None:
        await s.mentor.click("Skip")
    else:
        await s.mentor.send(note)


async def test_held_meeting_logged_with_follow_ups(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user)
    await log_held(s)
    review = s.mentor.last_text
    assert "Held, 45 min." in review
    assert "What was done: Conversation, Preparation for an olympiad or competition." in review
    assert "Note: Talked about the olympiad." in review
    save = s.mentor.last_message
    await s.mentor.click("Save")
    logged = await repos.meetings.get(s.meeting.id)
    assert logged.status is MeetingStatus.HELD and logged.held_minutes == 45
    assert logged.activities == ("conversation", "olympiad") and logged.notes == "Talked about the olympiad."
    assert s.mentor.last_text.startswith("Saved: the meeting was held.\n\nNext: the trial working meeting.")
    [button] = [b for row in s.mentor.last_message.keyboard for b in row]
    assert button["text"] == "Schedule the trial working meeting"
    assert MeetingCb.unpack(button["callback_data"]) == MeetingCb(action="schedule", pair=s.pair.id)

    # A second tap on Save (from a copy of the screen) logs nothing twice.
    data = MeetingCb(action="log_save", meeting=s.meeting.id, version=s.meeting.version).pack()
    await s.mentor.click_data(data, save.message_id)
    assert s.mentor.alerts[-1] == ALREADY_LOGGED
    await s.mentor.click_data(MeetingCb(action="log_held", meeting=s.meeting.id, version=1).pack(),
                              save.message_id)
    assert s.mentor.alerts[-1] == ALREADY_LOGGED

    await _deliver(dp, repos, clock)
    mentee = s.mentees[0]
    assert any(t.startswith("How useful was the organisational meeting") for t in mentee.texts)
    fit = "does your pair fit? Your answer is private"
    assert any(fit in t for t in mentee.texts) and any(fit in t for t in s.mentor.texts)
    assert not any("How useful" in t for t in s.mentor.texts)
    assert (await repos.outbox.counts("feedback", s.meeting.id))["sent"] == 1


async def test_feedback_once_with_comment_never_shown_to_the_mentor(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user, mentees=(MENTEE, OTHER_MENTEE))
    await log_held(s, note=None)
    await s.mentor.click("Save")
    await _deliver(dp, repos, clock)
    anna, gleb = s.mentees
    rating = anna.last_message if "How useful" in anna.last_text else anna.messages[-2]
    await anna.click("4", rating)
    assert anna.last_text.startswith("Thank you, your rating is saved. Add a comment")
    assert "✅ 4/5" in anna.messages[-2].text or any("✅ 4/5" in t for t in anna.texts)
    await anna.send_sticker()
    assert anna.last_text.startswith("Send the comment as a text message of up to 1000 characters")
    await anna.send("x" * 1001)
    assert anna.last_text.startswith("Send the comment as a text message")
    await anna.send("Very useful, thank you!")
    assert anna.last_text == "Thank you, your comment is saved. Only the coordinator sees it."

    # A second rating, the mentor's forged rating, a rating out of range: refused, nothing changes.
    forged = MeetingCb(action="fb", meeting=s.meeting.id, value="5").pack()
    await anna.click_data(forged, rating.message_id)
    assert anna.alerts[-1] == "You have already rated this meeting."
    await s.mentor.click_data(forged, s.mentor.last_message.message_id)
    assert s.mentor.alerts[-1] == "Only the mentees of this pair rate its meetings."
    await gleb.click_data(MeetingCb(action="fb", meeting=s.meeting.id, value="9").pack(),
                          gleb.last_message.message_id)
    assert gleb.alerts[-1] == "This meeting cannot be rated."
    gleb_rating = next(m for m in gleb.messages if "How useful" in m.text)
    await gleb.click("2", gleb_rating)
    await gleb.click("Skip")
    assert "✅ Skip" in gleb.last_text

    ids = {p.user_id: p.id for p in [await repos.participants.find(s.sch.programme.id, u)
                                     for u in (MENTEE, OTHER_MENTEE)]}
    assert await repos.meetings.feedback(s.meeting.id) == sorted([
        (ids[MENTEE], 4, "Very useful, thank you!"), (ids[OTHER_MENTEE], 2, None)])
    assert not any("Very useful" in t or "4/5" in t for t in s.mentor.texts)


async def test_fit_check_not_a_good_fit_goes_to_the_coordinator_only(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/help")
    await log_held(s)
    await s.mentor.click("Save")
    await _deliver(dp, repos, clock)
    mentee = s.mentees[0]
    await mentee.click("Not a good fit")
    assert mentee.last_text.startswith("Thank you. The coordinator will get in touch with you")
    await mentee.click_data(MeetingCb(action="fit", pair=s.pair.id, value="good").pack(),
                            mentee.last_message.message_id)
    assert mentee.alerts[-1] == "You have already answered this question."
    await s.mentor.click("Good fit")
    assert s.mentor.last_text == "Thank you! Nobody but the coordinator sees your answer."
    await _deliver(dp, repos, clock)
    assert maria.last_text.startswith("Re-pair request in «Вместе по лестнице успеха»: Пётр Сидоров (mentee) "
                                      "says the pair of Ольга Смирнова with Пётр Сидоров is not a good fit")
    assert len([t for t in maria.texts if t.startswith("Re-pair request")]) == 1
    assert not any("Re-pair" in t or "not a good fit" in t.casefold() for t in s.mentor.texts)
    assert not any("Good fit" in t for t in mentee.texts if not t.startswith("After your organisational"))
    answers = await repos.meetings.fit_answers(s.pair.id)
    assert sorted(answers.values()) == ["bad", "good"]

    # Someone outside the pair, or a forged answer, changes nothing.
    stranger = make_user(30_003, "Stranger", "en")
    await stranger.send("/help")
    await stranger.click_data(MeetingCb(action="fit", pair=s.pair.id, value="bad").pack(),
                              stranger.last_message.message_id)
    assert stranger.alerts[-1] == "This question is not for you."
    await mentee.click_data(MeetingCb(action="fit", pair=s.pair.id, value="awful").pack(),
                            mentee.last_message.message_id)
    assert mentee.alerts[-1] == "This question is no longer open."
    assert len(await repos.meetings.fit_answers(s.pair.id)) == 2


async def test_planning_goals_saved_and_typed_duration(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user, step="planning")
    # This programme starts with the planning meeting, so the regular meetings come next.
    await repos.meetings.save_settings(MeetingSettings(s.sch.programme.id, steps=("planning", "regular",
                                                                                  "final")), COORDINATOR_ID)
    await s.mentor.click("Held")
    await s.mentor.send_sticker()
    assert s.mentor.last_text.startswith("Send the number of minutes as a number from 5 to 480")
    await s.mentor.send("3")
    assert s.mentor.last_text.startswith("Send the number of minutes")
    await s.mentor.send("50")
    assert s.mentor.last_text.startswith("What was done at the meeting?")
    await s.mentor.click("Done")
    assert s.mentor.alerts[-1] == "Pick at least one thing that was done, then tap Done."
    await s.mentor.click("Project work")
    await s.mentor.click("Project work")  # unpicked again
    assert "☐ Project work" in s.mentor.buttons()
    await s.mentor.click("Game or training")
    await s.mentor.click("Done")
    note = s.mentor.last_message
    await s.mentor.send_sticker()
    assert s.mentor.last_text.startswith("Send the note as a text message")
    await s.mentor.click("Skip", note)
    [note] = [m for m in s.mentor.messages if m.message_id == note.message_id]
    assert note.text.startswith("This was the planning meeting: send the goals")
    await s.mentor.send_sticker()
    assert s.mentor.last_text.startswith("Send 1 to 5 goals as text")
    await s.mentor.send("\n".join(f"Goal {n}" for n in range(6)))
    assert s.mentor.last_text.startswith("Send 1 to 5 goals as text")
    await s.mentor.send("Win the city olympiad\n\n  Read ten books  \n")
    assert "1. Win the city olympiad\n2. Read ten books" in s.mentor.last_text
    assert (await repos.meetings.get(s.meeting.id)).status is MeetingStatus.SCHEDULED  # not before Save
    await s.mentor.click("Save")
    assert s.mentor.last_text.startswith("Saved: the meeting was held.\n\nNext: the regular meeting.")
    assert await repos.pairs.goals(s.pair.id) == ["Win the city olympiad", "Read ten books"]
    logged = await repos.meetings.get(s.meeting.id)
    assert logged.held_minutes == 50 and logged.activities == ("game",) and logged.notes is None
    plan = await repos.db.fetchone("SELECT agreed_at FROM pair_plans WHERE pair_id = ?", (s.pair.id,))
    assert plan["agreed_at"] is not None


async def test_regular_meeting_marks_progress(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user, step="planning")
    await repos.meetings.log(s.meeting.id, s.meeting.version, held=True, minutes=60, activities=["other"],
                             goals=["Win the city olympiad", "Read ten books"], compose=_nothing)
    regular = await schedule(dp, repos, clock, s.pair, "regular")
    await after_meeting(dp, repos, clock, regular)
    await s.mentor.click("Held", s.mentor.last_message)
    await s.mentor.click("60 min")
    await s.mentor.click("Conversation")
    await s.mentor.click("Done")
    await s.mentor.send("Good progress.")
    review = s.mentor.last_text
    assert "1. Win the city olympiad — not started\n2. Read ten books — not started" in review
    assert s.mentor.buttons()[:3] == ["✅ 1: not started", "1: in progress", "1: achieved"]
    await s.mentor.click("2: achieved")
    await s.mentor.click("1: in progress")
    assert "1. Win the city olympiad — in progress\n2. Read ten books — achieved" in s.mentor.last_text
    await s.mentor.click("Save")
    assert s.mentor.last_text.startswith("Saved: the meeting was held.")
    rows = await repos.db.fetchall("SELECT goal_id, status FROM goal_progress WHERE meeting_id = ?",
                                   (regular.id,))
    assert sorted(r["status"] for r in rows) == ["achieved", "in_progress"]
    assert [(text, status) for _id, text, status in await repos.meetings.goals(s.pair.id)] == [
        ("Win the city olympiad", "in_progress"), ("Read ten books", "achieved")]


async def test_not_held_with_a_typed_reason_offers_to_schedule_again(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user)
    await s.mentor.click("Not held")
    assert s.mentor.buttons() == ["The mentee was ill", "The mentor was ill", "A holiday or a school event",
                                  "Nobody came", "Other reason", "Cancel"]
    await s.mentor.send("hello")
    assert s.mentor.last_text == "Tap a button in the message above, or /cancel to stop."
    await s.mentor.click("Other reason")
    await s.mentor.send_sticker()
    assert s.mentor.last_text.startswith("Send the reason as a text message")
    await s.mentor.send("The school was closed for quarantine")
    assert s.mentor.last_text.startswith(
        "Saved: the meeting was not held (The school was closed for quarantine).\n\n"
        "Schedule the organisational meeting again")
    assert s.mentor.buttons() == ["Schedule the organisational meeting"]
    logged = await repos.meetings.get(s.meeting.id)
    assert logged.status is MeetingStatus.NOT_HELD
    assert logged.not_held_reason == "The school was closed for quarantine"
    await _deliver(dp, repos, clock)
    assert (await repos.outbox.counts("feedback", s.meeting.id))["sent"] == 0
    assert not any("does your pair fit" in t for t in s.mentees[0].texts)


async def test_not_held_reason_button_and_stale_or_forged_buttons(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user)
    prompt = s.mentor.last_message
    mentee = s.mentees[0]

    def cb(action: str, version: int = s.meeting.version, value: str = "") -> str:
        return MeetingCb(action=action, meeting=s.meeting.id, version=version, value=value).pack()

    await mentee.click_data(cb("log_held"), mentee.last_message.message_id)
    assert mentee.alerts[-1] == "Only the mentor of this pair logs its meetings."
    await s.mentor.click_data(cb("log_held", version=7), prompt.message_id)
    assert s.mentor.alerts[-1].startswith("This meeting was moved after this message was sent")
    await s.mentor.click_data(cb("log_save"), prompt.message_id)
    assert s.mentor.alerts[-1].startswith("This log is no longer open.")
    await s.mentor.click_data(MeetingCb(action="log_held", meeting=99_999, version=1).pack(),
                              prompt.message_id)
    assert s.mentor.alerts[-1] == "This meeting no longer exists."

    # A stage's button after the draft moved on is refused; Cancel stops without saving.
    await s.mentor.click("Held", prompt)
    await s.mentor.click("30 min")
    await s.mentor.click_data(cb("log_min", value="45"), prompt.message_id)
    assert s.mentor.alerts[-1] == "This button is from an earlier step: use the newest message."
    await s.mentor.click_data(cb("log_act", value="hacking"), prompt.message_id)
    assert s.mentor.alerts[-1] == "This button is out of date. Send /start to see where you are."
    await s.mentor.click("Cancel")
    assert s.mentor.last_text.startswith("Logging stopped, nothing was saved.")
    assert (await repos.meetings.get(s.meeting.id)).status is MeetingStatus.SCHEDULED

    # The fit check is not open before the organisational meeting is held.
    await mentee.click_data(MeetingCb(action="fit", pair=s.pair.id, value="bad").pack(),
                            mentee.last_message.message_id)
    assert mentee.alerts[-1] == "This question is no longer open."

    # Not held, nobody came: saved at the tap; a second tap changes nothing.
    await s.mentor.click("Not held", prompt)
    reasons = s.mentor.last_message
    await s.mentor.click("Nobody came")
    assert s.mentor.last_text.startswith("Saved: the meeting was not held (Nobody came).")
    await s.mentor.click_data(cb("log_reason", value="mentor_ill"), reasons.message_id)
    assert s.mentor.alerts[-1] == ALREADY_LOGGED
    assert (await repos.meetings.get(s.meeting.id)).not_held_reason == "nobody_came"

    # A meeting that has not taken place yet cannot be logged.
    future = await schedule(dp, repos, clock, s.pair, "organisational")
    await s.mentor.click_data(MeetingCb(action="log_held", meeting=future.id, version=1).pack(),
                              prompt.message_id)
    assert s.mentor.alerts[-1] == "This meeting has not taken place yet: log it after it."


async def test_a_meeting_moved_while_logging_is_not_saved(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    s = await scene(dp, repos, clock, make_user, step="trial")
    await log_held(s)
    await repos.meetings.move(s.meeting.id, s.meeting.version, s.meeting.starts_at + timedelta(days=1), 60,
                              "Онлайн", True, _nothing)
    await s.mentor.click("Save")
    assert s.mentor.last_text.startswith("This meeting was moved meanwhile: nothing was saved.")
    assert (await repos.meetings.get(s.meeting.id)).status is MeetingStatus.SCHEDULED
    assert (await repos.db.fetchone("SELECT COUNT(*) AS n FROM goal_progress"))["n"] == 0


async def _nothing(_meeting: Meeting) -> list:
    return []
