"""Benchmark of the fan-out: 20,000 meeting reminders due in the same minute, and finding due reminders among
1,000,000 stored rows.

Run as `python benchmarks/fanout.py` (about 15 minutes: 20,000 messages at 25 a second take 13 of them);
`--quick` sends 2,000 and looks up among 100,000 rows (about 2 minutes). `--only send` / `--only due` runs
one half.

1. **Send rate.** The real bot process (`python -m bot`, as `tests/test_process.py` starts it) with its
   configured `OUTBOX_RATE` sends reminder rows — shaped exactly as `handlers.meeting_notices` writes them:
   kind 'reminder', ref = the meeting, the Russian reminder text, `expires_at` = the meeting's start — to
   20,000 distinct chats, all due within one minute, to a fake Bot API (`tests/fakeapi.py`) that enforces
   Telegram's limits (30 sends in any second, one a second per chat) and answers after `--latency` seconds,
   a real network's round trip. Measured at the fake: the rate from the first to the last accepted send
   against the configured rate (target ≥ 95%), the 429s it answered (target 0), chats that got the reminder
   twice (target 0) and never (target 0), and the bot process's CPU use.
2. **Due lookup.** The sender's query (`OutboxRepo.due`, one batch of `bot.outbox.BATCH` rows) with
   1,000,000 rows stored in a realistic mix (mostly sent or cancelled, some failed, blocked, expired,
   uncertain; 2% pending, most of those for later meetings, 1,000 due now) against the same with 100,000
   rows (growth ×10), and the same query forced to scan the table (`NOT INDEXED`) for contrast, with
   `EXPLAIN QUERY PLAN` of each. Target < 5 ms at 1,000,000.

Prints the tables and writes them into benchmarks/README.md between the markers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, write_section  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.i18n import create_i18n  # noqa: E402
from bot.labels import step_label  # noqa: E402
from bot.outbox import BATCH  # noqa: E402
from handlers.meeting_notices import when_text  # noqa: E402
from storage.db import Database, utcnow  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from storage.repos import Repositories  # noqa: E402
from storage.repos._convert import ts  # noqa: E402
from storage.repos.outbox import DUE_SQL, ITEM_COLUMNS  # noqa: E402
from tests.fakeapi import FakeBotAPI  # noqa: E402
from tests.test_process import BotProcess  # noqa: E402

TIMEZONE = "Europe/Moscow"
PROGRAMME = "Вместе по лестнице успеха"
FIRST_CHAT = 10_000_000
DUE_NOW = 1_000  # pending rows already due in the lookup database
LOOKUPS = 300  # timed runs of the due query per case
SCAN_LOOKUPS = 5
# Statuses of the stored rows that are not pending, with their weights (a year of a large deployment).
DONE_MIX = (
    ("sent", 930), ("cancelled", 40), ("blocked", 12), ("expired", 8), ("failed", 3), ("uncertain", 1),
)
PENDING_SHARE = 0.02


def reminder_texts(count: int, starts_at: datetime) -> list[str]:
    """The reminder an hour before a meeting, in Russian, as `handlers.meeting_notices` composes it."""
    i18n = create_i18n("ru")
    texts = []
    with i18n.context(), i18n.use_locale("ru"):
        when = when_text(starts_at, TIMEZONE, "ru")
        soon = i18n.gettext("in {hours} h").format(hours=1)
        template = i18n.gettext("Reminder: the {step} of «{programme}» is {soon}: {when}, {place}.")
        step = step_label("regular")
        for n in range(count):
            texts.append(template.format(step=step, programme=PROGRAMME, soon=soon, when=when,
                                         place=f"кабинет {100 + n % 300}"))
    return texts


def reminders(chats: list[int], due_from: datetime, seed: int = 6) -> list[OutboxMessage]:
    """One reminder per chat, due at a random second of the minute from `due_from`; each meeting is a pair's,
    so two chats (mentor and mentee) share one ref."""
    rng = random.Random(seed)
    starts_at = due_from + timedelta(hours=1)
    texts = reminder_texts(len(chats), starts_at)
    out = []
    for n, chat in enumerate(chats):
        meeting = 1 + n // 2
        due = due_from + timedelta(seconds=rng.uniform(0, 60))
        out.append(OutboxMessage(user_id=chat, kind="reminder", ref=meeting, text=texts[n],
                                 dedupe=f"rem:{meeting}:v1:{chat}:60", not_before=due,
                                 expires_at=due + timedelta(hours=1)))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class SendResult:
    messages: int
    rate: float
    achieved: float
    first_delay: float
    seconds: float
    per_send_ms: float
    limited: int
    duplicates: int
    never: int
    statuses: dict[str, int]
    cpu_share: float
    log_problems: int
    fake_pause_ms: float
    frozen: bool
    gap_before_429_ms: float


class Pauses:
    """The longest full garbage collection of this process, where the fake server runs: a pause of the fake
    bunches the requests that arrive meanwhile, which its sliding window of 30 a second then refuses."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif info["generation"] == 2:
            self.longest = max(self.longest, time.perf_counter() - self._start)


