"""Kill -9 the real bot process at random moments while 200 pupils answer their joining questionnaire and
2,000 meeting reminders fall due; restart it each time, sometimes at once, sometimes after a while past some
reminders' due times; 20 kills. Afterwards:

- every answer the bot confirmed to a pupil (it moved on to the next question) is in the database;
- no reminder reached a person twice, and every reminder reached its person, except those the bot was
  sending at the instant of a kill: those are 'uncertain' and never sent again (at most once);
- nothing is left due or 'sending', and no traceback is in the bot's logs.

A pupil whose message got no reply because the bot died does what a pupil would: sends /questionnaire again
after the restart and carries on. `pytest -s` prints a one-line summary of the counts.

The bot processes run `bot.__main__.main()`, what `python -m bot` runs, each in a process of its own forked
from one that imported the bot once (tests.process_helpers.ForkedBotProcess): a restart then takes a tenth
of a second rather than the seconds aiogram's imports take. The outbox sends at 200 a second (the fake
enforces no limits here) to keep the run short.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.i18n import create_i18n
from bot.outbox import MAX_IN_FLIGHT
from dialogs.schema import Question, QuestionType, Registry
from handlers.surveys import survey_sweep
from storage.db import Database, utcnow
from storage.models import Role
from storage.repos import Repositories
from storage.repos._convert import ts
from tests.client import CrowdDriver, NoReply, TgUser
from tests.factories import school
from tests.fakeapi import FakeBotAPI
from tests.process_helpers import (
    ForkedBotProcess,
    groups,
    query,
    quiet_hours_far_away,
    reminder_rows,
    reminders_received,
    schedule_meetings,
    sent_long_ago,
)
from tests.questionnaire_helpers import answer

PUPILS = 200
GROUPS, MENTEES = 400, 4  # one meeting each, its one reminder to the mentor and 4 mentees: 2,000 reminders
KILLS = 20
ACTIVE = 50  # pupils answering at the same moment (the others are yet to start or done)
ANSWERS_EACH = 10  # about how many questions each pupil answers (those our answers leave visible)
TZ = "Asia/Vladivostok"
FIRST_DUE, DUE_SPREAD = 8.0, 30.0  # seconds from the scheduling of the meetings
ENV = {"OUTBOX_RATE": "200", "OUTBOX_POLL_SECONDS": "0.5"}  # the fake enforces no limits here
GRACE = 3.0  # s a pupil waits after a restart for the reply to a message sent before the kill
BUTTONS = {QuestionType.SINGLE, QuestionType.MULTI, QuestionType.YESNO, QuestionType.SCALE}
REVIEW = "review"


@dataclass
class Life:
    """The bot process's life as the test sees it: its kills and how long it has been up in all."""

    kills: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, uptime) at each kill
    up_since: float | None = None
    up_before: float = 0.0  # seconds up before `up_since`

    def uptime(self) -> float:
        return self.up_before + (time.monotonic() - self.up_since if self.up_since is not None else 0.0)

    def started(self) -> None:
        self.up_since = time.monotonic()

    def killed(self) -> None:
        self.up_before = self.uptime()
        self.up_since = None
        self.kills.append((time.monotonic(), self.up_before))

    def killed_since(self, moment: float) -> bool:
        return any(at >= moment for at, _up in self.kills)

    def gave_up(self, pushed_at: float) -> bool:
        """Whether a pupil stops waiting for the reply to a message sent at `pushed_at`: the bot was killed
        since, and the processes after it have been up GRACE seconds (time enough to answer it)."""
        after = next((up for at, up in self.kills if at >= pushed_at), None)
        return after is not None and self.up_since is not None and self.uptime() - after >= GRACE


@dataclass
class Kill:
    """What was going on at one kill."""

    answers_in_flight: int  # pupils waiting for the bot's reply
    reminders_sending: int  # reminder rows claimed, the HTTP call not marked done
    down: float  # seconds before the restart


async def prepare(path: Path, registry: Registry) -> list[int]:
    """A school with GROUPS approved groups whose meetings' reminders fall due between FIRST_DUE and
    FIRST_DUE + DUE_SPREAD seconds from now (their notices and invitations to surveys long sent), and PUPILS
    mentees who gave their consent and have not started their questionnaire yet. Returns the pupils' ids."""
    db = await Database.open(path)
    try:
        repos = Repositories(db)
        sch = await school(repos, timezone=TZ)
        await quiet_hours_far_away(repos, sch, datetime.now(UTC), 60)
        pupils = [10_000 + n for n in range(PUPILS)]
        for n, user_id in enumerate(pupils):
            await repos.participants.enrol(sch.programme.id, user_id, Role.MENTEE, "pupil_pupil",
                                           f"Ученик {n}", False, "test")
        made = await groups(repos, sch, 60_000, GROUPS, MENTEES)
        start = datetime.now(UTC)
        due = [start + timedelta(seconds=FIRST_DUE + DUE_SPREAD * n / GROUPS) for n in range(GROUPS)]
        await schedule_meetings(repos, sch, made, due, 60)
        await survey_sweep(repos, create_i18n("ru"), registry, Clock())  # the groups' self-assessment
        await sent_long_ago(db, but="reminder")
    finally:
        await db.close()
    return pupils


