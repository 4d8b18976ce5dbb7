"""Size: 100,000 participants with answers in one database, and the same figures ×10 smaller.

Run as `python benchmarks/size.py` (`--quick`: 1,000 and 10,000 participants; `--rebuild`: ignore the
cached databases). For each size it builds (once; cached under benchmarks/.cache/, keyed by size and the
builder's version) an SQLite database at the newest schema with a realistic spread: ~100 participants a
programme in ~0.4 school per programme, schools under municipal departments, consents (a parent's for
minors), the joining questionnaire answered (submitted, in progress or not started), mentors' readiness,
preference surveys, approved pairs and groups with their meetings, feedback and fit checks, survey rounds
with responses, and the outbox rows all of that would have written. The rows are bulk-inserted with the
same SQL columns and values the repositories write (storage/repos/*), not through the handlers.

Measured on each database:
1. Resident memory of the real bot process (`python -m bot` against the fake Bot API, as
   tests/test_process.py runs it): after start-up, after its scheduler jobs ran (every coordinator's
   digest made due, the sweeps, the survey job) and after a coordinator opened the base lists and the
   survey results and a participant answered a question: VmRSS and VmHWM (peak) from /proc/<pid>/status.
   Baselines: the same process on an empty database; a process that only imported aiogram as the bot
   does (`import bot`: its models built on first use, bot/aiogram_models.py), the floor; and one that
   imported aiogram plainly (every model built at import).
2. The digest job (`handlers.digest_compose.run_digests`): every coordinator's digest (of each school and
   each department, over all programmes) composed, stored and queued, not sent; median of 3 runs.
   The late-and-stuck sweep (`handlers.sweeps.sweep`) at the same moment: its first run (every nudge,
   escalation and inactivity flag due composed and queued, not sent) and a second run right after it
   (nothing new to queue: what it costs every few minutes); median of 3 of each, its messages deleted
   between the pairs of runs.
3. Matching from the database (`handlers.pairing.run`: read the programme's answers, readiness and
   preferences, match, store the proposals) for 100 × 33 and 300 × 100 (mentees × mentors), median of 3.

Prints a table and writes it into benchmarks/README.md between the size markers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, write_section  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.i18n import create_i18n  # noqa: E402
from dialogs.matching import declared_capacity  # noqa: E402
from dialogs.schema import Questionnaire, Registry, load_registry  # noqa: E402
from handlers.consent import CONSENT_VERSION  # noqa: E402
from handlers.digest_compose import run_digests  # noqa: E402
from handlers.parent import PARENT_CONSENT_VERSION  # noqa: E402
from handlers.start import COORDINATOR_CONSENT_VERSION  # noqa: E402
from handlers.sweeps import sweep  # noqa: E402
from storage.db import Database, load_migrations  # noqa: E402
from storage.models import Role  # noqa: E402
from storage.repos import Repositories  # noqa: E402
from tests.synthetic import synthetic_answers  # noqa: E402

BUILDER_VERSION = 1  # raise when the generated data changes, so cached databases are rebuilt
CACHE = ROOT / "benchmarks" / ".cache"
SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
PER_PROGRAMME = 100
MATCHING = ((100, 33), (300, 100))  # mentees × mentors of the two matching programmes in every database
RUNS = 3
RSS_TARGET_MB, DIGEST_TARGET_S, MATCH_TARGET_S = 150, 1.0, 1.0
FORMS = (
    "pupil_pupil",
    "teacher_teacher",
    "teacher_pupil",
    "student_student",
    "lecturer_student",
    "employer_student",
    "head_teacher",
)
MINOR_FORMS = {"pupil_pupil": (True, True), "teacher_pupil": (False, True)}  # form -> (mentor, mentee) minor
ZONES = (
    "Europe/Moscow",
    "Europe/Moscow",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Europe/Kaliningrad",
)
COORDINATOR_BASE, USER_BASE = 1_000_000, 10_000_000

COLUMNS = {  # as the repositories insert them (storage/repos/*)
    "organisations": "id, parent_id, name, timezone, created_by, created_at",
    "coordinators": "id, organisation_id, user_id, full_name, consent_version, created_at",
    "invites": (
        "id, token, kind, organisation_id, programme_id, participant_id, created_by, created_at, "
        "expires_at, revoked_at, used_at, used_by"
    ),
    "users": "id, locale, tg_locale, blocked_at, created_at",
    "programmes": (
        "id, organisation_id, title, forms, start_date, end_date, retention_days, created_by, created_at"
    ),
    "participants": "id, programme_id, user_id, role, form, full_name, is_minor, status, created_at",
    "consents": "id, programme_id, participant_id, role, kind, decision, given_by, text_version, created_at",
    "guardians": "participant_id, user_id, confirmed_at",
    "responses": (
        "id, participant_id, questionnaire_id, questionnaire_version, round_id, status, started_at, "
        "updated_at, submitted_at"
    ),
    "answers": "response_id, question_id, value, answered_at",
    "mentor_readiness": (
        "participant_id, interview_at, training_course, training_date, agreement_at, ready, "
        "updated_by, updated_at"
    ),
    "preference_surveys": "programme_id, opened_at, opened_by, closed_at",
    "preferences": "participant_id, chosen_id, rank, created_at",
    "outbox": (
        "id, user_id, kind, ref, dedupe, text, markup, not_before, expires_at, file_name, "
        "file_data, status, attempts, error, created_at, claimed_at, done_at"
    ),
    "pairs": "id, programme_id, mentor_id, status, approved_by, approved_at, ended_at",
    "pair_plans": "pair_id, created_at, agreed_at",
    "match_proposals": (
        "id, programme_id, mentor_id, mentee_id, score, reasons, status, manual, decided_by, "
        "created_at, decided_at"
    ),
    "pair_members": "pair_id, mentee_id, joined_at",
    "plan_goals": "id, pair_id, position, text, created_at",
    "fit_checks": "pair_id, participant_id, answer, created_at",
    "meetings": (
        "id, programme_id, pair_id, step, starts_at, minutes, place, online, status, version, "
        "created_by, created_at, updated_at, logged_at, held_minutes, activities, notes, "
        "not_held_reason"
    ),
    "goal_progress": "meeting_id, goal_id, status",
    "meeting_feedback": "meeting_id, participant_id, usefulness, comment, created_at",
    "survey_rounds": "id, programme_id, kind, label, opened_at, opened_by, closes_at",
    "survey_invitations": "round_id, participant_id, invited_at",
}


def ts(moment: datetime) -> str:
    return moment.isoformat()  # as storage.repos._convert.ts


# --- building ---------------------------------------------------------------------------------------------


@dataclass
class Rows:
    """Rows per table, inserted at the end in one transaction."""

    tables: dict[str, tuple[str, list[tuple[Any, ...]]]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.tables.setdefault(table, (COLUMNS[table], []))[1].append(row)

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]


class Builder:
    """Generates one database's rows, deterministic for a seed."""

    def __init__(self, participants: int, registry: Registry, now: datetime, seed: int = 2026) -> None:
        self.n = participants
        self.registry = registry
        self.now = now
        self.today = now.date()
        self.rng = random.Random(seed)
        self.rows = Rows()
        self.pools: dict[str, list[dict[str, Any]]] = {}
        self.coordinators: list[tuple[int, int]] = []  # (user id, organisation id)

    def ago(self, days: float) -> str:
        return ts(self.now - timedelta(days=days))

    def answers(self, q: Questionnaire) -> dict[str, Any]:
        """Valid answers to a questionnaire from a pool (generating 100,000 one by one is slow)."""
        pool = self.pools.get(q.id)
        if pool is None:
            pool = self.pools[q.id] = [synthetic_answers(q, self.rng) for _ in range(300)]
        return self.rng.choice(pool)

    def token(self) -> str:
        return secrets.token_urlsafe(18)  # 144 bits, as invites are made

    # organisations, coordinators, programmes

    def organisations(self, programmes: int) -> list[int]:
        schools = max(1, round(programmes * 0.4))
        departments = max(1, schools // 25)
        dept_ids = []
        for d in range(departments):
            org = self.rows.next_id("organisations")
            self.rows.add(
                "organisations",
                (org, None, f"Управление образования №{d + 1}", self.rng.choice(ZONES), 1, self.ago(120)),
            )
            dept_ids.append(org)
            self.coordinator(org, self.rng.randint(1, 2))
        school_ids = []
        for s in range(schools):
            org = self.rows.next_id("organisations")
            parent = self.rng.choice(dept_ids) if self.rng.random() < 0.85 else None
            zone = self.rng.choice(ZONES)
            self.rows.add("organisations", (org, parent, f"Школа №{s + 1}", zone, 1, self.ago(110)))
            school_ids.append(org)
            self.coordinator(org, 1 if self.rng.random() < 0.7 else 2)
        return school_ids

    def coordinator(self, org: int, how_many: int) -> None:
        for _ in range(how_many):
            cid = self.rows.next_id("coordinators")
            user = COORDINATOR_BASE + cid
            self.user(user, "ru")
            self.rows.add(
                "coordinators",
                (cid, org, user, f"Координатор {cid}", COORDINATOR_CONSENT_VERSION, self.ago(100)),
            )
            invite = self.rows.next_id("invites")
            self.rows.add(
                "invites",
                (
                    invite,
                    self.token(),
                    "coordinator",
                    org,
                    None,
                    None,
                    1,
                    self.ago(101),
                    self.ago(94),
                    None,
                    self.ago(100),
                    user,
                ),
            )
            self.coordinators.append((user, org))

    def user(self, user_id: int, locale: str) -> None:
        self.rows.add("users", (user_id, None, locale, None, self.ago(100)))

    def build(self) -> Rows:
        programmes = max(3, self.n // PER_PROGRAMME)
        schools = self.organisations(programmes)
        # Every school runs at least one programme; the two matching programmes come first.
        owners = schools + [self.rng.choice(schools) for _ in range(programmes - len(schools))]
        matching = [m + n for m, n in MATCHING]
        rest = self.n - sum(matching)
        weights = [self.rng.lognormvariate(0, 0.6) for _ in range(programmes - len(MATCHING))]
        scale = rest / sum(weights)
        sizes = matching + [max(5, round(w * scale)) for w in weights]
        sizes[-1] += self.n - sum(sizes)  # exactly n participants
        for number, (org, size) in enumerate(zip(owners, sizes, strict=True), 1):
            if number <= len(MATCHING):
                mentees, mentors = MATCHING[number - 1]
                self.programme(
                    org, number, ("teacher_pupil",), mentors, mentees, running=False, ready_all=True
                )
            else:
                forms = tuple(self.rng.sample(FORMS, 1 if self.rng.random() < 0.7 else 2))
                mentors = max(1, round(size * self.rng.uniform(0.25, 0.35)))
                self.programme(
                    org,
                    number,
                    forms,
                    mentors,
                    size - mentors,
                    running=self.rng.random() < 0.6,
                    ready_all=False,
                )
        return self.rows

    # one programme

    def programme(
        self,
        org: int,
        number: int,
        forms: tuple[str, ...],
        mentors: int,
        mentees: int,
        *,
        running: bool,
        ready_all: bool,
    ) -> None:
        rows, rng = self.rows, self.rng
        pid = rows.next_id("programmes")
        start = self.today - timedelta(days=80 if running else rng.randint(-20, 60))
        end = start + timedelta(days=270)
        coordinator = next(u for u, o in self.coordinators if o == org)
        rows.add(
            "programmes",
            (
                pid,
                org,
                f"Программа {number}",
                json.dumps(list(forms)),
                start.isoformat(),
                end.isoformat(),
                365,
                coordinator,
                self.ago(95),
            ),
        )
        for kind in ("mentor", "mentee"):
            invite = rows.next_id("invites")
            rows.add(
                "invites",
                (
                    invite,
                    self.token(),
                    kind,
                    org,
                    pid,
                    None,
                    coordinator,
                    self.ago(95),
                    ts(datetime.combine(end, datetime.min.time(), UTC) + timedelta(days=30)),
                    None,
                    None,
                    None,
                ),
            )
        people: dict[str, list[tuple[int, int, str, bool, dict[str, Any] | None]]] = {
            "mentor": [],
            "mentee": [],
        }
        for role, count in (("mentor", mentors), ("mentee", mentees)):
            for _ in range(count):
                form = rng.choice(forms)
                found = self.participant(pid, org, coordinator, role, form, running=running or ready_all)
                if found is not None:
                    people[role].append(found)
        if ready_all or running:
            self.preferences(pid, coordinator, people)
        if running:
            self.pairs(pid, coordinator, people)
            self.surveys(pid, coordinator, people)

    def participant(
        self, pid: int, org: int, coordinator: int, role: str, form: str, *, running: bool
    ) -> tuple[int, int, str, bool, dict[str, Any] | None] | None:
        """A participant with consents and (maybe) answers; (id, user, form, ready, answers) when active."""
        rows, rng = self.rows, self.rng
        part = rows.next_id("participants")
        user = USER_BASE + part
        minor = MINOR_FORMS.get(form, (False, False))[role == "mentee"] and rng.random() < 0.9
        pending = minor and not running and rng.random() < 0.1
        joined = self.ago(rng.uniform(60, 90))
        self.user(user, rng.choice(("ru", "ru", "ru", "en")))
        rows.add(
            "participants",
            (
                part,
                pid,
                user,
                role,
                form,
                f"Участник {part} Фамилия",
                int(minor),
                "parent_pending" if pending else "active",
                joined,
            ),
        )
        rows.add(
            "consents",
            (rows.next_id("consents"), pid, part, role, "self", "given", user, CONSENT_VERSION, joined),
        )
        if minor:
            invite = rows.next_id("invites")
            parent = USER_BASE + 5_000_000 + part
            rows.add(
                "invites",
                (
                    invite,
                    self.token(),
                    "parent",
                    org,
                    pid,
                    part,
                    user,
                    joined,
                    self.ago(50),
                    None,
                    None if pending else joined,
                    None if pending else parent,
                ),
            )
            if pending:
                return None
            self.user(parent, "ru")
            rows.add(
                "consents",
                (
                    rows.next_id("consents"),
                    pid,
                    part,
                    role,
                    "parent",
                    "given",
                    parent,
                    PARENT_CONSENT_VERSION,
                    joined,
                ),
            )
            rows.add("guardians", (part, parent, joined))
        q = self.registry.for_participant(Role(role), form)
        fate = rng.random()
        if not running and fate > 0.85:
            return None  # the questionnaire not started
        answers = self.answers(q)
        submitted = running or fate < 0.7
        if not submitted:
            keys = list(answers)[: rng.randint(1, max(1, len(answers) - 1))]
            answers = {k: answers[k] for k in keys}
        self._response(rows, part, q, None, submitted, joined, answers)
        if not submitted:
            return None
        ready = False
        if role == "mentor" and (running or rng.random() < 0.5):
            ready = running or rng.random() < 0.6
            rows.add(
                "mentor_readiness",
                (
                    part,
                    self.ago(55),
                    "Школа наставника",
                    (self.today - timedelta(days=50)).isoformat(),
                    self.ago(50) if ready else None,
                    int(ready),
                    coordinator,
                    self.ago(50),
                ),
            )
        return part, user, form, ready, answers

    def preferences(self, pid: int, coordinator: int, people: dict[str, list]) -> None:
        rows, rng = self.rows, self.rng
        rows.add("preference_surveys", (pid, self.ago(60), coordinator, self.ago(55)))
        for role, other in (("mentee", "mentor"), ("mentor", "mentee")):
            for part, _user, form, _ready, _answers in people[role]:
                choices = [p[0] for p in people[other] if p[2] == form and (role == "mentor" or p[3])]
                if not choices or rng.random() < 0.4:
                    continue
                for rank, chosen in enumerate(rng.sample(choices, min(len(choices), rng.randint(1, 3))), 1):
                    rows.add("preferences", (part, chosen, rank, self.ago(58)))

    def outbox(
        self,
        user: int,
        kind: str,
        ref: int | None,
        dedupe: str,
        text: str,
        *,
        at: str,
        status: str = "sent",
        expires: str | None = None,
        markup: str | None = None,
    ) -> None:
        done = at if status == "sent" else None
        self.rows.add(
            "outbox",
            (
                self.rows.next_id("outbox"),
                user,
                kind,
                ref,
                dedupe,
                text,
                markup,
                at,
                expires,
                None,
                None,
                status,
                int(status == "sent"),
                None,
                at,
                done,
                done,
            ),
        )

    def pairs(self, pid: int, coordinator: int, people: dict[str, list]) -> None:
        rows, rng = self.rows, self.rng
        mentees = list(people["mentee"])
        rng.shuffle(mentees)
        approved = self.ago(50)
        for mentor, mentor_user, form, ready, answers in people["mentor"]:
            if not ready:
                continue
            q = self.registry.for_participant(Role.MENTOR, form)
            capacity = min(3, declared_capacity(q, answers or {}))
            group = [m for m in mentees if m[2] == form][: rng.randint(1, max(1, capacity))]
            if not group:
                continue
            for m in group:
                mentees.remove(m)
            pair = rows.next_id("pairs")
            rows.add("pairs", (pair, pid, mentor, "active", coordinator, approved, None))
            rows.add("pair_plans", (pair, approved, self.ago(30)))
            for m in group:
                rows.add(
                    "match_proposals",
                    (
                        rows.next_id("match_proposals"),
                        pid,
                        mentor,
                        m[0],
                        round(rng.uniform(1, 9), 2),
                        json.dumps([{"kind": "common", "tag": "format", "options": ["offline"]}]),
                        "accepted",
                        0,
                        coordinator,
                        self.ago(52),
                        approved,
                    ),
                )
                rows.add("pair_members", (pair, m[0], approved))
            users = [mentor_user] + [m[1] for m in group]
            for user in users:
                self.outbox(
                    user,
                    "pair",
                    pair,
                    f"pair:{pair}:{user}",
                    "Вы в паре программы наставничества. Первая встреча — организационная.",
                    at=approved,
                )
            goals = [rows.next_id("plan_goals") for _ in range(rng.randint(2, 3))]
            for position, goal in enumerate(goals, 1):
                rows.add(
                    "plan_goals",
                    (goal, pair, position, f"Цель {position}: подготовка к олимпиаде", self.ago(30)),
                )
            steps = [("organisational", 45), ("trial", 38), ("planning", 30), ("regular", 16)]
            for step, days in steps:
                self.meeting(pid, pair, step, days, users, [m[0] for m in group], goals, held=True)
                if step == "organisational":
                    for part in [mentor] + [m[0] for m in group]:
                        answer = "bad" if rng.random() < 0.03 else "good"
                        rows.add("fit_checks", (pair, part, answer, self.ago(days - 1)))
            if rng.random() < 0.8:  # the rest are late to schedule the next one: stuck in the digest
                self.meeting(pid, pair, "regular", -rng.uniform(0.5, 13), users, [], goals, held=False)

    def meeting(
        self,
        pid: int,
        pair: int,
        step: str,
        days: float,
        users: list[int],
        mentees: list[int],
        goals: list[int],
        *,
        held: bool,
    ) -> None:
        rows, rng = self.rows, self.rng
        meeting = rows.next_id("meetings")
        starts = self.now - timedelta(days=days)
        starts = starts.replace(hour=12, minute=0, second=0, microsecond=0)
        created = ts(starts - timedelta(days=5))
        rows.add(
            "meetings",
            (
                meeting,
                pid,
                pair,
                step,
                ts(starts),
                60,
                "каб. 214",
                0,
                "held" if held else "scheduled",
                1,
                users[0],
                created,
                ts(starts + timedelta(hours=2)) if held else created,
                ts(starts + timedelta(hours=2)) if held else None,
                55 if held else None,
                json.dumps(["discussion", "practice"]) if held else None,
                None,
                None,
            ),
        )
        for user in users:
            self.outbox(
                user,
                "meeting",
                meeting,
                f"meeting:{meeting}:v1:{user}",
                "Встреча назначена: каб. 214, в 12:00.",
                at=created,
            )
            for minutes in (1440, 60):
                at = starts - timedelta(minutes=minutes)
                due = at > self.now
                self.outbox(
                    user,
                    "reminder",
                    meeting,
                    f"rem:{meeting}:v1:{user}:{minutes}",
                    "Напоминание: встреча через 1 ч: каб. 214.",
                    at=ts(at),
                    status="pending" if due else "sent",
                    expires=ts(starts),
                )
        if not held:
            return
        self.outbox(
            users[0],
            "log_prompt",
            meeting,
            f"log:{meeting}:v1",
            "Как прошла встреча?",
            at=ts(starts + timedelta(hours=1)),
        )
        for goal in goals if step == "regular" else ():
            rows.add("goal_progress", (meeting, goal, rng.choice(("not_started", "in_progress", "achieved"))))
        for mentee in mentees:
            if rng.random() < 0.6:
                rows.add(
                    "meeting_feedback",
                    (meeting, mentee, rng.randint(3, 5), None, ts(starts + timedelta(hours=3))),
                )

    def surveys(self, pid: int, coordinator: int, people: dict[str, list]) -> None:
        rows, rng = self.rows, self.rng
        rounds = (
            ("assessment_before", "before", 48, self.ago(34)),
            ("feedback", self.today.strftime("%Y-%m"), 10, ts(self.now + timedelta(days=20))),
        )
        for kind, label, days, closes in rounds:
            round_id = rows.next_id("survey_rounds")
            rows.add("survey_rounds", (round_id, pid, kind, label, self.ago(days), coordinator, closes))
            for role in ("mentor", "mentee"):
                for part, user, form, _ready, _answers in people[role]:
                    q = self._survey(kind, role, form)
                    rows.add("survey_invitations", (round_id, part, self.ago(days)))
                    self.outbox(
                        user,
                        "survey",
                        round_id,
                        f"survey:{round_id}:{part}",
                        "Пожалуйста, ответьте на опрос программы.",
                        at=self.ago(days),
                    )
                    fate = rng.random()
                    if fate > 0.75:
                        continue
                    answers = self.answers(q)
                    submitted = fate < 0.65
                    self._response(rows, part, q, round_id, submitted, self.ago(days - 1), answers)

    @staticmethod
    def _response(
        rows: Rows, part: int, q: Questionnaire, round_id: int | None, submitted: bool, at: str,
        answers: dict[str, Any],
    ) -> int:
        """A response (of a joining questionnaire, or of a survey round) with its answers."""
        response = rows.next_id("responses")
        status = "submitted" if submitted else "in_progress"
        rows.add("responses", (response, part, q.id, q.version, round_id, status, at, at,
                               at if submitted else None))
        for question_id, value in answers.items():
            rows.add("answers", (response, question_id, json.dumps(value, ensure_ascii=False), at))
        return response

    def _survey(self, kind: str, role: str, form: str) -> Questionnaire:
        qid = {"assessment_before": f"assess_{role}", "feedback": f"feedback_{role}"}[kind]
        q = self.registry.get(qid)
        assert q is not None and form in q.forms, (qid, form)
        return q


def write_database(path: Path, participants: int, now: datetime) -> dict[str, int]:
    """Create the schema with the migrations and bulk-insert the generated rows; row counts per table."""
    rows = Builder(participants, load_registry(), now).build()
    tmp = path.with_suffix(".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp, isolation_level=None)
    for migration in load_migrations():
        conn.executescript(f"BEGIN;\n{migration.up}\nPRAGMA user_version = {migration.version};\nCOMMIT;")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    order = (
        "users",
        "organisations",
        "coordinators",
        "programmes",
        "participants",
        "invites",
        "consents",
        "guardians",
        "survey_rounds",
        "survey_invitations",
        "responses",
        "answers",
        "mentor_readiness",
        "preference_surveys",
        "preferences",
        "pairs",
        "pair_plans",
        "plan_goals",
        "match_proposals",
        "pair_members",
        "meetings",
        "goal_progress",
        "meeting_feedback",
        "fit_checks",
        "outbox",
    )
    assert set(order) >= set(rows.tables), set(rows.tables) - set(order)
    counts = {}
    for table in order:
        if table not in rows.tables:
            continue
        columns, values = rows.tables[table]
        marks = ", ".join("?" * len(values[0]))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        counts[table] = len(values)
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    assert not problems, problems[:5]
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.replace(path)
    return counts


def cached_database(participants: int, rebuild: bool) -> Path:
    """The database of this size, built once and kept (its name carries the size, builder and schema)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    schema = len(load_migrations())
    path = CACHE / f"size-{participants}-b{BUILDER_VERSION}-s{schema}.sqlite3"
    if rebuild or not path.exists():
        started = time.perf_counter()
        counts = write_database(path, participants, datetime.now(UTC).replace(microsecond=0))
        print(
            f"built {path.name} in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in counts.items()),
            file=sys.stderr,
        )
    return path


def copy_database(source: Path, folder: Path, name: str = "school.sqlite3") -> Path:
    target = folder / name
    shutil.copyfile(source, target)
    return target


# --- the digest job and matching, in this process --------------------------------------------------------


def all_digests_due(conn: sqlite3.Connection) -> int:
    """Make every coordinator's digest due whatever the hour (daily from 00:00 local); how many there are."""
    now = ts(datetime.now(UTC))
    conn.execute(
        "INSERT INTO digest_settings (user_id, frequency, weekday, hour, updated_at) "
        "SELECT DISTINCT user_id, 'daily', 0, 0, ? FROM coordinators WHERE true "
        "ON CONFLICT (user_id) DO UPDATE SET frequency = 'daily', hour = 0",
        (now,),
    )
    conn.commit()
    return conn.execute("SELECT COUNT(DISTINCT user_id) FROM coordinators").fetchone()[0]


@dataclass
class InProcess:
    coordinators: int
    programmes: int
    digest_s: float
    digests_queued: int
    matching: list[tuple[int, int, float, float, int]]  # mentees, mentors, run() s, match() s, proposals
    sweep_s: tuple[float, float] = (0.0, 0.0)  # the sweep's first run, and a second one right after it
    sweep_queued: int = 0


async def in_process(path: Path) -> InProcess:
    from dialogs.matching import match
    from handlers.pairing import load_pool, run

    with sqlite3.connect(path) as conn:
        coordinators = all_digests_due(conn)
        programmes = conn.execute("SELECT COUNT(*) FROM programmes").fetchone()[0]
    db = await Database.open(path)
    gc.collect()
    gc.freeze()  # as `python -m bot` does once started (bot/__main__.py)
    try:
        repos = Repositories(db)
        i18n = create_i18n("ru")
        clock = ManualClock(datetime.now(UTC))
        times, queued = [], 0
        for _ in range(RUNS):
            await db.execute("DELETE FROM digests")
            await db.execute("DELETE FROM outbox WHERE kind = 'digest'")
            started = time.perf_counter()
            queued = await run_digests(repos, i18n, clock)
            times.append(time.perf_counter() - started)
        sweeps: tuple[list[float], list[float]] = ([], [])
        swept = 0
        for _ in range(RUNS):
            await db.execute("DELETE FROM outbox WHERE dedupe LIKE 'late%' OR dedupe LIKE 'inactive:%'")
            for run_times in sweeps:
                started = time.perf_counter()
                found = await sweep(repos, i18n, clock)
                run_times.append(time.perf_counter() - started)
                swept = swept or found.queued
        registry = load_registry()
        matching = []
        for pid, (mentees, mentors) in enumerate(MATCHING, 1):
            runs, matches, proposed = [], [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                proposed, _unmatched = await run(repos, registry, pid)
                runs.append(time.perf_counter() - started)
                pool = await load_pool(repos, registry, pid)
                assert len(pool.mentees()) == mentees and len(pool.mentors()) == mentors, pid
                started = time.perf_counter()
                match(pool.candidates.values())
                matches.append(time.perf_counter() - started)
            matching.append((mentees, mentors, statistics.median(runs), statistics.median(matches), proposed))
        return InProcess(coordinators, programmes, statistics.median(times), queued, matching,
                         (statistics.median(sweeps[0]), statistics.median(sweeps[1])), swept)
    finally:
        await db.close()


# --- the real bot process ----------------------------------------------------------------------------------


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}
    return found["VmRSS"], found["VmHWM"]


def floor_kb(first: str = "bot") -> int:
    """RSS of a Python process that imported `first` (the bot's package, which imports aiogram with its models
    built on first use; or `aiogram`, every model built at import), then aiogram's types."""
    code = (
        f"import re, {first}, aiogram.types; "
        "print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(done.stdout)


@dataclass
class Memory:
    started: tuple[int, int]
    after_jobs: tuple[int, int]
    after_use: tuple[int, int]
    digests: int
    used: list[str]


async def process_memory(database: Path | None, workdir: Path) -> Memory:
    """Start `python -m bot` on the database (None: a new empty one), let its jobs run, use it, measure."""
    from tests.client import PollDriver, TgUser
    from tests.fakeapi import FakeBotAPI

    target = workdir / "school.sqlite3"
    coordinators, who = 0, None
    if database is not None:
        copy_database(database, workdir)
        with sqlite3.connect(target) as conn:
            coordinators = all_digests_due(conn) - 1  # but the one who uses the bot (see `chosen`)
            who = chosen(conn)
    fake = FakeBotAPI()
    await fake.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ADMIN_", "DATABASE_"))}
    env.update(
        BOT_TOKEN="4242:SIZE-token",
        BOT_API_BASE_URL=fake.base_url,
        ADMIN_IDS="3000",
        DATABASE_PATH=str(target),
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    log = (workdir / "bot.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=workdir, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log
    )
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + 60
        while not fake.calls_of("getUpdates"):
            assert proc.returncode is None and loop.time() < deadline, (workdir / "bot.log").read_text()
            await asyncio.sleep(0.05)
        started = memory_kb(proc.pid)
        # The scheduler's jobs run at start-up: wait for every coordinator's digest (and the sweeps with it).
        digests, deadline = 0, loop.time() + 300
        while database is not None and digests < coordinators and loop.time() < deadline:
            await asyncio.sleep(0.5)
            with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as conn:
                digests = conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0]
        await asyncio.sleep(2)
        after_jobs = memory_kb(proc.pid)
        try:
            used = await use_the_bot(who, PollDriver(fake, timeout=60), TgUser)
        except Exception:
            print((workdir / "bot.log").read_text()[-5000:], file=sys.stderr)
            raise
        await asyncio.sleep(1)
        after_use = memory_kb(proc.pid)
        return Memory(started, after_jobs, after_use, digests, used)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()
        await fake.stop()


async def shown(user: Any, needle: str, patience: float = 120) -> None:
    """Wait until a message in the user's chat has the text or a button with it (the bot may be busy with
    its start-up jobs, so a reply can come later than the test driver waits)."""
    deadline = asyncio.get_running_loop().time() + patience
    while not any(
        needle in m.text or any(needle in str(b["text"]) for row in m.keyboard for b in row)
        for m in user.messages
    ):
        assert asyncio.get_running_loop().time() < deadline, f"{needle!r} never shown: {user.messages}"
        await asyncio.sleep(0.05)


def chosen(conn: sqlite3.Connection) -> tuple[int, int, int, str]:
    """Who uses the bot while it is measured: (programme, its coordinator, a participant in the middle of
    the questionnaire, that questionnaire). The coordinator's digest is turned off, so nothing but the
    replies to their taps reaches their chat (the test driver waits for the chat's next message)."""
    pid, coordinator = conn.execute(
        "SELECT p.id, c.user_id FROM programmes p "
        "JOIN coordinators c ON c.organisation_id = p.organisation_id "
        "WHERE EXISTS (SELECT 1 FROM pairs x WHERE x.programme_id = p.id) ORDER BY p.id LIMIT 1"
    ).fetchone()
    participant, questionnaire = conn.execute(
        "SELECT p.user_id, r.questionnaire_id FROM participants p "
        "JOIN responses r ON r.participant_id = p.id "
        "WHERE r.status = 'in_progress' AND r.round_id IS NULL AND p.status = 'active' ORDER BY p.id "
        "LIMIT 1"
    ).fetchone()
    conn.execute("UPDATE digest_settings SET frequency = 'off' WHERE user_id = ?", (coordinator,))
    conn.commit()
    return pid, coordinator, participant, questionnaire


async def use_the_bot(who: tuple[int, int, int, str] | None, driver: Any, user_class: Any) -> list[str]:
    """A coordinator opens a programme, its base lists and its survey results; a participant answers one
    question of their questionnaire (None: someone sends /start). What was done, for the table."""
    from bot.callbacks import ProgrammeCb
    from tests.questionnaire_helpers import answer

    done = []
    if who is None:
        user = user_class(driver, 777, "Anna", language_code="en")
        await user.send("/start")
        return ["/start"]
    pid, coordinator, participant, questionnaire = who
    maria = user_class(driver, coordinator, "Maria", language_code="en")
    await maria.send("/programmes")
    await shown(maria, "Programmes (")
    await maria.click_data(ProgrammeCb(action="open", programme=pid).pack(), maria.last_message.message_id)
    for tap, then in (("Mentees (", "Questionnaire submitted ("), ("Questionnaire submitted (", None),
                      ("Back to the programme", "Mentors ("), ("Mentors (", "Questionnaire submitted ("),
                      ("Back to the programme", "Survey results"), ("Survey results", "Survey results of")):
        await shown(maria, tap)
        await maria.click(tap)
        if then is not None:
            await shown(maria, then)
    done.append("coordinator: programme card, mentee and mentor lists, survey results")
    registry = load_registry()
    q = registry.get(questionnaire)
    assert q is not None
    pupil = user_class(driver, participant, "Ivan", language_code="en")
    await pupil.send("/questionnaire")
    await asyncio.sleep(1)
    for _ in range(2):
        text = pupil.last_text or ""
        question = next((x for x in q.questions if x.text["en"] in text), None)
        if question is not None:
            await answer(pupil, question)
            done.append("participant: answered a question")
            break
        buttons = pupil.buttons()
        if not buttons:
            break
        await pupil.click(buttons[0])
    return done


# --- the table ---------------------------------------------------------------------------------------------


@dataclass
class Measured:
    participants: int
    megabytes: float
    work: InProcess
    memory: Memory


async def measure(participants: int, rebuild: bool) -> Measured:
    source = cached_database(participants, rebuild)
    with tempfile.TemporaryDirectory(prefix="size-") as folder:
        work = await in_process(copy_database(source, Path(folder), "work.sqlite3"))
    with tempfile.TemporaryDirectory(prefix="size-bot-") as folder:
        memory = await process_memory(source, Path(folder))
    return Measured(participants, source.stat().st_size / 1e6, work, memory)


def table(sizes: list[Measured], empty: Memory, floor: int, plain: int) -> str:
    small, big = sizes[0], sizes[-1]
    mb = 1024

    def growth(a: float, b: float) -> str:
        return f"{b / a:.1f}×" if a else "—"

    def met(value: float, target: float) -> str:
        return "met" if value < target else "**NOT met**"

    rss_empty = empty.after_use[0] / mb
    rows = [
        ("database file, MB", "—", small.megabytes, big.megabytes, ".0f"),
        ("bot RSS after start-up, MB", "—", small.memory.started[0] / mb, big.memory.started[0] / mb, ".0f"),
        (
            "bot RSS after its jobs and use, MB",
            f"< {RSS_TARGET_MB}",
            small.memory.after_use[0] / mb,
            big.memory.after_use[0] / mb,
            ".0f",
        ),
        (
            "bot peak RSS (VmHWM), MB",
            f"< {RSS_TARGET_MB}",
            small.memory.after_use[1] / mb,
            big.memory.after_use[1] / mb,
            ".0f",
        ),
        (
            f"digest job, every coordinator ({small.work.coordinators} → {big.work.coordinators}) over all "
            "programmes, ms",
            f"< {DIGEST_TARGET_S * 1000:.0f}",
            small.work.digest_s * 1000,
            big.work.digest_s * 1000,
            ".0f",
        ),
    ]
    rows += [
        (
            f"late-and-stuck sweep, first run ({small.work.sweep_queued:,} → {big.work.sweep_queued:,} "
            "messages queued), ms",
            "—",
            small.work.sweep_s[0] * 1000,
            big.work.sweep_s[0] * 1000,
            ".0f",
        ),
        (
            "late-and-stuck sweep, run again (nothing new), ms",
            "—",
            small.work.sweep_s[1] * 1000,
            big.work.sweep_s[1] * 1000,
            ".0f",
        ),
    ]
    for i, (mentees, mentors) in enumerate(MATCHING):
        rows.append(
            (
                f"matching {mentees}×{mentors} from the database (`pairing.run`), ms",
                f"< {MATCH_TARGET_S * 1000:.0f}",
                small.work.matching[i][2] * 1000,
                big.work.matching[i][2] * 1000,
                ".0f",
            )
        )
        rows.append(
            (
                f"of it `match()` {mentees}×{mentors}, ms",
                "—",
                small.work.matching[i][3] * 1000,
                big.work.matching[i][3] * 1000,
                ".0f",
            )
        )
    lines = [
        f"Machine: {machine()}; "
        f"median of {RUNS} runs for times. Databases: {small.participants:,} participants in "
        f"{small.work.programmes:,} programmes and {big.participants:,} in {big.work.programmes:,} (built by "
        "the script, cached in benchmarks/.cache/). Growth = the larger database's figure over the smaller's "
        "(the data grows 10×).",
        "",
        f"| figure | target | {small.participants:,} participants | {big.participants:,} participants "
        "| growth |",
        "|---|---|---:|---:|---:|",
    ]
    for label, target, a, b, fmt in rows:
        lines.append(f"| {label} | {target} | {a:{fmt}} | {b:{fmt}} | {growth(a, b)} |")
    big_match = big.work.matching[-1]
    lines += [
        "",
        f"Baselines in the same run: the bot on an empty database {rss_empty:.0f} MB RSS (peak "
        f"{empty.after_use[1] / mb:.0f} MB); a Python process that only imported aiogram as the bot does "
        f"(models built on first use) {floor / mb:.0f} MB, and plainly (every model built at import) "
        f"{plain / mb:.0f} MB. "
        f"So the {big.participants:,}-participant database costs "
        f"{big.memory.after_use[0] / mb - rss_empty:.0f} MB over the empty one "
        f"({big.memory.after_use[0] / mb / rss_empty:.2f}× the empty-database RSS).",
        "",
        f"Targets at {big.participants:,}: RSS < {RSS_TARGET_MB} MB: "
        f"{met(big.memory.after_use[1] / mb, RSS_TARGET_MB)} (peak); digest < {DIGEST_TARGET_S:g} s: "
        f"{met(big.work.digest_s, DIGEST_TARGET_S)}; matching {big_match[0]}×{big_match[1]} < "
        f"{MATCH_TARGET_S:g} s: {met(big_match[2], MATCH_TARGET_S)}.",
        "",
        f"Matching grows {big_match[2] / big.work.matching[0][2]:.1f}× (whole run) and "
        f"{big_match[3] / big.work.matching[0][3]:.1f}× (`match()`) from "
        f"{MATCHING[0][0]}×{MATCHING[0][1]} to {big_match[0]}×{big_match[1]}: 3× the people, "
        "9× the pairs scored.",
        "",
        "The bot's process answered: " + "; ".join(big.memory.used) + f"; {big.memory.digests} digests made "
        "by its scheduler before the memory was read.",
    ]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> str:
    sizes = list(QUICK_SIZES if args.quick else SIZES)
    measured = [await measure(n, args.rebuild) for n in sizes]
    with tempfile.TemporaryDirectory(prefix="size-empty-") as folder:
        empty = await process_memory(None, Path(folder))
    return table(measured, empty, floor_kb(), floor_kb("aiogram"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZES} participants instead of {SIZES}")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    args = parser.parse_args()
    text = asyncio.run(main_async(args))
    print(text)
    if not args.quick:
        write_section("size", text)


if __name__ == "__main__":
    main()
