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

from bot.clock import ManualClock
from bot.outbox import Outbox
from dialogs.meeting_plan import MeetingSettings, in_quiet_hours, local_moment
from handlers.sweeps import sweep
from storage.models import Pair
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
