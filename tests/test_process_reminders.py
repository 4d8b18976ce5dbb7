"""The real bot process with many reminders falling due is killed with SIGKILL at random moments and
restarted: every reminder is sent once and only once (a few in flight at a kill are 'uncertain' and never
resent), reminders missed while the bot was down are sent late, and nothing is sent in quiet hours."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.i18n import create_i18n
from dialogs.meeting_plan import MeetingSettings
from handlers.meeting_notices import compose_scheduled
from storage.db import Database
from storage.repos import Repositories
from tests.factories import approved_pair, school
from tests.fakeapi import FakeBotAPI
from tests.test_process import BotProcess

PAIRS = 40
TZ = "Asia/Vladivostok"


async def prepare(path: Path, start: datetime) -> None:
    """A school with PAIRS approved pairs, each with a meeting whose one reminder (60 minutes before) falls
    due between 4 and 16 seconds from `start`; the quiet hours are far from now."""
    db = await Database.open(path)
    try:
        repos = Repositories(db)
        sch = await school(repos, timezone=TZ)
        local_now = start.astimezone(ZoneInfo(TZ))
        quiet = (local_now + timedelta(hours=8)).time().replace(second=0, microsecond=0)
        quiet_end = (local_now + timedelta(hours=9)).time().replace(second=0, microsecond=0)
        settings = MeetingSettings(sch.programme.id, reminder_minutes=(60,), quiet_start=quiet,
                                   quiet_end=quiet_end)
        await repos.meetings.save_settings(settings, 1)
        i18n = create_i18n("ru")
        clock = Clock()
        for n in range(PAIRS):
            pair = await approved_pair(repos, sch, 60_000 + n, (70_000 + n,))
            starts = start + timedelta(minutes=60, seconds=4 + n * 12 / PAIRS)

            async def compose(meeting):
                with i18n.context():
                    return await compose_scheduled(repos, i18n, clock, meeting)

            await repos.meetings.schedule(sch.programme.id, pair.id, "organisational", starts, 60,
                                          f"Кабинет {n}", False, 60_000 + n, compose)
    finally:
        await db.close()


async def reminder_rows(path: Path) -> dict[str, list[int]]:
    db = await Database.open(path, migrate=False)
    try:
        rows = await db.fetchall("SELECT status, user_id FROM outbox WHERE kind = 'reminder'")
    finally:
        await db.close()
    found: dict[str, list[int]] = {}
    for status, user_id in rows:
        found.setdefault(status, []).append(user_id)
    return found


def reminders_received(fake: FakeBotAPI) -> Counter[int]:
    return Counter(c.chat_id for c in fake.calls_of("sendMessage") if c.ok and "Кабинет" in c.params["text"])


async def test_reminders_once_across_random_kills(fake: FakeBotAPI, tmp_path: Path) -> None:
    database = tmp_path / "school.sqlite3"
    start = datetime.now(UTC)
    await prepare(database, start)
    people = [60_000 + n for n in range(PAIRS)] + [70_000 + n for n in range(PAIRS)]
    fake.delay("sendMessage", 0.05)
    bot = BotProcess(fake, tmp_path)
    rng = random.Random(4)
    kills = 0
    mid_way = []  # after each kill: were some reminders sent and some still to send?
    try:
        await bot.start()
        # Kill at random moments while the reminders fall due, then once while the bot is down past some
        # due times (those are sent late after the restart).
        for pause in (rng.uniform(3, 6), rng.uniform(1, 3), rng.uniform(1, 3)):
            await asyncio.sleep(pause)
            await bot.kill()
            kills += 1
            after = await reminder_rows(database)
            mid_way.append(bool(after.get("sent")) and bool(after.get("pending")))
            await asyncio.sleep(rng.uniform(0, 2))
            await bot.start()
        end = time.monotonic() + 90
        while True:
            rows = await reminder_rows(database)
            if not rows.get("pending") and not rows.get("sending"):
                break
            assert time.monotonic() < end, f"reminders not finished: { {k: len(v) for k, v in rows.items()} }"
            await asyncio.sleep(0.2)
        assert await bot.terminate() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()

    assert any(mid_way), "no kill fell while reminders were being sent: the test proved nothing"
    rows = await reminder_rows(database)
    uncertain = set(rows.get("uncertain", []))
    assert set(rows) <= {"sent", "uncertain"}, rows.keys()
    assert len(uncertain) <= 10 * kills
    received = reminders_received(fake)
    for user_id in people:
        assert received[user_id] <= 1, f"{user_id} got the reminder {received[user_id]} times"
        if user_id not in uncertain:
            assert received[user_id] == 1, f"{user_id} never got the reminder"
    assert "Traceback" not in bot.log()