def screen(user: TgUser, questions: list[Question], driver: CrowdDriver) -> Question | str | None:
    """What the pupil can act on: the question on screen (with its buttons), REVIEW, or None."""
    last = driver.last_message(user.id)
    if last is None:
        return None
    if last.text.startswith("Please check your answers"):
        return REVIEW
    question = next((x for x in questions if x.text["en"] in last.text), None)
    if question is None or (question.type in BUTTONS and not last.keyboard):
        return None
    return question


async def moved_on(user: TgUser, questions: list[Question], life: Life, since: float,
                   away_from: Question | None, driver: CrowdDriver) -> Question | str | None:
    """The screen once the bot has had its say: wait while it shows `away_from` or nothing to act on,
    unless the bot was killed since `since` (then the screen as it is)."""
    deadline = time.monotonic() + 20
    while True:
        shown = screen(user, questions, driver)
        if (shown is not None and shown != away_from) or life.killed_since(since):
            return shown
        assert time.monotonic() < deadline, f"the bot answered {user}, did not move on: {user.last_message}"
        await driver.wait_chat(user.id, 0.25)


async def pupil(user: TgUser, questions: list[Question], life: Life, driver: CrowdDriver,
                confirmed: set[str], lost: Counter[str], active: asyncio.Semaphore) -> None:
    """Answer the questionnaire up to its review, starting over with /questionnaire when the bot died."""
    async with active:
        await answer_all(user, questions, life, driver, confirmed, lost)


async def answer_all(user: TgUser, questions: list[Question], life: Life, driver: CrowdDriver,
                     confirmed: set[str], lost: Counter[str]) -> None:
    resume = True
    for _ in range(300):
        since = time.monotonic()
        if resume:
            try:
                await user.send("/questionnaire")
            except NoReply:
                lost["/questionnaire"] += 1
                continue
            shown = await moved_on(user, questions, life, since, None, driver)
            resume = shown is None
            continue
        shown = screen(user, questions, driver)
        if shown == REVIEW:
            return
        if shown is None or isinstance(shown, str):
            resume = True
            continue
        try:
            await answer(user, shown)
        except NoReply:
            lost["answer"] += 1
            resume = True
            continue
        if await moved_on(user, questions, life, since, shown, driver) not in (None, shown):
            confirmed.add(shown.id)  # the bot moved on to the next question: the answer is confirmed
        else:
            resume = True
    raise AssertionError(f"{user} never reached the review")


async def unfinished(path: Path) -> int:
    """Messages of any kind being sent, or due and not sent."""
    rows = await query(
        path,
        "SELECT COUNT(*) FROM outbox WHERE status = 'sending' OR (status = 'pending' AND not_before <= ?)",
        (ts(utcnow()),),
    )
    return int(rows[0][0])


async def stored(path: Path) -> dict[int, set[str]]:
    """User id → the question ids of their stored answers."""
    rows = await query(
        path,
        "SELECT p.user_id, a.question_id FROM answers a JOIN responses r ON r.id = a.response_id "
        "JOIN participants p ON p.id = r.participant_id",
    )
    found: dict[int, set[str]] = {}
    for user_id, question_id in rows:
        found.setdefault(user_id, set()).add(question_id)
    return found


