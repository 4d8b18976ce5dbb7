"""The coordinator's digest on a simulated clock: its schedule in two time zones (Moscow UTC+3, Kamchatka
UTC+12), one message per due period even when the job runs twice, nothing when nothing changed, the content
reflecting changes, a department's roll-up by school, the settings screen and the digest's buttons, who is
counted in which figure, and which pairs with a meeting scheduled are overdue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher

from bot.callbacks import DigestCb
from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import MeetingSettings, local_moment
from handlers.digest_compose import run_digests
from storage.models import ProposalStatus, Role, SurveyKind
from storage.repos import Repositories
from storage.repos._convert import ts
from storage.repos.digests import DigestSetting
from storage.repos.pairs import NewProposal
from tests.conftest import UserFactory, manual_clock
from tests.factories import COORDINATOR_ID, School, approved_pair, school
from tests.fakeapi import FakeBotAPI
from tests.outbox_helpers import drained

MOSCOW, KAMCHATKA = "Europe/Moscow", "Asia/Kamchatka"
MONDAY = date(2026, 11, 23)


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time for these tests."""
    return manual_clock()


async def english(repos: Repositories, *user_ids: int) -> None:
    for user_id in user_ids:
        await repos.users.seen(user_id, "en")
        await repos.users.set_locale(user_id, "en")


async def pending(repos: Repositories, sch: School, *user_ids: int, minor: bool = False) -> list[int]:
    """Mentees who joined and have not submitted the questionnaire; their participant ids."""
    ids = []
    for user_id in user_ids:
        person = await repos.participants.enrol(sch.programme.id, user_id, Role.MENTEE, "pupil_pupil",
                                                f"Ученик {user_id}", minor, "test")
        ids.append(person.id)
    return ids


async def submitted(repos: Repositories, sch: School, user_id: int, role: Role = Role.MENTEE) -> int:
    """Someone who joined and submitted the questionnaire; their participant id."""
    participant = await repos.participants.enrol(sch.programme.id, user_id, role, "pupil_pupil",
                                                 f"Ученик {user_id}", False, "test")
    response = await repos.responses.start(participant.id, f"{role.value}_pupil", 1)
    await repos.responses.save_answer(response.id, "about", "x")
    assert await repos.responses.submit(response.id)
    return participant.id


class Run:
    """Moves the clock hour by hour, running the digest job twice at each step (as after a restart), and
    records each coordinator's digests with the moment they were sent."""

    def __init__(self, dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI) -> None:
        self.dp, self.repos, self.clock, self.fake = dp, repos, clock, fake
        self.seen: dict[int, int] = {}
        self.received: dict[int, list[tuple[datetime, str]]] = {}

    async def until(self, end: datetime, users: Sequence[int]) -> None:
        await english(self.repos, *users)
        while self.clock.now() < end:
            self.clock.advance(timedelta(hours=1))
            await run_digests(self.repos, self.dp["i18n"], self.clock)
            await run_digests(self.repos, self.dp["i18n"], self.clock)
            self.dp["outbox"].wake()
            await drained(self.repos, due_by=self.clock.now())
            for user_id in users:
                calls = [c for c in self.fake.calls_of("sendMessage", user_id) if c.ok]
                for call in calls[self.seen.get(user_id, 0):]:
                    self.received.setdefault(user_id, []).append((self.clock.now(), call.params["text"]))
                self.seen[user_id] = len(calls)

    def texts(self, user_id: int) -> list[str]:
        return [text for _at, text in self.received.get(user_id, [])]

    def local(self, user_id: int, zone: str) -> list[datetime]:
        return [at.astimezone(ZoneInfo(zone)) for at, _text in self.received.get(user_id, [])]


def midnight_utc(day: date) -> datetime:
    return local_moment(day, time(0, 0), "UTC")


