"""Benchmark over HTTP: how long after an update is available at the Bot API server the bot's reply arrives
there, with 50 people answering at once, against `/help` in the same run.

Run as `python benchmarks/http_latency.py` (`--quick` for a smoke run). The bot is the real process
(`python -m bot`, as tests/test_process.py starts it) long-polling the local fake Bot API (tests/fakeapi.py),
which runs here. The database is prepared directly before the bot starts: one programme (form
student–student) with the participants enrolled and their questionnaire (`mentee_student`) started; each
person opens it with /questionnaire (not timed), then answers every question the way a person does — a tap
on an option, yes/no or a scale value, two taps and "Done" for a multiple choice, typed text, a number, a
date — in a closed loop: send the answer, wait for the bot's reply, think, answer the next question.

Latency is from the moment the update is queued at the fake server (`push_update`, which wakes the bot's
waiting long poll) to the arrival at the server of the bot's reply: the next question (`sendMessage`), or the
refreshed keyboard (`editMessageReplyMarkup`) after a tap on a multiple-choice option. The baseline is `/help`
(a command answered with one message, no database write but the update claim) sent by the same number of
people in the same closed loop in the same run. Each is measured with a think time between a reply and the
next update (uniformly random, 0.5–1.5 s, and people start at random moments within the first second: with a
constant pause everyone would send at the same instant, round after round), and saturated (no think time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.answer_path import FORM, plan  # noqa: E402
from benchmarks.common import machine, write_section  # noqa: E402
from dialogs.runner import first_unanswered  # noqa: E402
from dialogs.schema import Questionnaire, load_registry  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Role  # noqa: E402
from storage.repos import Repositories  # noqa: E402
from tests.factories import school  # noqa: E402
from tests.fakeapi import Call, FakeBotAPI  # noqa: E402
from tests.test_process import BotProcess  # noqa: E402

USERS, QUICK_USERS = 50, 10
HELPS, QUICK_HELPS = 10, 3  # /help updates per person in the baseline
THINK = 1.0  # mean seconds between the bot's reply and the person's next update
WARM = 5  # people who answer a whole questionnaire before the measurements (not timed)
TARGET_P95 = 0.030
TIMEOUT = 30.0


class Replies:
    """Watches the fake server's calls and hands each person the reply they wait for."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.waiting: dict[int, tuple[str, float, asyncio.Future[Call]]] = {}
        self._task: asyncio.Task[None] | None = None

    def expect(self, chat_id: int, method: str, since: float) -> asyncio.Future[Call]:
        """A future for the first finished `method` call to the chat that arrived after `since`."""
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = (method.lower(), since, future)
        return future

    async def __aenter__(self) -> Replies:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self) -> None:
        seen = 0
        unfinished: list[Call] = []
        while True:
            event = self.fake._activity  # set on every arrival and every answer of a call
            calls = self.fake.calls
            fresh, seen = calls[seen:], len(calls)
            pending = []
            for call in [*unfinished, *fresh]:
                if call.chat_id is None:
                    continue
                if call.status == 0:
                    pending.append(call)
                    continue
                wanted = self.waiting.get(call.chat_id)
                if wanted is not None and call.method.lower() == wanted[0] and call.time >= wanted[1]:
                    del self.waiting[call.chat_id]
                    if not wanted[2].done():
                        wanted[2].set_result(call)
            unfinished = pending
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 1.0)


@dataclass
class Person:
    """A participant with their questionnaire started, and what the bot shows them."""

    user: dict[str, Any]
    response_id: int
    screen: int = 0  # message id of the question on screen

    @property
    def chat_id(self) -> int:
        return int(self.user["id"])


async def exchange(
    fake: FakeBotAPI, replies: Replies, person: Person, update: dict[str, Any], method: str
) -> Call:
    """Queue the update and wait for the reply; the reply's arrival minus the queueing is the latency."""
    since = time.monotonic()
    future = replies.expect(person.chat_id, method, since)
    fake.push_update(update)
    call = await asyncio.wait_for(future, TIMEOUT)
    if call.status != 200:
        raise RuntimeError(f"the bot's reply failed: {call}")
    return call


def pause(rng: random.Random, think: float) -> float:
    """A think time: uniformly random between half and one and a half times the mean, so that people do not
    march in step (a constant pause would make all of them send at the same instant, again and again)."""
    return rng.uniform(0.5 * think, 1.5 * think)


async def answer_all(
    fake: FakeBotAPI, replies: Replies, person: Person, q: Questionnaire, think: float
) -> list[float]:
    """Answer the whole questionnaire in a closed loop; the latency of every update."""
    rng = random.Random(person.chat_id)
    if think:
        await asyncio.sleep(rng.uniform(0, think))  # people start at different moments
    latencies = []
    answers: dict[str, Any] = {}
    while (question := first_unanswered(q, answers)) is not None:
        steps, value = plan(question, person.response_id)
        for text, data in steps:
            if data is None:
                update, method = fake.message_update(person.user, text), "sendMessage"
            else:
                update = fake.callback_update(person.user, data, person.screen)
                method = "editMessageReplyMarkup" if data.startswith("q:t:") else "sendMessage"
            sent = time.monotonic()
            call = await exchange(fake, replies, person, update, method)
            latencies.append(call.time - sent)
            if method == "sendMessage":
                person.screen = int(call.result["message_id"])
            if think:
                await asyncio.sleep(pause(rng, think))
        answers[question.id] = value
    return latencies


