"""The real bot process sends an announcement to 150 people, is killed with SIGKILL mid-way, restarts:
nobody gets it twice, everybody but the few 'uncertain' ones gets it, Telegram's limits are kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.models import Role
from storage.repos import Repositories
from tests.client import PollDriver, TgUser
from tests.factories import school
from tests.fakeapi import FakeBotAPI
from tests.process_helpers import query
from tests.test_process import BotProcess

COORDINATOR = 3101
PEOPLE = [40_000 + i for i in range(150)]
TITLE = "Вместе по лестнице успеха"
BODY = "Родительское собрание в четверг в 18:00."


async def prepare(path: Path) -> None:
    """A school with 150 mentees who have talked to the bot (as after the invites)."""
    db = await Database.open(path)
    try:
        repos = Repositories(db)
        sch = await school(repos, coordinator_id=COORDINATOR)
        for uid in PEOPLE:
            await repos.participants.enrol(
                sch.programme.id, uid, Role.MENTEE, "pupil_pupil", f"Ученик {uid}", False, "v1"
            )
            await repos.users.seen(uid, "ru")
    finally:
        await db.close()


async def outbox_rows(path: Path) -> dict[str, list[int]]:
    """Status → the user ids of the announcement's rows."""
    rows = await query(path, "SELECT status, user_id FROM outbox WHERE kind = 'announcement'")
    found: dict[str, list[int]] = {}
    for status, user_id in rows:
        found.setdefault(status, []).append(user_id)
    return found


async def report_status(path: Path) -> str | None:
    rows = await query(path, "SELECT status FROM outbox WHERE dedupe LIKE 'ann-report:%'")
    return rows[0][0] if rows else None


@pytest.fixture
async def process(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotProcess]:
    await prepare(tmp_path / "school.sqlite3")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


async def test_announcement_survives_kill_minus_nine(
    fake: FakeBotAPI, process: BotProcess, tmp_path: Path
) -> None:
    database = tmp_path / "school.sqlite3"
    fake.enforce_limits(per_second=30, chat_interval=1.0, exempt={COORDINATOR})
    fake.delay("sendMessage", 0.1)  # a real network's latency: a few messages are always in flight
    maria = TgUser(PollDriver(fake, timeout=20), COORDINATOR, "Maria", language_code="en")
    await maria.send("/programmes")
    await maria.click(TITLE)
    await maria.click("Announcement")
    await maria.click("All mentees (150)")
    await maria.send(BODY)
    await maria.click("Send to 150 people")
    assert maria.last_text.startswith("Queued for 150 people.")

    end = time.monotonic() + 60
    while sum(fake.deliveries[u] for u in PEOPLE) < 40:
        assert time.monotonic() < end, "the process did not start sending"
        await asyncio.sleep(0.01)
    await process.kill()
    after_kill = await outbox_rows(database)
    assert after_kill.get("pending"), "killed too late to prove anything"
    assert after_kill.get("sending"), "killed while nothing was in flight"
    await process.start()

    end = time.monotonic() + 90
    while await report_status(database) != "sent":
        assert time.monotonic() < end, f"not finished: {await outbox_rows(database)}"
        await asyncio.sleep(0.1)

    rows = await outbox_rows(database)
    uncertain = set(rows.get("uncertain", []))
    assert set(rows) <= {"sent", "uncertain"}
    assert uncertain == set(after_kill["sending"]) and len(uncertain) <= 10
    assert set(rows["sent"]) | uncertain == set(PEOPLE)
    for uid in PEOPLE:
        received = fake.deliveries[uid]
        assert received <= 1, f"{uid} got the announcement {received} times"
        if uid not in uncertain:
            assert received == 1
    assert all(fake.messages(u)[0]["text"].endswith(BODY) for u in PEOPLE if fake.deliveries[u])
    assert fake.rate_limited == [], "the process went past Telegram's limits"
    reports = [t for t in maria.texts if t.startswith("Announcement to «All mentees»")]
    assert len(reports) == 1
    assert f"delivered to {len(rows['sent'])} of 150." in reports[0]

    assert await process.terminate() == 0
    assert "Traceback" not in process.log()
    assert "marked uncertain" in process.log()
