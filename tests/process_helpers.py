"""Helpers for tests of the real bot process: a bot process that restarts in a blink, meetings whose reminders
fall due while it runs, the state of the reminder rows in its database, the reminders the fake received."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosqlite import Row

from bot.clock import Clock
from bot.i18n import create_i18n
from dialogs.meeting_plan import MeetingSettings
from handlers.meeting_notices import compose_scheduled
from storage.db import Database, utcnow
from storage.models import Meeting, OutboxMessage, ProposalStatus, Role
from storage.repos import Repositories
from storage.repos._convert import ts
from storage.repos.pairs import NewProposal
from tests.factories import COORDINATOR_ID, School
from tests.fakeapi import FakeBotAPI
from tests.test_process import BotProcess

PLACE = "Кабинет М{n}"  # a meeting's place: the reminders at the fake are told apart by it
_PLACE = re.compile(r"Кабинет М\d+")


async def quiet_hours_far_away(
    repos: Repositories, sch: School, start: datetime, reminder_minutes: int
) -> None:
    """Meeting settings of the school's programme: one reminder `reminder_minutes` before a meeting, quiet
    hours (an hour long) eight hours from `start` in the school's time zone."""
    local_now = start.astimezone(ZoneInfo(sch.org.timezone))
    quiet = (local_now + timedelta(hours=8)).time().replace(second=0, microsecond=0)
    quiet_end = (local_now + timedelta(hours=9)).time().replace(second=0, microsecond=0)
    settings = MeetingSettings(sch.programme.id, reminder_minutes=(reminder_minutes,), quiet_start=quiet,
                               quiet_end=quiet_end)
    await repos.meetings.save_settings(settings, 1)


async def groups(
    repos: Repositories, sch: School, first_user: int, count: int, mentees: int
) -> list[tuple[int, tuple[int, ...]]]:
    """`count` groups of one mentor and `mentees` mentees (users from `first_user` on), paired by hand and
    approved at once as a coordinator would; their pair ids with the members' user ids, mentor first."""
    programme = sch.programme.id
    names = ["Пётр Сидоров", "Вера Иванова", "Анна Кузнецова", "Глеб Попов"]
    members: dict[int, tuple[int, ...]] = {}  # mentor's participant id → user ids
    for n in range(count):
        users = tuple(range(first_user + n * (1 + mentees), first_user + (n + 1) * (1 + mentees)))
        mentor = await repos.participants.enrol(programme, users[0], Role.MENTOR, "pupil_pupil",
                                                "Ольга Смирнова", False, "test")
        for k, user_id in enumerate(users[1:]):
            mentee = await repos.participants.enrol(programme, user_id, Role.MENTEE, "pupil_pupil",
                                                    names[k % len(names)], False, "test")
            await repos.pairs.pair_by_hand(programme, NewProposal(mentor.id, mentee.id, 1.0, []),
                                           COORDINATOR_ID)
        members[mentor.id] = users
    accepted = await repos.pairs.proposals(programme, ProposalStatus.ACCEPTED)
    pairs = await repos.pairs.approve(programme, [p.id for p in accepted], COORDINATOR_ID, [])
    return [(pair.id, members[pair.mentor_id]) for pair in pairs if pair.mentor_id in members]


async def schedule_meetings(
    repos: Repositories, sch: School, pairs: Sequence[tuple[int, tuple[int, ...]]], due: Sequence[datetime],
    reminder_minutes: int,
) -> None:
    """One meeting per pair, scheduled as the mentor would (`repos.meetings.schedule`, so the reminder rows
    are the real ones), starting `reminder_minutes` after its `due` moment: the reminder falls due then (or a
    second after the meeting is scheduled, if that moment has passed already on a slow machine). The
    meeting's place is PLACE with the pair's index in `pairs`."""
    i18n = create_i18n("ru")
    clock = Clock()
    for n, ((pair_id, members), at) in enumerate(zip(pairs, due, strict=True)):

        async def compose(meeting: Meeting) -> list[OutboxMessage]:
            with i18n.context():
                return await compose_scheduled(repos, i18n, clock, meeting)

        starts = max(at, utcnow() + timedelta(seconds=1)) + timedelta(minutes=reminder_minutes)
        await repos.meetings.schedule(sch.programme.id, pair_id, "organisational", starts, 60,
                                      PLACE.format(n=n), False, members[0], compose)


async def sent_long_ago(db: Database, but: str) -> int:
    """Mark every pending message already due, except those of kind `but`, as sent (the notices of meetings,
    the invitations to surveys...): the bot starts with only the `but` ones to send. How many."""
    now = ts(utcnow())
    async with db.transaction() as conn, conn.execute(
        "UPDATE outbox SET status = 'sent', done_at = ? WHERE status = 'pending' AND kind != ? "
        "AND not_before <= ?", (now, but, now),
    ) as cur:
        return cur.rowcount


async def query(path: Path, sql: str, params: tuple = ()) -> list[Row]:
    """The rows of one query on the database at `path` (of a bot process, stopped or running)."""
    db = await Database.open(path, migrate=False)
    try:
        return await db.fetchall(sql, params)
    finally:
        await db.close()