async def test_one_digest_per_period_at_the_local_hour_in_two_zones(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    moscow = await school(repos, name="Школа №1", timezone=MOSCOW, coordinator_id=2000)
    kamchatka = await school(repos, name="Гимназия №3", timezone=KAMCHATKA, coordinator_id=2001)
    quiet = await school(repos, name="Лицей №2", timezone=MOSCOW, coordinator_id=2002)
    daily_kamchatka = await school(repos, name="Школа №7", timezone=KAMCHATKA, coordinator_id=2003)
    for n, sch in enumerate((moscow, kamchatka, quiet, daily_kamchatka)):
        await pending(repos, sch, 10_000 + n)  # something is stuck every day
    await repos.digests.save_setting(2001, DigestSetting("weekly", weekday=2, hour=9))  # Wednesdays, 09:00
    await repos.digests.save_setting(2002, DigestSetting("off"))
    await repos.digests.save_setting(2003, DigestSetting("daily", hour=19))
    clock.set(midnight_utc(MONDAY - timedelta(days=1)))
    run = Run(dp, repos, clock, fake)
    users = (2000, 2001, 2002, 2003)

    await run.until(midnight_utc(MONDAY + timedelta(days=14)), users)

    moscow_days = run.local(2000, MOSCOW)  # the default: daily at 08:00
    assert len(moscow_days) == len({d.date() for d in moscow_days}) == 15, moscow_days
    assert {d.time() for d in moscow_days} == {time(8, 0)}
    kamchatka_days = run.local(2001, KAMCHATKA)
    assert [d.date() for d in kamchatka_days] == [date(2026, 11, 25), date(2026, 12, 2)]
    assert {d.time() for d in kamchatka_days} == {time(9, 0)}
    assert not run.texts(2002)
    evening = run.local(2003, KAMCHATKA)
    assert len(evening) == len({d.date() for d in evening}) == 15
    assert {d.time() for d in evening} == {time(19)}
    assert "1 person has not submitted the questionnaire" in run.texts(2000)[-1]
    dedupes = await repos.db.fetchall("SELECT dedupe FROM outbox WHERE user_id = 2001 AND kind = 'digest'")
    assert sorted(r[0] for r in dedupes) == ["digest:2001:2026-11-25", "digest:2001:2026-12-02"]


async def test_nothing_changed_no_message_then_changes_are_told(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    sch = await school(repos, timezone=MOSCOW, coordinator_id=2000)
    clock.set(local_moment(MONDAY, time(7, 0), MOSCOW))
    pair = await approved_pair(repos, sch, 20_001, (10_001,))
    await repos.db.execute("UPDATE pairs SET approved_at = ? WHERE id = ?", (ts(clock.now()), pair.id))
    run = Run(dp, repos, clock, fake)

    await run.until(local_moment(MONDAY, time(9, 0), MOSCOW), [2000])
    (first,) = run.texts(2000)
    assert "2 new participants" in first and "«Вместе по лестнице успеха»" in first

    await run.until(local_moment(MONDAY + timedelta(days=1), time(12, 0), MOSCOW), [2000])
    assert len(run.texts(2000)) == 1  # nothing changed and nothing stuck: no message on Tuesday
    made = await repos.db.fetchall("SELECT period, sent FROM digests WHERE user_id = 2000 ORDER BY id")
    assert [tuple(r) for r in made] == [("2026-11-23", 1), ("2026-11-24", 0)]

    await submitted(repos, sch, 10_002)
    await repos.db.execute(
        "INSERT INTO meetings (programme_id, pair_id, step, starts_at, minutes, place, status, created_by, "
        "created_at, updated_at, logged_at) "
        "VALUES (?, ?, 'organisational', ?, 60, 'каб. 12', 'held', 1, ?, ?, ?)",
        (sch.programme.id, pair.id, ts(clock.now()), ts(clock.now()), ts(clock.now()), ts(clock.now())),
    )
    await run.until(local_moment(MONDAY + timedelta(days=2), time(12, 0), MOSCOW), [2000])
    assert len(run.texts(2000)) == 2
    third = run.texts(2000)[-1]
    told = ("1 new participant", "1 questionnaire submitted", "1 meeting held", "1 mentee without a pair")
    for line in told:
        assert line in third, third
    assert "2 new" not in third


async def test_department_gets_one_digest_rolled_up_by_school(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    department = await repos.organisations.create("Управление образования", MOSCOW, created_by=1)
    await repos.organisations.add_coordinator(department.id, 3000, "Инспектор", "test")
    schools = []
    for n, name in enumerate(("Школа №1", "Школа №2", "Школа №3")):
        sch = await school(repos, name=name, timezone=MOSCOW, coordinator_id=2000 + n)
        await repos.organisations.set_parent(sch.org.id, department.id)
        await repos.db.execute("UPDATE programmes SET title = ? WHERE id = ?",
                               (f"Программа {n + 1}", sch.programme.id))
        await pending(repos, sch, *range(10_000 + 10 * n, 10_000 + 10 * n + n + 1))  # 1, 2 and 3 people
        schools.append(sch)
    clock.set(local_moment(MONDAY, time(7, 0), MOSCOW))
    run = Run(dp, repos, clock, fake)
    await run.until(local_moment(MONDAY, time(9, 0), MOSCOW), [3000, 2000, 2001, 2002])

    (rolled,) = run.texts(3000)
    for name in ("🏫 Школа №1", "🏫 Школа №2", "🏫 Школа №3", "«Программа 1»", "«Программа 3»"):
        assert name in rolled
    totals = rolled[rolled.index("Totals of all schools"):]
    assert "6 new participants" in totals and "6 people have not submitted" in totals
    for n in range(3):
        (own,) = run.texts(2000 + n)
        assert f"«Программа {n + 1}»" in own and "🏫" not in own and "Totals" not in own
        assert all(f"«Программа {m + 1}»" not in own for m in range(3) if m != n)
        assert f"{n + 1} new participant" in own


async def test_digest_settings_screen(make_user: UserFactory, repos: Repositories) -> None:
    stranger = make_user(4000, language_code="en")
    await stranger.send("/digest")
    assert "for coordinators" in stranger.last_text
    await school(repos, timezone=KAMCHATKA, coordinator_id=2000)
    coordinator = make_user(2000, language_code="en")
    await coordinator.send("/digest")
    assert "daily at 08:00 (Asia/Kamchatka)" in coordinator.last_text
    await coordinator.click("Weekly")
    await coordinator.click("Thu")
    await coordinator.click("18:00")
    assert "weekly, on Thursday at 18:00" in coordinator.last_text
    assert await repos.digests.setting(2000) == DigestSetting("weekly", 3, 18)
    message = coordinator.last_message.message_id
    await coordinator.click_data(DigestCb(action="hour", value="99").pack(), message)
    await stranger.click_data(DigestCb(action="freq", value="off").pack(), message)
    assert "out of date" in coordinator.alerts[-1] and "for coordinators" in stranger.alerts[-1]
    assert await repos.digests.setting(2000) == DigestSetting("weekly", 3, 18)
    await coordinator.click("Off")
    assert "Your digest: off" in coordinator.last_text
    assert await repos.digests.setting(4000) == DigestSetting()


async def test_digest_buttons_remind_once_list_export_and_forged(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, make_user: UserFactory, fast_outbox: Outbox
) -> None:
    sch = await school(repos, timezone=MOSCOW, coordinator_id=2000)
    other = await school(repos, name="Чужая школа", timezone=MOSCOW, coordinator_id=2001)
    await pending(repos, sch, 10_001, 10_002)
    await pending(repos, sch, 10_003, minor=True)  # the parent has not confirmed: not reminded
    await pending(repos, other, 10_004)
    await english(repos, 2000, 2001, 10_001)
    clock.set(local_moment(MONDAY, time(8, 5), MOSCOW))
    assert await run_digests(repos, dp["i18n"], clock) == 2
    dp["outbox"].wake()
    await drained(repos, due_by=clock.now())
    coordinator, stranger = make_user(2000, language_code="en"), make_user(2001, language_code="en")
    digest = coordinator.last_message
    assert "1 parent's consent pending" in digest.text and "2 people have not submitted" in digest.text
    assert digest.buttons == ["1 · Remind", "1 · List", "1 · Export"]

    async def reminders() -> list[int]:
        rows = await repos.db.fetchall("SELECT user_id FROM outbox WHERE kind = 'digest_remind' ORDER BY 1")
        return [r[0] for r in rows]

    await coordinator.click("1 · Remind", digest)
    assert await reminders() == [10_001, 10_002] and "queued for 2 people" in coordinator.alerts[-1]
    await coordinator.click("1 · Remind", digest)
    assert await reminders() == [10_001, 10_002] and "already reminded" in coordinator.alerts[-1]
    await drained(repos, due_by=clock.now())
    assert "fill in your questionnaire" in make_user(10_001).last_text

    remind = DigestCb(action="remind", programme=sch.programme.id, value="2026-11-23").pack()
    await stranger.click_data(remind, stranger.last_message.message_id)
    assert "don't have access" in stranger.alerts[-1]
    forged_period = DigestCb(action="remind", programme=sch.programme.id, value="2026-11-20").pack()
    await coordinator.click_data(forged_period, digest.message_id)
    assert "out of date" in coordinator.alerts[-1]
    export_other = DigestCb(action="export", programme=other.programme.id).pack()
    await coordinator.click_data(export_other, digest.message_id)
    assert "don't have access" in coordinator.alerts[-1] and not coordinator.documents
    assert await reminders() == [10_001, 10_002]

    await coordinator.click("1 · Export", digest)
    assert [d.filename for d in coordinator.documents] == [f"pairs-{sch.programme.id}.xlsx"]
    await coordinator.click("1 · List", digest)  # the parents' consents pending, in place of the digest
    shown = str(coordinator.buttons(digest))
    assert "Ученик 10003" in shown and "Ученик 10001" not in shown


async def test_overdue_pairs_follow_each_programme_meeting_settings(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    """Two schools' pairs approved ten days ago with no meeting: late where the first meeting must be
    scheduled within the default 7 days, not late where the programme allows 30."""
    clock.set(local_moment(MONDAY, time(7, 0), MOSCOW))
    schools = []
    for n in range(2):
        sch = await school(repos, name=f"Школа №{n + 1}", timezone=MOSCOW, coordinator_id=2000 + n)
        pair = await approved_pair(repos, sch, 20_001 + n, (10_001 + n,))
        await repos.db.execute("UPDATE pairs SET approved_at = ? WHERE id = ?",
                               (ts(clock.now() - timedelta(days=10)), pair.id))
        schools.append(sch)
    relaxed = MeetingSettings(schools[1].programme.id, schedule_within_days=30)
    await repos.meetings.save_settings(relaxed, by=2001)
    run = Run(dp, repos, clock, fake)
    await run.until(local_moment(MONDAY, time(9, 0), MOSCOW), [2000, 2001])

    (late,) = run.texts(2000)
    (in_time,) = run.texts(2001)
    assert "1 pair with a meeting overdue" in late
    assert "overdue" not in in_time and "2 new participants" in in_time


def block(text: str, title: str) -> list[str]:
    """The figure lines of a programme's block in a digest."""
    (found,) = [part for part in text.split("\n\n") if f"«{title}»" in part.split("\n")[0]]
    return found.split("\n")[1:]


async def test_each_person_counted_in_their_programme_state(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    """People in every state in two schools' programmes (one person in both): who has submitted the joining
    questionnaire (a survey answered does not count), who is in an active pair (an ended one does not), whose
    parent has not confirmed; each counted once in each figure they belong to."""
    department = await repos.organisations.create("Управление образования", MOSCOW, created_by=1)
    await repos.organisations.add_coordinator(department.id, 3000, "Инспектор", "test")
    first = await school(repos, name="Школа №1", timezone=MOSCOW, coordinator_id=2000)
    second = await school(repos, name="Школа №2", timezone=MOSCOW, coordinator_id=2001)
    for sch, title in ((first, "Первая"), (second, "Вторая")):
        await repos.organisations.set_parent(sch.org.id, department.id)
        await repos.db.execute("UPDATE programmes SET title = ? WHERE id = ?", (title, sch.programme.id))
    clock.set(local_moment(MONDAY, time(7, 0), MOSCOW))

    await approved_pair(repos, first, 20_001, (10_001, 10_002))  # in a group, questionnaires not submitted
    ended = await approved_pair(repos, first, 20_002, (10_003,))  # their pair ended: not in a pair any more
    await repos.db.execute("UPDATE pairs SET status = 'ended', ended_at = ? WHERE id = ?",
                           (ts(clock.now()), ended.id))
    await submitted(repos, first, 10_004)  # a mentee without a pair
    await submitted(repos, first, 20_003, Role.MENTOR)  # a mentor without a pair is not waiting for one
    await pending(repos, first, 10_005)  # not submitted
    await pending(repos, first, 10_006, minor=True)  # the parent has not confirmed
    (answered_survey,) = await pending(repos, first, 10_007)

    async def nobody(_round: object) -> list[tuple[int, object]]:
        return []

    survey, _invited = await repos.surveys.invite(first.programme.id, SurveyKind.FEEDBACK, "2026-11", None,
                                                   nobody, clock.now())
    response = await repos.responses.start(answered_survey, "feedback", 1, survey.id)
    await repos.responses.save_answer(response.id, "about", "x")
    assert await repos.responses.submit(response.id)

    mentor = await submitted(repos, second, 20_101, Role.MENTOR)
    mentee = await submitted(repos, second, 10_101)
    await repos.pairs.pair_by_hand(second.programme.id, NewProposal(mentor, mentee, 1.0, []), COORDINATOR_ID)
    await repos.pairs.approve(second.programme.id, [p.id for p in await repos.pairs.proposals(
        second.programme.id, ProposalStatus.ACCEPTED)], COORDINATOR_ID, [])
    await pending(repos, second, 10_004)  # submitted in the first school's programme, not in this one
    await submitted(repos, second, 10_102)
    await pending(repos, second, 10_103, minor=True)

    run = Run(dp, repos, clock, fake)
    await run.until(local_moment(MONDAY, time(9, 0), MOSCOW), [3000, 2000, 2001])

    (rolled,) = run.texts(3000)
    assert block(rolled, "Первая") == [
        "• 10 new participants", "• 2 questionnaires submitted", "• 1 parent's consent pending",
        "• 4 people have not submitted the questionnaire", "• 1 mentee without a pair",
    ]
    assert block(rolled, "Вторая") == [
        "• 5 new participants", "• 3 questionnaires submitted", "• 1 parent's consent pending",
        "• 1 person has not submitted the questionnaire", "• 1 mentee without a pair",
    ]
    assert block(run.texts(2000)[0], "Первая") == block(rolled, "Первая")
    assert block(run.texts(2001)[0], "Вторая") == block(rolled, "Вторая")


async def test_a_pair_with_a_meeting_scheduled_is_overdue_only_a_day_after_it_ended(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    """Pairs approved a month ago, each with a meeting scheduled: overdue once a day has passed since the
    meeting's end without it being logged (exactly a day included), not before, and never while it is to come
    however late the pair is otherwise."""
    sch = await school(repos, timezone=MOSCOW, coordinator_id=2000)
    now = local_moment(MONDAY, time(8, 30), MOSCOW)
    clock.set(now - timedelta(hours=2))

    async def no_messages(_meeting: object) -> list[object]:
        return []

    starts = {  # a 60-minute meeting of each pair
        20_001: now - timedelta(days=3),  # ended two days ago: overdue
        20_002: now - timedelta(days=1, minutes=60),  # ended exactly a day ago: overdue
        20_003: now - timedelta(days=1, minutes=59),  # a minute less: not yet
        20_004: now - timedelta(hours=3),  # ended two hours ago
        20_005: now + timedelta(days=2),  # to come
        20_006: now + timedelta(days=20),  # to come, after the next 7 days
    }
    for n, (mentor, at) in enumerate(starts.items()):
        pair = await approved_pair(repos, sch, mentor, (10_001 + n,))
        await repos.db.execute("UPDATE pairs SET approved_at = ? WHERE id = ?",
                               (ts(now - timedelta(days=30)), pair.id))
        await repos.meetings.schedule(sch.programme.id, pair.id, "organisational", at, 60, "каб. 12", False,
                                      COORDINATOR_ID, no_messages)
    run = Run(dp, repos, clock, fake)
    await run.until(now, [2000])

    (digest,) = run.texts(2000)
    assert "• 2 pairs with meetings overdue (not scheduled or not logged)" in block(
        digest, "Вместе по лестнице успеха")
    assert "• 1 meeting in the next 7 days" in digest