async def ask_help(
    fake: FakeBotAPI, replies: Replies, person: Person, times: int, think: float
) -> list[float]:
    """Send /help `times` times in a closed loop; the latency of every update."""
    rng = random.Random(person.chat_id)
    if think:
        await asyncio.sleep(rng.uniform(0, think))
    latencies = []
    for _ in range(times):
        sent = time.monotonic()
        call = await exchange(fake, replies, person, fake.message_update(person.user, "/help"), "sendMessage")
        latencies.append(call.time - sent)
        if think:
            await asyncio.sleep(pause(rng, think))
    return latencies


async def prepare(path: Path, batches: int, users: int, q: Questionnaire) -> list[list[Person]]:
    """The programme and `batches` × `users` participants with their questionnaire started."""
    db = await Database.open(path)
    try:
        repos = Repositories(db)
        sch = await school(repos, forms=(FORM,))
        found = []
        for batch in range(batches):
            people = []
            for n in range(users):
                user_id = 900_000_000 + batch * 10_000 + n
                participant = await repos.participants.enrol(
                    sch.programme.id, user_id, Role.MENTEE, FORM, f"Student {n}", False, "bench"
                )
                response = await repos.responses.start(participant.id, q.id, q.version)
                user = {"id": user_id, "is_bot": False, "first_name": "Student", "language_code": "en"}
                people.append(Person(user, response.id))
            found.append(people)
        return found
    finally:
        await db.close()


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in seconds."""
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def measure(users: int, helps: int, mean_think: float) -> list[tuple[str, float, list[float]]]:
    """Rows (case, think time, latencies): /help and answers, with think time and saturated."""
    q = load_registry().for_participant(Role.MENTEE, FORM)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        thinking, saturated, warm = await prepare(workdir / "school.sqlite3", 3, users, q)
        warm = warm[:WARM]
        async with FakeBotAPI() as fake, Replies(fake) as replies:
            for person in thinking + saturated + warm:
                fake.register_user(person.user)
            process = BotProcess(fake, workdir)
            await process.start()
            try:
                await asyncio.sleep(2)  # the start-up jobs (sweeps, digests) run first
                for people in (thinking, saturated, warm):  # open the questionnaires (not timed)
                    for person in people:
                        since = len(fake.calls)
                        fake.push_update(fake.message_update(person.user, "/questionnaire"))
                        shown = await fake.wait_for(  # the introduction, then the question with its buttons
                            lambda c, chat=person.chat_id: c.chat_id == chat and c.method == "sendMessage"
                            and "reply_markup" in c.params,
                            TIMEOUT, since=since,
                        )
                        person.screen = int(shown.result["message_id"])
                await asyncio.gather(  # warm-up: every kind of update once, not timed
                    *(ask_help(fake, replies, p, 2, 0) for p in thinking),
                    *(answer_all(fake, replies, p, q, 0) for p in warm),
                )
                for think, people in ((mean_think, thinking), (0.0, saturated)):
                    help_runs = await asyncio.gather(
                        *(ask_help(fake, replies, p, helps, think) for p in people)
                    )
                    rows.append(("/help (baseline)", think, [x for run in help_runs for x in run]))
                    answer_runs = await asyncio.gather(
                        *(answer_all(fake, replies, p, q, think) for p in people)
                    )
                    rows.append(("questionnaire answers", think, [x for run in answer_runs for x in run]))
            finally:
                await process.terminate()
            if fake.rate_limited:
                raise RuntimeError("the fake server refused sends for Telegram's limits")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer users (a smoke run)")
    parser.add_argument("--think", type=float, default=THINK, help=f"mean think time, s (default {THINK:g})")
    args = parser.parse_args()
    users, helps = (QUICK_USERS, QUICK_HELPS) if args.quick else (USERS, HELPS)
    rows = asyncio.run(measure(users, helps, args.think))
    lines = [
        f"Machine: {machine()}; {users} people at once, each in a closed loop; the bot is `python -m bot` "
        "long-polling the fake server (in the benchmark's process); latency from the update queued at the "
        "server to the bot's reply arriving there.",
        "",
        "| case | mean think time, s | updates | p50, ms | p95, ms | p99, ms | p95 ratio to /help "
        "| target p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    met = True
    baseline_p95 = 0.0
    for case, think, latencies in rows:
        p50, p95, p99 = percentiles(latencies)
        if case.startswith("/help"):
            baseline_p95 = p95
            target = ""
        else:
            target = "< 30 ms" if think else "(saturated)"
            if think:
                met = met and p95 < TARGET_P95
        lines.append(
            f"| {case} | {think:g} | {len(latencies)} | {p50 * 1000:.1f} | {p95 * 1000:.1f} "
            f"| {p99 * 1000:.1f} | {p95 / baseline_p95:.2f} | {target} |"
        )
    lines += [
        "",
        f"Target (p95 under 30 ms, people thinking {args.think:g} s on average): "
        f"{'met' if met else 'NOT met'}.",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.quick and args.think == THINK:
        write_section("http_latency", table)


if __name__ == "__main__":
    main()