async def reminder_rows(path: Path) -> dict[str, list[tuple[int, str]]]:
    """Status → (user id, meeting place) of the reminder rows in the database at `path`."""
    rows = await query(
        path,
        "SELECT o.status, o.user_id, m.place FROM outbox o JOIN meetings m ON m.id = o.ref "
        "WHERE o.kind = 'reminder'",
    )
    found: dict[str, list[tuple[int, str]]] = {}
    for status, user_id, place in rows:
        found.setdefault(status, []).append((user_id, place))
    return found


def reminders_received(fake: FakeBotAPI) -> Counter[tuple[int, str]]:
    """(chat id, meeting place) → how many reminders of that meeting the fake accepted in that chat."""
    received: Counter[tuple[int, str]] = Counter()
    for call in fake.calls_of("sendMessage"):
        found = _PLACE.search(str(call.params.get("text", "")))
        if call.ok and call.chat_id is not None and found:
            received[call.chat_id, found.group(0)] += 1
    return received



# A process that imports the bot once, then forks a bot for each "go <log file>" line on stdin: the child runs
# `bot.__main__.main()` — what `python -m bot` runs — with its stderr in the log file. The API methods' models
# are built before forking, as the bot's start-up builds them. Reports "ready",
# "started <pid>" and "exit <pid> <code>" on stdout; ends when stdin closes.
ZYGOTE = """
import os, select, signal, sys, traceback
import bot.__main__ as entry
entry.build_models()  # as start-up does; once here rather than in every child
print("ready", flush=True)
children = set()
while True:
    readable = select.select([sys.stdin], [], [], 0.02)[0]
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            break
        children.discard(pid)
        print("exit", pid, os.waitstatus_to_exitcode(status), flush=True)
    if not readable:
        continue
    line = sys.stdin.readline()
    if not line:
        break
    pid = os.fork()
    if pid == 0:
        log = os.open(line.split(maxsplit=1)[1].strip(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 2)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        code = 1
        try:
            code = entry.main()
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    children.add(pid)
    print("started", pid, flush=True)
"""


class ForkedBotProcess(BotProcess):
    """BotProcess whose processes are forked from one that has imported the bot once: each runs the bot's
    entry point (`bot.__main__.main`, as `python -m bot` does) in a process of its own, killed with SIGKILL
    by its pid, but a restart takes as long as the bot's own start-up, not Python's imports (aiogram's take
    seconds of CPU on a slow machine). `open()` early (the imports run meanwhile), `close()` at the end."""

    def __init__(self, fake: FakeBotAPI, workdir: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(fake, workdir, env)
        self.pid: int | None = None
        self._zygote: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._started: asyncio.Queue[int] = asyncio.Queue()
        self._exits: dict[int, asyncio.Future[int]] = {}

    async def open(self) -> None:
        """Start the forking process; it imports the bot meanwhile."""
        if self._zygote is not None:
            return
        self._ready = asyncio.get_running_loop().create_future()
        self._zygote = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ZYGOTE, cwd=self.workdir, env=self.environment(),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(), name="bot-zygote")

    async def _read(self) -> None:
        assert self._zygote is not None and self._zygote.stdout is not None and self._ready is not None
        loop = asyncio.get_running_loop()
        while line := await self._zygote.stdout.readline():
            word, *rest = line.decode().split()
            if word == "ready":
                self._ready.set_result(None)
            elif word == "started":
                self._exits[int(rest[0])] = loop.create_future()
                self._started.put_nowait(int(rest[0]))
            elif word == "exit":
                self._exits[int(rest[0])].set_result(int(rest[1]))
        if not self._ready.done():
            self._ready.set_exception(RuntimeError("the forking process ended before it was ready"))

    @property
    def running(self) -> bool:
        """Whether the current bot process is alive."""
        return self.pid is not None and not self._exits[self.pid].done()

    async def start(self) -> None:
        """Fork a bot process and wait until it polls for updates."""
        await self.open()
        assert self._zygote is not None and self._zygote.stdin is not None and self._ready is not None
        await asyncio.wait_for(asyncio.shield(self._ready), 60)
        since = len(self.fake.calls)
        self._zygote.stdin.write(f"go {self.workdir / f'bot{self.starts:02}.log'}\n".encode())
        await self._zygote.stdin.drain()
        self.pid = await asyncio.wait_for(self._started.get(), 10)
        self.starts += 1
        await self.polling(since)

    async def kill(self) -> None:
        """kill -9: no chance to clean up."""
        assert self.pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        await asyncio.wait_for(asyncio.shield(self._exits[self.pid]), 10)

    async def terminate(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGTERM)
        return await asyncio.wait_for(asyncio.shield(self._exits[self.pid]), 20)

    async def close(self) -> None:
        """Kill the bot if it still runs, and end the forking process."""
        if self.running:
            await self.kill()
        if self._zygote is not None:
            assert self._zygote.stdin is not None
            self._zygote.stdin.close()
            try:
                await asyncio.wait_for(self._zygote.wait(), 10)
            except TimeoutError:
                self._zygote.kill()
                await self._zygote.wait()
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)
            self._zygote = None