async def measure_send(messages: int, latency: float, freeze: bool = True) -> SendResult:
    """The real process sends `messages` reminders due within one minute to a fake that enforces limits.
    With `freeze`, the fake's records (every call, every message) are moved out of the garbage collector's
    reach as they pile up (`gc.freeze()`), so that collecting them does not stall the fake for hundreds of
    milliseconds — a pause no Telegram server has, which would count against the sender."""
    rate = Settings(_env_file=None, bot_token="1:x").outbox_rate  # type: ignore[call-arg]
    chats = [FIRST_CHAT + n for n in range(messages)]
    wanted = set(chats)
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        workdir = Path(tmp)
        database = workdir / "school.sqlite3"
        db = await Database.open(database)
        async with FakeBotAPI() as fake:
            fake.enforce_limits(per_second=30, chat_interval=1.0)
            if latency:
                fake.delay("sendMessage", latency)
            process = BotProcess(fake, workdir)
            await process.start()
            assert process.proc is not None
            try:
                due_from = utcnow() + timedelta(seconds=2)
                minute_began = time.monotonic() + 2  # the fake's clock
                await Repositories(db).outbox.enqueue(reminders(chats, due_from))
                pauses = Pauses()
                gc.callbacks.append(pauses)
                cpu_before, wall_before = cpu_seconds(process.proc.pid), time.monotonic()
                deadline = time.monotonic() + messages / rate * 1.5 + 120
                while (await db.fetchone(
                    "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"))[0]:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the fan-out did not finish in time")
                    await asyncio.sleep(0.5)
                    if freeze:
                        gc.freeze()
                gc.callbacks.remove(pauses)
                cpu_share = (cpu_seconds(process.proc.pid) - cpu_before) / (time.monotonic() - wall_before)
                rows = await db.fetchall("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                statuses = {str(r[0]): int(r[1]) for r in rows}
                await process.terminate()
            finally:
                if process.proc.returncode is None:
                    await process.kill()
            accepted = [c for c in fake.calls_of("sendMessage") if c.ok and c.chat_id in wanted]
            arrivals = sorted(c.time for c in accepted)
            seconds = arrivals[-1] - arrivals[0]
            first_delay = arrivals[0] - minute_began
            every = sorted(c.time for c in fake.calls_of("sendMessage"))
            gap_before_429 = 0.0  # a stall before a refusal: requests bunched in transit, not sent faster
            for refused in (c for c in fake.calls_of("sendMessage") if c.status == 429):
                window = [t for t in every if refused.time - 1.0 <= t <= refused.time]
                gaps = [b - a for a, b in itertools.pairwise(window)]
                gap_before_429 = max([gap_before_429, *gaps])
            log = process.log()
        await db.close()
    return SendResult(
        messages=messages, rate=rate, achieved=(len(arrivals) - 1) / seconds, first_delay=first_delay,
        seconds=seconds, per_send_ms=seconds / (len(arrivals) - 1) * 1000,
        limited=len([c for c in fake.calls_of("sendMessage") if c.status == 429]),
        duplicates=sum(n - 1 for chat, n in fake.deliveries.items() if chat in wanted and n > 1),
        never=len(wanted - {c.chat_id for c in accepted}), statuses=statuses, cpu_share=cpu_share,
        log_problems=log.count("Traceback") + log.count("flood limit"), fake_pause_ms=pauses.longest * 1000,
        frozen=freeze, gap_before_429_ms=gap_before_429 * 1000,
    )


# ----------------------------------------------------------------------------------------- due lookup


@dataclass
class LookupResult:
    rows: int
    found: int
    indexed_ms: float
    indexed_p95_ms: float
    sqlite_ms: float
    whole_ms: float
    scan_ms: float
    plan: str
    scan_plan: str
    db_mb: float


SCAN_SQL = DUE_SQL.replace("INDEXED BY outbox_due", "NOT INDEXED")
# The due query before the sender read whole rows only when claiming them: every column of the batch.
WHOLE_SQL = DUE_SQL.replace("SELECT id, user_id, expires_at", f"SELECT {ITEM_COLUMNS}")


def fill(path: Path, rows: int, now: datetime, seed: int = 7) -> None:
    """`rows` outbox rows over the past year: the mix of DONE_MIX, PENDING_SHARE pending (DUE_NOW of them
    due by `now`, the rest for meetings in the coming weeks)."""
    rng = random.Random(seed)
    statuses = [s for s, _ in DONE_MIX]
    weights = [w for _, w in DONE_MIX]
    pending = max(int(rows * PENDING_SHARE), 2 * DUE_NOW)  # a small baseline still has DUE_NOW due
    texts = reminder_texts(300, now)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")

    def row(n: int) -> tuple:
        chat = FIRST_CHAT + rng.randrange(rows // 4 + 1)
        meeting = 1 + n // 2
        if n < pending:
            status = "pending"
            due = (now - timedelta(seconds=rng.uniform(0, 60)) if n < DUE_NOW
                   else now + timedelta(minutes=rng.uniform(1, 60 * 24 * 30)))
            done = None
        else:
            status = rng.choices(statuses, weights)[0]
            due = now - timedelta(minutes=rng.uniform(1, 60 * 24 * 365))
            done = ts(due + timedelta(seconds=5))
        kind = rng.choice(("reminder", "reminder", "reminder", "meeting", "announcement", "log_prompt"))
        return (chat, kind, meeting, f"{kind}:{meeting}:v1:{chat}:{n}", texts[n % len(texts)], None,
                ts(due), ts(due + timedelta(hours=1)), status, ts(due - timedelta(days=1)), done, done)

    with conn:
        conn.executemany(
            "INSERT INTO outbox (user_id, kind, ref, dedupe, text, markup, not_before, expires_at, status, "
            "created_at, claimed_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row(n) for n in rng.sample(range(rows), rows)),
        )
    conn.execute("ANALYZE")
    conn.close()


def plan_of(conn: sqlite3.Connection, sql: str, params: tuple) -> str:
    return "; ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


async def measure_lookup(rows: int) -> LookupResult:
    """Median time of `OutboxRepo.due` over LOOKUPS runs among `rows` stored rows, and of a forced scan."""
    with tempfile.TemporaryDirectory(prefix="due-") as tmp:
        path = Path(tmp) / "outbox.sqlite3"
        await (await Database.open(path)).close()
        now = utcnow()
        fill(path, rows, now)
        conn = sqlite3.connect(path)
        params = (ts(now), BATCH)
        plan, scan_plan = plan_of(conn, DUE_SQL, params), plan_of(conn, SCAN_SQL, params)
        conn.close()
        db = await Database.open(path, migrate=False)
        repo = Repositories(db).outbox
        found = len(await repo.due(now, BATCH))
        bare_conn = sqlite3.connect(path)
        times, whole, bare = [], [], []
        for _ in range(LOOKUPS):  # interleaved, so that the machine's load falls on each alike
            start = time.perf_counter()
            await repo.due(now, BATCH)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            await db.fetchall(WHOLE_SQL, params)
            whole.append(time.perf_counter() - start)
            start = time.perf_counter()
            bare_conn.execute(DUE_SQL, params).fetchall()
            bare.append(time.perf_counter() - start)
        bare_conn.close()
        scans = []
        for _ in range(SCAN_LOOKUPS):
            start = time.perf_counter()
            await db.fetchall(SCAN_SQL, params)
            scans.append(time.perf_counter() - start)
        await db.close()
        size = path.stat().st_size / 1e6
    times.sort()
    return LookupResult(rows, found, statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000,
                        statistics.median(bare) * 1000, statistics.median(whole) * 1000,
                        statistics.median(scans) * 1000, plan, scan_plan, size)


# ----------------------------------------------------------------------------------------- report


def send_table(r: SendResult, latency: float) -> str:
    met = r.achieved >= 0.95 * r.rate and r.limited == 0 and r.duplicates == 0 and r.never == 0
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
    return "\n".join([
        f"**Send rate.** {r.messages:,} reminders to distinct chats, due within one minute; the real "
        f"`python -m bot` process; the fake answers after {latency * 1000:.0f} ms and enforces 30/s overall, "
        "1/s per chat.",
        "",
        "| figure | measured | baseline (configured) | ratio | target |",
        "|---|---:|---:|---:|---|",
        f"| send rate, messages/s | {r.achieved:.2f} | {r.rate:.2f} | {r.achieved / r.rate:.1%} | ≥ 95% |",
        f"| time per send, ms | {r.per_send_ms:.1f} | {1000 / r.rate:.1f} | "
        f"{r.per_send_ms / (1000 / r.rate):.2f}× | ≤ 1.05× |",
        f"| 429s from the fake | {r.limited} | | | 0 |",
        f"| chats that got it twice | {r.duplicates} | | | 0 |",
        f"| chats that never got it | {r.never} | | | 0 |",
        "",
        f"First to last send: {r.seconds:.0f} s; first send {r.first_delay:.1f} s after the minute began; "
        f"the bot process used {r.cpu_share:.0%} of a core; rows at the end: {statuses}; "
        f"tracebacks or flood-limit warnings in its log: {r.log_problems}; longest garbage collection pause "
        f"of the fake's process: {r.fake_pause_ms:.0f} ms "
        f"({'its records frozen out of the collector' if r.frozen else 'not frozen: --no-freeze'})"
        + (f"; longest gap between two arrivals in the second before a 429: {r.gap_before_429_ms:.0f} ms "
           f"(the paced interval is {1000 / r.rate:.0f} ms)" if r.limited else "")
        + ". Targets: "
        f"{'met' if met else 'NOT met'}.",
    ])


def due_table(results: list[LookupResult]) -> str:
    base, big = results[0], results[-1]
    lines = [
        f"**Due lookup.** `OutboxRepo.due(now, {BATCH})` (the sender's query, through aiosqlite), median of "
        f"{LOOKUPS} runs; the stored rows are {100 - PENDING_SHARE * 100:.0f}% done (sent, cancelled, "
        f"blocked, expired, failed, uncertain), {PENDING_SHARE:.0%} pending of which {DUE_NOW:,} due now. "
        "Of it SQLite: the same query through the `sqlite3` module, no thread hop, no objects. Whole rows: "
        "the query as it was before this issue, reading every column of the batch (now a row is read "
        f"whole when it is claimed). The scan is the query with `NOT INDEXED`, median of {SCAN_LOOKUPS}.",
        "",
        "| rows stored | database, MB | rows found | median, ms | p95, ms | ratio to baseline | "
        "of it SQLite, ms | whole rows, ms | scan, ms | scan / index |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.rows:,} | {r.db_mb:.0f} | {r.found} | {r.indexed_ms:.2f} | {r.indexed_p95_ms:.2f} | "
            f"{r.indexed_ms / base.indexed_ms:.2f}× | {r.sqlite_ms:.2f} | {r.whole_ms:.2f} | "
            f"{r.scan_ms:.0f} | {r.scan_ms / r.indexed_ms:.0f}× |")
    lines += [
        "",
        f"Query plan: `{big.plan}`; forced scan: `{big.scan_plan}`. Target < 5 ms at {big.rows:,}: "
        f"{'met' if big.indexed_ms < 5 else 'NOT met'}.",
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 messages; 100,000 rows against 10,000")
    parser.add_argument("--only", choices=("send", "due"), help="run one half")
    parser.add_argument("--latency", type=float, default=0.05, help="the fake's answer time, seconds")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument("--no-freeze", action="store_true",
                        help="let the fake's growing records stall it in garbage collection")
    args = parser.parse_args()
    parts = [f"Machine: {machine()}."]
    if args.only in (None, "due"):
        sizes = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
        lookups = [await measure_lookup(n) for n in sizes]
        parts.append(due_table(lookups))
        print(parts[-1] + "\n", flush=True)
    if args.only in (None, "send"):
        result = await measure_send(2_000 if args.quick else 20_000, args.latency, not args.no_freeze)
        parts.append(send_table(result, args.latency))
        print(parts[-1] + "\n", flush=True)
    if not args.no_readme:
        write_section("fanout", "\n\n".join(parts))


if __name__ == "__main__":
    asyncio.run(main())
