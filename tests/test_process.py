"""The real bot process (`python -m bot`) against the fake Bot API: every role, kill -9, restarts."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from dialogs.schema import Question, Questionnaire, Registry
from storage.db import Database
from tests.client import PollDriver, TgUser
from tests.fakeapi import FakeBotAPI
from tests.questionnaire_helpers import answer

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 3000
LINK = re.compile(r"https://t\.me/\w+\?start=[A-Za-z0-9_-]+")
NEXT_YEAR = date.today().year + 1


class BotProcess:
    """`python -m bot` with the environment a school would set, started and killed at will."""

    def __init__(self, fake: FakeBotAPI, workdir: Path, env: dict[str, str] | None = None) -> None:
        """`env`: settings on top of the defaults (e.g. OUTBOX_RATE)."""
        self.fake = fake
        self.workdir = workdir
        self.env = dict(env or {})
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    def environment(self) -> dict[str, str]:
        """The process's environment: the settings a school would set, then `env`."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ADMIN_", "DATABASE_"))}
        env.update(
            BOT_TOKEN="4242:PROCESS-token", BOT_API_BASE_URL=self.fake.base_url, ADMIN_IDS=str(ADMIN),
            DATABASE_PATH=str(self.workdir / "school.sqlite3"), PYTHONPATH=str(ROOT), LOG_LEVEL="INFO",
        )
        env.update(self.env)
        return env

    async def start(self) -> None:
        """Start the process and wait until it polls for updates."""
        since = len(self.fake.calls)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=self.environment(),
            stdout=asyncio.subprocess.DEVNULL, stderr=open(self.workdir / f"bot{self.starts}.log", "w"),  # noqa: ASYNC230
        )
        self.starts += 1
        await self.polling(since)

    async def polling(self, since: int) -> None:
        """Wait for the first getUpdates among the fake's calls from index `since` on."""
        deadline = asyncio.get_running_loop().time() + 30
        while not any(c.method == "getUpdates" for c in self.fake.calls[since:]):
            assert asyncio.get_running_loop().time() < deadline, "the bot did not start polling"
            await asyncio.sleep(0.02)

    async def kill(self) -> None:
        """kill -9: no chance to clean up."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    async def terminate(self) -> int:
        """SIGTERM, as a service manager stops it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout=20)

    def log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.workdir.glob("bot*.log")))


@pytest.fixture
async def process(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotProcess]:
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    yield bot
    if bot.proc is not None and bot.proc.returncode is None:
        await bot.kill()


def on_screen(q: Questionnaire, text: str) -> Question | None:
    """The question whose text is in the message (None for the review)."""
    if text.startswith("Please check your answers"):
        return None
    return next(x for x in q.questions if x.text["en"] in text)


async def stored_answers(path: Path, user_id: int) -> dict:
    db = await Database.open(path, migrate=False)
    try:
        rows = await db.fetchall(
            "SELECT a.question_id, a.value FROM answers a JOIN responses r ON r.id = a.response_id "
            "JOIN participants p ON p.id = r.participant_id WHERE p.user_id = ?",
            (user_id,),
        )
        return {r[0]: r[1] for r in rows}
    finally:
        await db.close()


async def test_school_from_first_link_to_submitted_questionnaire_across_kills(
    fake: FakeBotAPI, process: BotProcess, registry: Registry, tmp_path: Path
) -> None:
    driver = PollDriver(fake, timeout=20)
    admin = TgUser(driver, ADMIN, "Olga", language_code="en")
    coordinator = TgUser(driver, 3001, "Maria", language_code="en")
    mentor = TgUser(driver, 3002, "Anna", language_code="en")
    kid = TgUser(driver, 3003, "Masha", language_code="en")
    parent = TgUser(driver, 3004, "Elena", language_code="en")
    database = tmp_path / "school.sqlite3"

    assert fake.get_commands(), "the default command menu is set at start-up"
    await admin.send("/neworg")
    await admin.send("Лицей №21")
    await admin.click("Moscow (UTC+3)")
    await admin.click("Invite a coordinator")
    coordinator_link = LINK.search(admin.texts[-2]).group(0)

    await coordinator.send("/start " + coordinator_link.split("start=")[1])
    await coordinator.click("Accept")
    assert "You are now a coordinator" in coordinator.last_text
    await coordinator.send("/newprogramme")
    await coordinator.send("Вместе по лестнице успеха")
    await coordinator.click("Pupil – pupil")
    await coordinator.click("Done")
    await coordinator.send(f"01.09.{NEXT_YEAR}")
    await process.kill()  # in the middle of the coordinator's conversation
    await process.start()
    await coordinator.send(f"31.05.{NEXT_YEAR + 1}")
    await coordinator.click("Create")
    mentor_link, mentee_link = (m.group(0) for t in coordinator.texts for m in LINK.finditer(t))

    await mentor.send("/start " + mentor_link.split("start=")[1])
    await mentor.click("I agree (I am 18 or older)")
    await mentor.send("Anna Petrova")
    assert mentor.last_text.startswith("1 / ")

    await kid.send("/start " + mentee_link.split("start=")[1])
    await kid.click("under 18")
    await kid.send("Masha Ivanova")
    parent_link = kid.last_message.url_buttons[0][1]
    await parent.send("/start " + parent_link.split("start=")[1])
    await parent.click("I confirm")
    await kid.click("Start the questionnaire")

    q = registry.get("mentee_pupil")
    confirmed: set[str] = set()
    kills = 0
    while (question := on_screen(q, kid.last_text)) is not None:
        await answer(kid, question)
        if on_screen(q, kid.last_text) != question:
            confirmed.add(question.id)  # the bot moved on: the answer was confirmed to the person
        if len(confirmed) in (2, 5) and kills < len(confirmed) // 2:
            kills += 1
            await process.kill()
            await process.start()
            assert set(await stored_answers(database, kid.id)) >= confirmed
            await kid.send("/questionnaire")
    assert kills == 2
    await kid.click("Submit")
    assert "Status: submitted" in kid.last_text
    assert set(await stored_answers(database, kid.id)) >= confirmed

    # A redelivered update (same update_id) is not handled again, also after a restart.
    last_update = next(
        u for u in reversed(fake.updates) if u.get("message", {}).get("chat", {}).get("id") == kid.id
    )
    sent = len(fake.calls_of(chat_id=kid.id))
    await process.kill()
    await process.start()
    await TgUser(driver, 3009, "Nobody", language_code="en").send("/help")  # the new process answers
    fake.push_raw(last_update)
    for _ in range(100):
        if fake.was_delivered(last_update["update_id"]):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert fake.was_delivered(last_update["update_id"])
    assert len(fake.calls_of(chat_id=kid.id)) == sent

    assert await process.terminate() == 0
    assert "Traceback" not in process.log()