async def test_answers_and_reminders_survive_twenty_kills(
    fake: FakeBotAPI, tmp_path: Path, registry: Registry
) -> None:
    began = time.monotonic()
    database = tmp_path / "school.sqlite3"
    bot = ForkedBotProcess(fake, tmp_path, env=ENV)
    await bot.open()  # it imports the bot while the database is prepared
    try:
        pupils = await prepare(database, registry)
    except BaseException:
        await bot.close()
        raise
    prepared = time.monotonic() - began
    questions = list(registry.get("mentee_pupil").questions)
    fake.delay("sendMessage", 0.02)  # Telegram's answers take a while: a kill can land during one
    life = Life()
    driver = CrowdDriver(fake, timeout=30, quiet=0.15, gave_up=life.gave_up)
    rng = random.Random(6)
    kills: list[Kill] = []
    confirmed: dict[int, set[str]] = {user_id: set() for user_id in pupils}
    lost: Counter[str] = Counter()
    active = asyncio.Semaphore(ACTIVE)
    pupils_done = asyncio.Event()
    done: dict[str, float] = {}  # phase → seconds from the first start

    async def killer() -> None:
        """KILLS kills at random moments while the pupils answer (at random points of their progress, so
        that the kills fall among their answers on a fast machine as on a slow one); a third of the
        restarts after a down time of up to 2 s."""
        marks = sorted(rng.uniform(0.02, 0.8) * PUPILS * ANSWERS_EACH for _ in range(KILLS))
        for mark in marks:
            await asyncio.sleep(rng.uniform(0.3, 1.0))
            while sum(map(len, confirmed.values())) < mark and not pupils_done.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(pupils_done.wait(), 0.05)
            in_flight = len(driver.waiting)
            await bot.kill()
            life.killed()
            rows = await reminder_rows(database)
            down = rng.uniform(0.5, 2.0) if rng.random() < 1 / 3 else 0.0
            kills.append(Kill(in_flight, len(rows.get("sending", [])), down))
            await asyncio.sleep(down)
            await bot.start()
            life.started()
        done["kills"] = time.monotonic() - started

    async def all_pupils() -> None:
        users = [TgUser(driver, user_id, f"Pupil {user_id}", language_code="en") for user_id in pupils]
        async with asyncio.TaskGroup() as group:
            for user in users:
                group.create_task(pupil(user, questions, life, driver, confirmed[user.id], lost, active))
        pupils_done.set()
        done["pupils"] = time.monotonic() - started

    try:
        await bot.start()
        life.started()
        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            group.create_task(killer())
            group.create_task(all_pupils())
        end = time.monotonic() + 60
        while (rows := await reminder_rows(database)).get("pending") or rows.get("sending"):
            assert time.monotonic() < end, f"reminders not finished: { {k: len(v) for k, v in rows.items()} }"
            await asyncio.sleep(0.2)
        done["reminders"] = time.monotonic() - started
        assert await bot.terminate() == 0
    finally:
        await driver.close()
        await bot.close()

    # Answers: every one confirmed to a pupil is stored.
    saved = await stored(database)
    missing = {user_id: done - saved.get(user_id, set()) for user_id, done in confirmed.items()}
    missing_count = sum(len(m) for m in missing.values())
    confirmed_count = sum(len(c) for c in confirmed.values())

    # Reminders: once each, except the uncertain ones (never more than once).
    rows = await reminder_rows(database)
    received = reminders_received(fake)
    sent, uncertain = set(rows.get("sent", [])), set(rows.get("uncertain", []))
    twice = sorted(k for k, n in received.items() if n > 1)
    never = sorted(k for k in sent if received[k] == 0)
    stray = sorted(k for k in received if k not in sent and k not in uncertain)
    uncertain_delivered = sum(1 for k in uncertain if received[k])
    in_flight_at_kills = sum(k.reminders_sending for k in kills)
    print(
        f"\nkill -9 ×{len(kills)} ({sum(k.down > 0 for k in kills)} after a down time): "
        f"{PUPILS} pupils, {confirmed_count} answers confirmed, {missing_count} of them missing, "
        f"{sum(lost.values())} messages unanswered because of a kill ({dict(lost)}); "
        f"{sum(len(v) for v in rows.values())} reminders: {len(sent)} marked sent, "
        f"{len(twice)} received twice, {len(never)} never received, "
        f"{len(uncertain)} uncertain (in flight at a kill, at most "
        f"{max(k.reminders_sending for k in kills)} at one; {uncertain_delivered} of them delivered); "
        f"kills with pupils waiting for a reply {sum(k.answers_in_flight > 0 for k in kills)}, "
        f"with a reminder in flight {sum(k.reminders_sending > 0 for k in kills)}; "
        f"prepared in {prepared:.0f} s, then " + ", ".join(f"{k} done in {v:.0f} s" for k, v in done.items())
        + f"; all in {time.monotonic() - began:.0f} s (CPU: test {time.process_time():.0f} s, "
        f"bot processes {resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime:.0f} s)"
    )

    assert len(kills) == KILLS
    assert sum(k.answers_in_flight > 0 for k in kills) >= KILLS // 2, "kills did not land while pupils waited"
    assert sum(k.reminders_sending > 0 for k in kills) >= 3, \
        "kills did not land while reminders were being sent: the test proved nothing"
    assert missing_count == 0, {u: m for u, m in missing.items() if m}
    assert set(rows) <= {"sent", "uncertain"}, {k: len(v) for k, v in rows.items()}
    assert sum(len(v) for v in rows.values()) == GROUPS * (1 + MENTEES)
    assert twice == [], twice
    assert never == [], never
    assert stray == [], stray
    # A reminder is uncertain only if it was being sent at the instant of a kill: at most MAX_IN_FLIGHT sends,
    # and one claimed while it waited for a free send slot.
    assert len(uncertain) == in_flight_at_kills
    assert all(k.reminders_sending <= MAX_IN_FLIGHT + 1 for k in kills)
    assert await unfinished(database) == 0, "messages left due or 'sending'"
    log = bot.log()
    assert "Traceback" not in log, log[max(0, log.find("Traceback") - 800):][:4000]
