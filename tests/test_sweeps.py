"""Late and stuck pairs on a simulated clock, in Moscow (UTC+3) and Kamchatka (UTC+12): the sweep runs every
simulated hour (twice, as after a restart) and each nudge, escalation and inactivity flag reaches each person
once, never in quiet hours, never inside holidays (it comes after them), never for a step already
scheduled."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher
from aiogram.utils.i18n import I18n

from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import MeetingSettings, in_quiet_hours, local_moment
from handlers import sweeps
from handlers.sweeps import sweep
from storage.db import Database
from storage.models import Meeting, Pair
from storage.repos import Repositories
from storage.repos._convert import ts
from tests.conftest import manual_clock
from tests.factories import School, approved_pair, school
from tests.fakeapi import FakeBotAPI
from tests.outbox_helpers import drained

MOSCOW, KAMCHATKA = "Europe/Moscow", "Asia/Kamchatka"
MOSCOW_COORD, KAMCHATKA_COORD = 2000, 2001
SETTINGS = MeetingSettings(0)  # the defaults: 7 days to schedule, 21 days of inactivity, quiet 21:00–08:00


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time for these tests."""
    return manual_clock()


async def _none(_meeting: object) -> list:
    return []


async def approved_at(repos: Repositories, pair: Pair, moment: datetime) -> None:
    """Pretend the pair was approved at a simulated moment."""
    await repos.db.execute("UPDATE pairs SET approved_at = ? WHERE id = ?", (ts(moment), pair.id))


async def two_schools(repos: Repositories) -> tuple[School, School]:
    moscow = await school(repos, name="Школа №1", timezone=MOSCOW, coordinator_id=MOSCOW_COORD)
    kamchatka = await school(repos, name="Гимназия №3", timezone=KAMCHATKA, coordinator_id=KAMCHATKA_COORD)
    return moscow, kamchatka


class Run:
    """Moves the clock hour by hour, sweeping twice at each step, and records what each person received and
    at which local time."""

    def __init__(self, dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI) -> None:
        self.dp, self.repos, self.clock, self.fake = dp, repos, clock, fake
        self.seen: Counter[int] = Counter()
        self.received: dict[int, list[tuple[datetime, str]]] = {}

    async def english(self, *user_ids: int) -> None:
        """These people read the bot in English (the assertions quote English texts)."""
        for user_id in user_ids:
            await self.repos.users.seen(user_id, "en")
            await self.repos.users.set_locale(user_id, "en")

    async def until(self, end: datetime, zones: dict[int, str]) -> None:
        """Hour by hour until `end` (the last step may pass it by less than an hour)."""
        await self.english(*zones)
        while self.clock.now() < end:
            self.clock.advance(timedelta(hours=1))
            await sweep(self.repos, self.dp["i18n"], self.clock)
            await sweep(self.repos, self.dp["i18n"], self.clock)
            self.dp["outbox"].wake()
            await drained(self.repos, due_by=self.clock.now())
            for user_id, zone in zones.items():
                calls = [c for c in self.fake.calls_of("sendMessage", user_id) if c.ok]
                for call in calls[self.seen[user_id]:]:
                    quiet = in_quiet_hours(self.clock.now(), SETTINGS, zone)
                    assert not quiet, (user_id, call.params["text"])
                    self.received.setdefault(user_id, []).append((self.clock.now(), call.params["text"]))
                self.seen[user_id] = len(calls)

    def texts(self, user_id: int) -> list[str]:
        return [text for _at, text in self.received.get(user_id, [])]


