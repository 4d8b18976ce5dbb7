"""Benchmark of the answer path: questionnaire answers per second through the real dispatcher, against a bare
aiogram echo dispatcher on the same bot and session in the same run.

Run as `python benchmarks/answer_path.py` (`--quick` for a smoke run). What is measured:

* **answer path** — `bot.app.create_dispatcher` exactly as in production (update dedupe, user and language
  middlewares, the SQLite FSM storage, every router), a migrated SQLite database in a temporary directory, the
  outbox sender running. Each participant (mentee, form student–student, questionnaire `mentee_student`) has
  just opened the questionnaire; every update is their answer to the question on screen, given the way a
  person gives it: a tap on an option, a yes/no or a scale button; two taps and "Done" for a multiple choice;
  typed text, a number or a date. The runner stores each answer and sends the next question. After the run
  every participant's stored answers are checked against what they gave.
* **echo** — a bare `aiogram.Dispatcher()` with one handler per kind (`message.answer(message.text)`,
  `callback.answer()`), fed exactly the same updates (same users, texts and callback data, in the same order).

Both are fed with `dp.feed_update` one update after another (sequential) and with all users at once, each user
sending their next answer when the bot has dealt with the previous one (concurrent, `asyncio.gather`). The
rate is updates handled per second of wall time.

The bot talks to the local fake Bot API (tests/fakeapi.py) over real HTTP with aiogram's aiohttp session, as
the tests do, but the fake runs in a **separate process**: in the bot's event loop it would charge the
server's work to the bot, and the answer path makes three API calls for a tap (answer the callback, close
the old keyboard, send the next question) where the echo makes one, so the shared loop would distort the
ratio. Like Telegram, the fake is then somebody else's CPU. The script prints a markdown table and rewrites
its section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType  # noqa: E402
from aiogram.methods import SendMessage, TelegramMethod  # noqa: E402
from aiogram.methods.base import TelegramType  # noqa: E402
from aiogram.types import CallbackQuery, Message, Update  # noqa: E402

from benchmarks.common import machine, write_section  # noqa: E402
from bot.app import create_bot, create_dispatcher  # noqa: E402
from bot.callbacks import QuestionCb  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.i18n import create_i18n  # noqa: E402
from dialogs.runner import first_unanswered  # noqa: E402
from dialogs.schema import Question, Questionnaire, QuestionType, Registry, load_registry  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Role  # noqa: E402
from storage.repos import Repositories  # noqa: E402
from tests.factories import school  # noqa: E402
from tests.fakeapi import FakeBotAPI  # noqa: E402

TOKEN = "4242:BENCH-token"
FORM = "student_student"
USERS, QUICK_USERS = 50, 10
ROUNDS, QUICK_ROUNDS = 3, 1
TARGET = 0.5
TEXT_ANSWER = "I would like to learn to plan my studies"

_update_ids = itertools.count(1)
_callback_ids = itertools.count(9_000_000_001)
_registered = [9_000_000_001]  # callback query ids below this one are registered at the fake
_user_ids = itertools.count(800_000_001)

# --------------------------------------------------------------------------- the fake in its own process


async def serve_fake() -> None:
    """Child process: the fake Bot API until stdin closes; prints its base URL. `benchCallbacks` registers
    callback query ids the benchmark makes up, so that answering them is legal."""
    async with FakeBotAPI() as fake:

        async def register(ctx: Any) -> bool:
            for query_id in ctx.call.params.get("ids", []):
                fake.callback_queries[str(query_id)] = {"id": str(query_id), "from": {"id": 0}}
            return True

        fake._methods["benchcallbacks"] = register
        print(fake.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


class FakeProcess:
    """The fake Bot API server running in a child process."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve-fake",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.base_url = (await asyncio.wait_for(self.proc.stdout.readline(), 30)).decode().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the fake Bot API did not start")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def register_callbacks(self, ids: list[str]) -> None:
        """Make the fake accept answers to these callback query ids."""
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.base_url}/bot{TOKEN}/benchCallbacks", json={"ids": ids}
        ) as resp:
            resp.raise_for_status()


# --------------------------------------------------------------------------- users and their updates


