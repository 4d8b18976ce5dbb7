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
* **the bot's API calls alone** — a bare dispatcher fed the same updates that makes, for each, exactly the API
  calls the answer path made for it (recorded during its run: same methods, texts and keyboards; the tap
  answered is the update's own, the message edited the question on screen) and nothing else. It is the
  fastest any answer path that shows what the bot shows could run with aiogram's client: what is left between
  it and the bot is the bot's own work.
* **the same, taps edited in place** — as above, but where a tap closed the answered question and sent the
  next one (two calls), the next question replaces the answered one in its message (one edit): the cheapest
  alternative way to show a questionnaire, which drops the trail of answered questions.

All are fed with `dp.feed_update` one update after another (sequential) and with all users at once, each user
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
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType  # noqa: E402
from aiogram.methods import (  # noqa: E402
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
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


# The API calls made while handling the update being fed, when they are being recorded (see `Calls`).
recording: ContextVar[list[TelegramMethod[Any]] | None] = ContextVar("recording", default=None)


class LastMessages(BaseRequestMiddleware):
    """Remembers the last message the bot sent to each chat (its id and text), as the user's screen, counts
    the bot's API calls and records them in `recording` when it is set."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[int, str]] = {}
        self.requests = 0

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        self.requests += 1
        calls = recording.get()
        if calls is not None:
            calls.append(method)
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
    calls: list[TelegramMethod[Any]] = field(default_factory=list)  # what the answer path called for it


@dataclass
class Person:
    """A participant who has just opened the questionnaire, and the updates they sent."""

    user_id: int
    response_id: int
    steps: list[Step] = field(default_factory=list)
    opening: list[TelegramMethod[Any]] = field(default_factory=list)  # the calls that showed question 1

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
            token = recording.set(step.calls)
            try:
                await feed(make_update(person, step))
            finally:
                recording.reset(token)
            sent += 1
        answers[question.id] = value
    return sent


async def replay(person: Person, feed: Feed) -> int:
    """Send the same steps again (to the echo dispatcher)."""
    for step in person.steps:
        await feed(make_update(person, step))
    return len(person.steps)


# The calls the `calls_only` dispatcher is to make for the update being fed.
to_call: ContextVar[list[TelegramMethod[Any]]] = ContextVar("to_call")


def in_place(calls: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
    """A tap's calls as they would be if the next question replaced the answered one in its message:
    "close the answered question, send the next one" becomes one edit (no trail of answered questions)."""
    result: list[TelegramMethod[Any]] = []
    for method in calls:
        if isinstance(method, SendMessage) and result and isinstance(
            result[-1], EditMessageText | EditMessageReplyMarkup
        ):
            closed = result.pop()
            result.append(EditMessageText(chat_id=closed.chat_id, message_id=closed.message_id,
                                          text=method.text, reply_markup=method.reply_markup))
        else:
            result.append(method)
    return result


def calls_only_dispatcher(screen: LastMessages) -> Dispatcher:
    """A bare dispatcher that makes, for each update, the API calls the answer path made for it (`to_call`),
    and nothing else: no middleware, no database, no rendering. The tap answered is the update's own and the
    message edited is the last one sent to the chat (as in the answer path: the question on screen)."""
    calls_only = Dispatcher()

    async def call_all(bot: Bot, chat_id: int, query_id: str | None) -> None:
        for method in to_call.get():
            if isinstance(method, AnswerCallbackQuery):
                method = method.model_copy(update={"callback_query_id": query_id})
            elif isinstance(method, EditMessageText | EditMessageReplyMarkup):
                method = method.model_copy(update={"message_id": screen.last[chat_id][0]})
            await bot(method)

    @calls_only.message()
    async def on_message(message: Message, bot: Bot) -> None:
        await call_all(bot, message.chat.id, None)

    @calls_only.callback_query()
    async def on_callback(call: CallbackQuery, bot: Bot) -> None:
        await call_all(bot, call.from_user.id, call.id)

    return calls_only


async def show_opening(person: Person, bot: Bot) -> None:
    """Show the person's first question again, as a new message (before a `calls_only` run)."""
    for method in person.opening:
        await bot(method)


async def replay_calls(person: Person, feed: Feed, edit_in_place: bool) -> int:
    """Send the person's steps to the `calls_only` dispatcher, each with the calls the answer path made for it
    (made as one edit in place of two calls for taps, if `edit_in_place`)."""
    for step in person.steps:
        token = to_call.set(in_place(step.calls) if edit_in_place and step.data else step.calls)
        try:
            await feed(make_update(person, step))
        finally:
            to_call.reset(token)
    return len(person.steps)


# --------------------------------------------------------------------------- the runs


@dataclass
class Bench:
    """The bot, both dispatchers and the participants' programme."""

    fake: FakeProcess
    bot: Bot
    dp: Dispatcher
    echo: Dispatcher
    calls_only: Dispatcher
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
            token = recording.set(person.opening)
            try:
                await feed(make_update(person, Step(text="/questionnaire")))
            finally:
                recording.reset(token)
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
        await self.reserve_callbacks(4 * most)

        async def timed(run_one: Callable[[Person], Awaitable[int]]) -> Run:
            wall, cpu, requests = time.perf_counter(), time.process_time(), self.screen.requests
            if concurrent:
                sent = sum(await asyncio.gather(*(run_one(p) for p in people)))
            else:
                sent = 0
                for p in people:
                    sent += await run_one(p)
            calls = self.screen.requests - requests
            return Run(sent, time.perf_counter() - wall, time.process_time() - cpu, calls)

        answer_feed, echo_feed = feeder(self.dp, self.bot), feeder(self.echo, self.bot)
        calls_feed = feeder(self.calls_only, self.bot)
        runs = {"answer": await timed(lambda p: answer_questionnaire(p, self.q, answer_feed, self.screen))}
        await self.check(people)
        runs["echo"] = await timed(lambda p: replay(p, echo_feed))
        for name, edit_in_place in (("calls", False), ("in_place", True)):
            for p in people:
                await show_opening(p, self.bot)
            runs[name] = await timed(lambda p, e=edit_in_place: replay_calls(p, calls_feed, e))  # type: ignore[misc]
        assert all(run.updates == runs["answer"].updates for run in runs.values())
        return runs


@dataclass(frozen=True)
class Run:
    """One dispatcher's run over a batch: updates fed, wall and CPU seconds, API calls made."""

    updates: int
    wall: float
    cpu: float
    calls: int

    @property
    def rate(self) -> float:
        return self.updates / self.wall

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.updates * 1000


Sample = dict[str, Run]  # one round: "answer", "echo", "calls" (its calls alone), "in_place" (as one edit)


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
                bench = Bench(fake, bot, dp, echo_dispatcher(), calls_only_dispatcher(screen), repos, q,
                              sch.programme.id, screen)
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
        "process's (the bot's) CPU time per update, its database thread included. Each round feeds the same "
        "updates to four dispatchers: the bot; the echo (the baseline); a bare dispatcher that makes, for "
        "each update, exactly the API calls the bot made for it and does nothing else; the same with each "
        "tap's \"close the answered question, send the next\" made as one edit in place.",
        "",
        "| feeding | dispatcher | updates/s | ratio to echo | target | CPU per update, ms "
        "| API calls per update |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    names = {
        "answer": "**answer path (the bot)**", "echo": "echo (baseline)",
        "calls": "the bot's API calls alone", "in_place": "the same, taps edited in place",
    }
    met, budgets = True, []
    for label, samples in rows:
        rate = {name: statistics.median(s[name].rate for s in samples) for name in names}
        cpu = {name: statistics.median(s[name].cpu_ms for s in samples) for name in names}
        for name, shown in names.items():
            ratio = rate[name] / rate["echo"]
            run = samples[0][name]
            target = f"≥ {TARGET:.2f}" if name == "answer" else ""
            lines.append(f"| {label} | {shown} | {rate[name]:.0f} | {ratio:.2f} | {target} | {cpu[name]:.2f} "
                         f"| {run.calls / run.updates:.2f} |")
        met = met and rate["answer"] / rate["echo"] >= TARGET
        allowed = 1000 / (TARGET * rate["echo"])  # ms of wall time per update at the target rate
        per_update = {name: 1000 / rate[name] for name in names}
        budgets.append(
            f"- {label}: the target allows {allowed:.2f} ms per update; the bot's API calls alone take "
            f"{per_update['calls']:.2f} ms ({per_update['in_place']:.2f} ms with taps edited in place); "
            "the rest of its work (parsing, routers, middlewares, the database, rendering) takes "
            f"{per_update['answer'] - per_update['calls']:.2f} ms more."
        )
    lines += ["", f"Target (answer path at least half the echo rate): {'met' if met else 'NOT met'}.", "",
              "Time per update, wall:", *budgets]
    table = "\n".join(lines)
    print(table)
    if not args.quick:
        write_section("answer_path", table)


if __name__ == "__main__":
    main()