async def test_late_step_nudged_then_escalated_once_in_both_zones(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    moscow, kamchatka = await two_schools(repos)
    # Approved at 22:30 local: every deadline falls in the quiet hours of that evening.
    day = date(2026, 10, 5)
    pairs = {}
    for sch, mentor, mentee in ((moscow, 20_001, 10_001), (kamchatka, 20_002, 10_002)):
        pair = await approved_pair(repos, sch, mentor, (mentee,), minor_mentees=True)
        await approved_at(repos, pair, local_moment(day, time(22, 30), sch.org.timezone))
        pairs[mentor] = pair
    clock.set(local_moment(day, time(22, 30), KAMCHATKA))  # the earlier of the two moments
    zones = {20_001: MOSCOW, MOSCOW_COORD: MOSCOW, 10_001: MOSCOW, 510_001: MOSCOW,
             20_002: KAMCHATKA, KAMCHATKA_COORD: KAMCHATKA, 10_002: KAMCHATKA, 510_002: KAMCHATKA}
    run = Run(dp, repos, clock, fake)

    await run.until(local_moment(date(2026, 10, 12), time(20, 0), MOSCOW), zones)
    assert all(not run.texts(user) for user in zones), run.received  # 7 days not yet passed in either zone

    await run.until(local_moment(date(2026, 11, 2), time(12, 0), MOSCOW), zones)
    for mentor, coordinator, tz in ((20_001, MOSCOW_COORD, MOSCOW), (20_002, KAMCHATKA_COORD, KAMCHATKA)):
        nudges = [(at, t) for at, t in run.received[mentor] if "time to schedule the organisational" in t]
        assert len(nudges) == 1 and len(run.received[mentor]) == 1, run.received[mentor]
        # Due at 22:30 on the 12th (quiet): sent after 08:00 local the next morning.
        assert nudges[0][0].astimezone(ZoneInfo(tz)).date() == date(2026, 10, 13)
        texts = run.texts(coordinator)
        assert len([t for t in texts if "has not scheduled the organisational meeting" in t]) == 1, texts
        assert len([t for t in texts if "no held meeting for 21 days" in t]) == 1, texts
        assert len(texts) == 2
        escalated = next(at for at, t in run.received[coordinator] if "has not scheduled" in t)
        assert escalated - nudges[0][0] >= timedelta(days=2)
    for mentee in (10_001, 510_001, 10_002, 510_002):
        assert not run.texts(mentee)  # mentees and parents are not chased
    # The nudge carries the «Schedule» button of the pair.
    button = fake.calls_of("sendMessage", 20_002)[-1].params["reply_markup"]
    assert f"mg:schedule:0:{pairs[20_002].id}:" in str(button)


async def test_nothing_inside_holidays_then_sent_after_them(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    sch = await school(repos, timezone=KAMCHATKA, coordinator_id=KAMCHATKA_COORD)
    pair = await approved_pair(repos, sch, 20_003, (10_003,))
    start = local_moment(date(2026, 10, 5), time(12, 0), KAMCHATKA)
    await approved_at(repos, pair, start)
    await repos.meetings.add_holiday(sch.programme.id, date(2026, 10, 10), date(2026, 10, 18))
    clock.set(start)
    run = Run(dp, repos, clock, fake)
    zones = {20_003: KAMCHATKA, KAMCHATKA_COORD: KAMCHATKA}
    await run.until(local_moment(date(2026, 10, 18), time(23, 30), KAMCHATKA), zones)
    assert not run.texts(20_003) and not run.texts(KAMCHATKA_COORD)  # due on the 12th, inside the holidays
    await run.until(local_moment(date(2026, 10, 22), time(12, 0), KAMCHATKA), zones)
    assert len(run.received[20_003]) == 1
    at, text = run.received[20_003][0]
    assert "time to schedule" in text
    local = at.astimezone(ZoneInfo(KAMCHATKA))
    assert local.date() == date(2026, 10, 19) and local.time() >= time(8, 0)  # the first morning after them
    assert len(run.texts(KAMCHATKA_COORD)) == 1 and "has not scheduled" in run.texts(KAMCHATKA_COORD)[0]


async def test_scheduled_step_is_not_chased_but_an_unlogged_meeting_is(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    sch = await school(repos, timezone=MOSCOW, coordinator_id=MOSCOW_COORD)
    pair = await approved_pair(repos, sch, 20_004, (10_004,))
    start = local_moment(date(2026, 10, 5), time(12, 0), MOSCOW)
    await approved_at(repos, pair, start)
    clock.set(start)
    # Scheduled on day 1 for day 10 (after the 7 days to schedule it): nothing is late.
    meeting = await repos.meetings.schedule(
        sch.programme.id, pair.id, "organisational", local_moment(date(2026, 10, 15), time(15, 0), MOSCOW),
        60, "Кабинет 5", False, 20_004, _none)
    run = Run(dp, repos, clock, fake)
    zones = {20_004: MOSCOW, MOSCOW_COORD: MOSCOW}
    await run.until(local_moment(date(2026, 10, 16), time(15, 0), MOSCOW), zones)
    assert not run.texts(20_004) and not run.texts(MOSCOW_COORD)

    # Not logged a day after its end: the mentor is asked once (with the log buttons), then the coordinator.
    await run.until(local_moment(date(2026, 10, 18), time(12, 0), MOSCOW), zones)
    assert len(run.texts(20_004)) == 1 and "is not logged yet" in run.texts(20_004)[0]
    markup = str(fake.calls_of("sendMessage", 20_004)[-1].params["reply_markup"])
    assert f"mg:log_held:{meeting.id}:0:{meeting.version}" in markup
    coordinator = run.texts(MOSCOW_COORD)
    assert len(coordinator) == 1 and "has not logged the organisational" in coordinator[0]

    # Logged: the trial meeting is due 7 days after the organisational one ended, and nudged once.
    await repos.meetings.log(meeting.id, meeting.version, held=True, minutes=60, compose=_none)
    await run.until(local_moment(date(2026, 10, 23), time(12, 0), MOSCOW), zones)
    assert len(run.texts(20_004)) == 2 and "trial working meeting" in run.texts(20_004)[1]
    assert len(run.texts(MOSCOW_COORD)) == 1


async def test_finished_or_ended_programmes_are_left_alone(
    dp: Dispatcher, repos: Repositories, clock: ManualClock, fake: FakeBotAPI, fast_outbox: Outbox
) -> None:
    sch = await school(repos, timezone=MOSCOW, coordinator_id=MOSCOW_COORD)
    pair = await approved_pair(repos, sch, 20_005, (10_005,))
    await approved_at(repos, pair, local_moment(date(2027, 5, 1), time(12, 0), MOSCOW))
    clock.set(local_moment(date(2027, 6, 20), time(12, 0), MOSCOW))  # after the programme's end
    result = await sweep(repos, dp["i18n"], clock)
    assert result.queued == 0
    clock.set(local_moment(date(2027, 5, 30), time(12, 0), MOSCOW))  # the last days: still chased
    result = await sweep(repos, dp["i18n"], clock)
    assert result.schedule_nudges == 1 and result.inactivity_flags == 1
    assert (await sweep(repos, dp["i18n"], clock)).queued == 0


async def test_a_programme_that_cannot_be_read_does_not_stop_the_others(
    dp: Dispatcher, repos: Repositories, clock: ManualClock
) -> None:
    moscow, kamchatka = await two_schools(repos)
    for sch, mentor, mentee in ((moscow, 20_001, 10_001), (kamchatka, 20_002, 10_002)):
        pair = await approved_pair(repos, sch, mentor, (mentee,))
        await approved_at(repos, pair, local_moment(date(2026, 10, 5), time(12, 0), MOSCOW))
    # A broken row fails the read of the whole chunk of programmes it is in.
    broken = kamchatka.programme.id
    await repos.db.execute("UPDATE programmes SET start_date = 'autumn' WHERE id = ?", (broken,))
    clock.set(local_moment(date(2026, 11, 2), time(12, 0), MOSCOW))
    result = await sweep(repos, dp["i18n"], clock)
    assert result.failed_programmes == [broken]
    assert result.schedule_nudges == 1 and result.inactivity_flags == 1  # Moscow's pair, chased as ever
    assert [r[0] for r in await repos.db.fetchall("SELECT user_id FROM outbox WHERE dedupe LIKE 'late%'")] \
        == [20_001]


async def _meeting(repos: Repositories, sch: School, pair: Pair, step: str, starts_at: datetime,
                   held: bool = False) -> Meeting:
    meeting = await repos.meetings.schedule(sch.programme.id, pair.id, step, starts_at, 60, "Кабинет 5",
                                            False, pair.mentor_id, _none)
    if held:
        meeting = await repos.meetings.log(meeting.id, meeting.version, held=True, minutes=60, compose=_none)
    return meeting


@pytest.mark.parametrize("chunk", [1, sweeps.SWEEP_CHUNK])
async def test_every_situation_in_one_sweep_queues_exactly_its_messages(
    db: Database, i18n: I18n, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Four programmes (Moscow, Kamchatka in its quiet hours, one in holidays, one that ends between the two
    sweeps) with pairs in every state, swept three days apart: each run queues exactly these messages, to
    these people, with these keys, times, texts and buttons, in this order, whether the programmes are read
    one at a time or all at once; a second run at the same moment queues nothing."""
    monkeypatch.setattr(sweeps, "SWEEP_CHUNK", chunk)
    repos = Repositories(db)
    now = local_moment(date(2026, 10, 20), time(12, 0), MOSCOW)  # 21:00 in Kamchatka: quiet hours
    before = now - timedelta(days=3)
    a = await school(repos, name="Школа №1", timezone=MOSCOW, coordinator_id=MOSCOW_COORD)
    await repos.organisations.add_coordinator(a.org.id, 2003, "Анна Петровна", "test")
    b = await school(repos, name="Гимназия №3", timezone=KAMCHATKA, coordinator_id=KAMCHATKA_COORD)
    c = await school(repos, name="Лицей №2", timezone=MOSCOW, coordinator_id=2002)
    await repos.meetings.add_holiday(c.programme.id, date(2026, 10, 18), date(2026, 10, 25))
    d = await school(repos, name="Школа №4", timezone=MOSCOW, coordinator_id=2004)
    await db.execute("UPDATE programmes SET end_date = '2026-10-18' WHERE id = ?", (d.programme.id,))

    async def pair(sch: School, mentor: int, approved_days_ago: int) -> Pair:
        made = await approved_pair(repos, sch, mentor, (mentor - 10_000,))
        await approved_at(repos, made, now - timedelta(days=approved_days_ago))
        return made

    late_now = await pair(a, 20_101, 8)  # 5 days at the first sweep: due at the second
    late_before = await pair(a, 20_102, 12)  # nudged at the first sweep, escalated at the second
    scheduled = await pair(a, 20_103, 25)  # held 10 days ago, the next one scheduled: nothing
    await _meeting(repos, a, scheduled, "organisational", now - timedelta(days=10), held=True)
    await _meeting(repos, a, scheduled, "trial", now + timedelta(days=2))
    unlogged_now = await pair(a, 20_104, 6)
    m_now = await _meeting(repos, a, unlogged_now, "organisational", now - timedelta(days=2))
    unlogged_before = await pair(a, 20_105, 10)
    m_before = await _meeting(repos, a, unlogged_before, "organisational", now - timedelta(days=5))
    inactive = await pair(a, 20_106, 23)  # held 22 days ago, the next one scheduled: inactive
    first = await _meeting(repos, a, inactive, "organisational", now - timedelta(days=22), held=True)
    await _meeting(repos, a, inactive, "trial", now + timedelta(days=1))
    done = await pair(a, 20_107, 60)  # the final meeting held: nothing
    await _meeting(repos, a, done, "final", now - timedelta(days=30), held=True)
    quiet_now = await pair(b, 20_201, 8)
    quiet_before = await pair(b, 20_202, 12)
    await pair(c, 20_301, 8)  # late, but inside the holidays
    unlogged_holidays = await pair(c, 20_302, 6)  # a meeting not logged is asked about in holidays too
    m_holidays = await _meeting(repos, c, unlogged_holidays, "organisational", now - timedelta(days=2))
    ended = await pair(d, 20_401, 12)  # nudged while the programme runs, not escalated after its end
    for user_id in (20_101, 20_102, 20_104, 20_105, 20_201, 20_202, 20_302, 20_401, MOSCOW_COORD,
                    KAMCHATKA_COORD):
        await repos.users.seen(user_id, "en")
    await repos.users.seen(2003, "ru")

    clock = ManualClock(before)
    kamchatka_morning = local_moment(date(2026, 10, 18), time(8, 0), KAMCHATKA)
    assert [row[:5] for row in await _swept(repos, i18n, clock)] == [
        (20_102, "late", late_before.id, f"late:{late_before.id}:0:organisational", before),
        (20_105, "log_prompt", m_before.id, f"late-log:{m_before.id}:v1", before),
        (20_202, "late", quiet_before.id, f"late:{quiet_before.id}:0:organisational", kamchatka_morning),
        (20_401, "late", ended.id, f"late:{ended.id}:0:organisational", before),
    ]

    clock.set(now)
    late, log, flag = (f"late:{late_before.id}:0:organisational", f"late-log:{m_before.id}:v1",
                       f"inactive:{inactive.id}:{ts(first.starts_at)}:1")
    kamchatka_morning = local_moment(date(2026, 10, 21), time(8, 0), KAMCHATKA)
    swept = await _swept(repos, i18n, clock)
    assert [row[:5] for row in swept] == [
        (20_101, "late", late_now.id, f"late:{late_now.id}:0:organisational", now),
        (MOSCOW_COORD, "late", late_before.id, f"{late}:c{MOSCOW_COORD}", now),
        (2003, "late", late_before.id, f"{late}:c2003", now),
        (20_104, "log_prompt", m_now.id, f"late-log:{m_now.id}:v1", now),
        (MOSCOW_COORD, "late", unlogged_before.id, f"{log}:c{MOSCOW_COORD}", now),
        (2003, "late", unlogged_before.id, f"{log}:c2003", now),
        (MOSCOW_COORD, "late", inactive.id, f"{flag}:c{MOSCOW_COORD}", now),
        (2003, "late", inactive.id, f"{flag}:c2003", now),
        (20_201, "late", quiet_now.id, f"late:{quiet_now.id}:0:organisational", kamchatka_morning),
        (KAMCHATKA_COORD, "late", quiet_before.id,
         f"late:{quiet_before.id}:0:organisational:c{KAMCHATKA_COORD}", kamchatka_morning),
        (20_302, "log_prompt", m_holidays.id, f"late-log:{m_holidays.id}:v1", now),
    ]
    texts = {row[3]: (row[5], row[6]) for row in swept}
    text, markup = texts[f"late:{late_now.id}:0:organisational"]
    assert text == ("It is time to schedule the organisational meeting of «Вместе по лестнице успеха». "
                    "Please choose a day and a time.")
    assert f"mg:schedule:0:{late_now.id}:" in markup
    text, markup = texts[f"late-log:{m_now.id}:v1"]
    assert text.startswith("The organisational meeting of «Вместе по лестнице успеха» (")
    assert text.endswith(") is not logged yet. How did it go?")
    assert f"mg:log_held:{m_now.id}:0:1" in markup
    text, markup = texts[f"{late}:c{MOSCOW_COORD}"]
    assert "Ольга Смирнова has not scheduled the organisational meeting of their pair; it was due by" in text
    assert f"mg:adm_pair:0:{late_before.id}:" in markup and "Open the pair" in markup
    assert "не назначена, срок истёк" in texts[f"{late}:c2003"][0]  # each coordinator in their language
    assert "has not logged the organisational meeting" in texts[f"{log}:c{MOSCOW_COORD}"][0]
    assert "has had no held meeting for 22 days" in texts[f"{flag}:c{MOSCOW_COORD}"][0]

    assert await _swept(repos, i18n, clock) == []  # again at the same moment: nothing twice


async def _swept(repos: Repositories, i18n: I18n, clock: ManualClock) -> list[tuple]:
    """Sweep; the messages it queued, in order: (user, kind, ref, dedupe key, not before, text, buttons)."""
    last = (await repos.db.fetchone("SELECT COALESCE(MAX(id), 0) FROM outbox"))[0]
    result = await sweep(repos, i18n, clock)
    rows = await repos.db.fetchall(
        "SELECT user_id, kind, ref, dedupe, not_before, text, markup FROM outbox WHERE id > ? AND kind IN "
        "('late', 'log_prompt') ORDER BY id", (last,))
    assert result.queued == len(rows) and not result.failed_programmes
    found = [(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), r[5], r[6]) for r in rows]
    return found