class LastMessages(BaseRequestMiddleware):
    """Remembers the last message the bot sent to each chat (its id and text), as the user's screen, and
    counts the bot's API calls."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[int, str]] = {}
        self.requests = 0

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        self.requests += 1
        result = await make_request(bot, method)
        if isinstance(method, SendMessage) and isinstance(result, Message)\
                and isinstance(method.chat_id, int):
            self.last[method.chat_id] = (result.message_id, result.text or "")
        return result


@dataclass
class Step:
    """One update a user sends: typed text, or a tap with callback data on the message on screen."""

    text: str | None = None
    data: str | None = None
    message: tuple[int, str] | None = None  # (message_id, text) the tap is on


@dataclass
class Person:
    """A participant who has just opened the questionnaire, and the updates they sent."""

    user_id: int
    response_id: int
    steps: list[Step] = field(default_factory=list)

    def user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": "Student", "language_code": "en"}


def make_update(person: Person, step: Step) -> dict[str, Any]:
    """The raw Telegram update of a step, with fresh update and callback query ids."""
    user = person.user()
    chat = {"id": person.user_id, "type": "private", "first_name": "Student"}
    if step.data is None:
        message = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": user, "text": step.text}
        return {"update_id": next(_update_ids), "message": message}
    assert step.message is not None
    message_id, text = step.message
    bot_user = {"id": 4242, "is_bot": True, "first_name": "Nastavnik"}
    shown = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": bot_user, "text": text}
    query = {
        "id": str(next(_callback_ids)), "from": user, "chat_instance": str(person.user_id), "data": step.data,
        "message": shown,
    }
    return {"update_id": next(_update_ids), "callback_query": query}


def plan(question: Question, response_id: int) -> tuple[list[tuple[str | None, str | None]], Any]:
    """What a person sends for a question — (text, callback data) per update — and the answer it stores."""

    def tap(action: str, value: str = "") -> tuple[None, str]:
        return None, QuestionCb(action=action, response=response_id, question=question.id, value=value).pack()

    options = [o.id for o in question.options]
    match question.type:
        case QuestionType.SINGLE:
            return [tap("a", options[0])], options[0]
        case QuestionType.MULTI:
            chosen = options[:2] if question.max_choices != 1 else options[:1]
            return [*(tap("t", o) for o in chosen), tap("d")], chosen
        case QuestionType.YESNO:
            return [tap("a", "1")], True
        case QuestionType.SCALE:
            return [tap("a", str(question.max))], question.max
        case QuestionType.NUMBER:
            return [(str(question.min), None)], question.min
        case QuestionType.DATE:
            return [("01.09.2025", None)], "2025-09-01"
        case _:
            return [(TEXT_ANSWER, None)], TEXT_ANSWER


Feed = Callable[[dict[str, Any]], Awaitable[None]]


def feeder(dp: Dispatcher, bot: Bot) -> Feed:
    """Parse a raw update and feed it to the dispatcher as polling does."""

    async def feed(raw: dict[str, Any]) -> None:
        update = Update.model_validate(raw, context={"bot": bot})
        result = await dp.feed_update(bot, update)
        if isinstance(result, TelegramMethod):
            await bot(result)

    return feed


async def answer_questionnaire(person: Person, q: Questionnaire, feed: Feed, screen: LastMessages) -> int:
    """Answer every question the questionnaire shows, recording the steps; the number of updates sent."""
    answers: dict[str, Any] = {}
    sent = 0
    while (question := first_unanswered(q, answers)) is not None:
        updates, value = plan(question, person.response_id)
        for text, data in updates:
            step = Step(text, data, screen.last.get(person.user_id) if data else None)
            person.steps.append(step)
            await feed(make_update(person, step))
            sent += 1
        answers[question.id] = value
    return sent


async def replay(person: Person, feed: Feed) -> int:
    """Send the same steps again (to the echo dispatcher)."""
    for step in person.steps:
        await feed(make_update(person, step))
    return len(person.steps)


# --------------------------------------------------------------------------- the runs


@dataclass
class Bench:
    """The bot, both dispatchers and the participants' programme."""

    fake: FakeProcess
    bot: Bot
    dp: Dispatcher
    echo: Dispatcher
    repos: Repositories
    q: Questionnaire
    programme_id: int
    screen: LastMessages

    async def people(self, count: int) -> list[Person]:
        """New participants who have each opened their questionnaire (the bot showed the first question)."""
        feed = feeder(self.dp, self.bot)
        found = []
        for _ in range(count):
            user_id = next(_user_ids)
            participant = await self.repos.participants.enrol(
                self.programme_id, user_id, Role.MENTEE, FORM, "Student Bench", False, "bench"
            )
            person = Person(user_id, 0)
            await feed(make_update(person, Step(text="/questionnaire")))
            (response,) = await self.repos.responses.of_participant(participant.id)
            person.response_id = response.id
            found.append(person)
        return found

    async def reserve_callbacks(self, count: int) -> None:
        """Register the next `count` callback query ids at the fake (before timing starts)."""
        ids = [str(i) for i in range(_registered[0], _registered[0] + count)]
        _registered[0] += count
        await self.fake.register_callbacks(ids)

    async def check(self, people: list[Person]) -> None:
        """Every answer a person gave is stored."""
        for person in people:
            response = await self.repos.responses.get(person.response_id)
            assert response is not None and first_unanswered(self.q, response.answers) is None, (
                f"user {person.user_id}: the questionnaire is not complete, answers {response}"
            )

    async def run(self, users: int, concurrent: bool) -> Sample:
        """Answer path and echo on one batch of new participants."""
        people = await self.people(users)
        most = sum(len(plan(x, 0)[0]) for x in self.q.questions) * len(people)
        await self.reserve_callbacks(2 * most)

        async def timed(run_one: Callable[[Person], Awaitable[int]]) -> tuple[float, float, int, int]:
            wall, cpu, requests = time.perf_counter(), time.process_time(), self.screen.requests
            if concurrent:
                sent = sum(await asyncio.gather(*(run_one(p) for p in people)))
            else:
                sent = 0
                for p in people:
                    sent += await run_one(p)
            calls = self.screen.requests - requests
            return time.perf_counter() - wall, time.process_time() - cpu, sent, calls

        answer_feed, echo_feed = feeder(self.dp, self.bot), feeder(self.echo, self.bot)
        answer_wall, answer_cpu, sent, answer_calls = await timed(
            lambda p: answer_questionnaire(p, self.q, answer_feed, self.screen)
        )
        await self.check(people)
        echo_wall, echo_cpu, echoed, echo_calls = await timed(lambda p: replay(p, echo_feed))
        assert echoed == sent
        return Sample(sent, answer_wall, answer_cpu, echo_wall, echo_cpu, answer_calls, echo_calls)


@dataclass(frozen=True)
class Sample:
    """One round: updates sent to each dispatcher, wall and CPU seconds of each."""

    updates: int
    answer_wall: float
    answer_cpu: float
    echo_wall: float
    echo_cpu: float
    answer_calls: int
    echo_calls: int


def echo_dispatcher() -> Dispatcher:
    """A bare aiogram dispatcher that echoes text and answers taps."""
    echo = Dispatcher()

    @echo.message()
    async def on_message(message: Message) -> None:
        await message.answer(message.text or "?")

    @echo.callback_query()
    async def on_callback(call: CallbackQuery) -> None:
        await call.answer()

    return echo


async def measure(users: int, rounds: int) -> list[tuple[str, list[Sample]]]:
    """Median rates over the rounds, sequential and concurrent."""
    registry: Registry = load_registry()
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeProcess() as fake:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                bot_token=TOKEN, bot_api_base_url=fake.base_url, database_path=Path(tmp) / "bench.sqlite3",
                admin_ids=frozenset({1000}),
            )
            db = await Database.open(settings.database_path)
            bot = create_bot(settings)
            screen = LastMessages()
            bot.session.middleware(screen)
            dp = create_dispatcher(settings, db, create_i18n("ru"), registry)
            await dp["outbox"].start(bot)
            try:
                repos: Repositories = dp["repos"]
                sch = await school(repos, forms=(FORM,))
                q = registry.for_participant(Role.MENTEE, FORM)
                bench = Bench(fake, bot, dp, echo_dispatcher(), repos, q, sch.programme.id, screen)
                await bench.run(min(users, 5), concurrent=False)  # warm-up: imports, caches, connections
                gc.collect()
                gc.freeze()  # what start-up made stays out of the collector's way, as `python -m bot` does
                rows = []
                for label, concurrent in (("sequential", False), (f"{users} users at once", True)):
                    samples = [await bench.run(users, concurrent) for _ in range(rounds)]
                    rows.append((label, samples))
                return rows
            finally:
                await dp["outbox"].stop()
                await bot.session.close()
                await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer users and one round (a smoke run)")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake())
        return
    users, rounds = (QUICK_USERS, QUICK_ROUNDS) if args.quick else (USERS, ROUNDS)
    rows = asyncio.run(measure(users, rounds))
    lines = [
        f"Machine: {machine()}; questionnaire `mentee_student` answered in full by {users} new participants "
        f"per round, median of {rounds} round(s); the fake Bot API in a separate process. CPU is this "
        "process's (the bot's) CPU time per update, its database thread included.",
        "",
        "| feeding | updates per round | answer path, updates/s | echo, updates/s | ratio to echo | target "
        "| CPU per update, answer / echo, ms | API calls per update, answer / echo |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    met = True
    for label, samples in rows:
        updates = samples[0].updates
        answer_rate = statistics.median(s.updates / s.answer_wall for s in samples)
        echo_rate = statistics.median(s.updates / s.echo_wall for s in samples)
        answer_cpu = statistics.median(s.answer_cpu / s.updates for s in samples) * 1000
        echo_cpu = statistics.median(s.echo_cpu / s.updates for s in samples) * 1000
        ratio = answer_rate / echo_rate
        met = met and ratio >= TARGET
        lines.append(
            f"| {label} | {updates} | {answer_rate:.0f} | {echo_rate:.0f} | {ratio:.2f} | ≥ {TARGET:.2f} "
            f"| {answer_cpu:.2f} / {echo_cpu:.2f} "
            f"| {samples[0].answer_calls / updates:.2f} / {samples[0].echo_calls / updates:.2f} |"
        )
    lines += ["", f"Target (answer path at least half the echo rate): {'met' if met else 'NOT met'}."]
    table = "\n".join(lines)
    print(table)
    if not args.quick:
        write_section("answer_path", table)


if __name__ == "__main__":
    main()
