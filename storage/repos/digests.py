"""The coordinator's digest: schedules, the snapshots of what each digest counted, and the aggregate counts
of many programmes at once (a handful of queries whatever the number of programmes or people)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, utcnow
from storage.models import MeetingStatus, MeetingTimes, Organisation, OutboxMessage, Pair, Programme, User
from storage.repos._convert import parse_ts, ts
from storage.repos.organisations import _org
from storage.repos.outbox import OutboxRepo
from storage.repos.programmes import _programme

FREQUENCIES = ("daily", "weekly", "off")
Counts = dict[int, dict[str, int]]  # programme id -> item -> count

# A participant's questionnaire is submitted / they are in an active pair or group.
_SUBMITTED = ("EXISTS (SELECT 1 FROM responses r WHERE r.participant_id = p.id AND r.status = 'submitted' "
              "AND r.round_id IS NULL)")  # the joining questionnaire, not a survey round
_IN_PAIR = (
    "(EXISTS (SELECT 1 FROM pairs x WHERE x.mentor_id = p.id AND x.status = 'active') "
    "OR EXISTS (SELECT 1 FROM pair_members m JOIN pairs x ON x.id = m.pair_id "
    "WHERE m.mentee_id = p.id AND x.status = 'active'))"
)


@dataclass(frozen=True)
class DigestSetting:
    """When a coordinator gets the digest (hour and weekday in their organisation's time zone)."""

    frequency: str = "daily"  # daily | weekly | off
    weekday: int = 0  # Monday = 0; used when weekly
    hour: int = 8


@dataclass(frozen=True)
class DigestCoordinator:
    """A coordinator with their time zone (of the first organisation they were made coordinator of)."""

    user_id: int
    timezone: str
    setting: DigestSetting


@dataclass(frozen=True)
class Snapshot:
    """A digest as stored."""

    id: int
    user_id: int
    period: str
    counts: Counts


def _in(ids: Sequence[int]) -> str:
    return ", ".join("?" * len(ids))


class DigestRepo:
    """Digest schedules and snapshots."""

    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    # --- schedules ------------------------------------------------------------------------------------

    async def setting(self, user_id: int) -> DigestSetting:
        """The coordinator's schedule (daily at 08:00 when never chosen)."""
        row = await self.db.fetchone("SELECT * FROM digest_settings WHERE user_id = ?", (user_id,))
        return DigestSetting(row["frequency"], row["weekday"], row["hour"]) if row else DigestSetting()

    async def save_setting(self, user_id: int, setting: DigestSetting) -> None:
        """Store the coordinator's schedule."""
        await self.db.execute(
            "INSERT INTO digest_settings (user_id, frequency, weekday, hour, updated_at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET frequency = excluded.frequency, weekday = excluded.weekday, "
            "hour = excluded.hour, updated_at = excluded.updated_at",
            (user_id, setting.frequency, setting.weekday, setting.hour, ts(utcnow())),
        )

    async def coordinators(self) -> list[DigestCoordinator]:
        """Every coordinator with their time zone and schedule, in one query."""
        rows = await self.db.fetchall(
            "SELECT c.user_id, o.timezone, s.frequency, s.weekday, s.hour FROM coordinators c "
            "JOIN organisations o ON o.id = c.organisation_id "
            "LEFT JOIN digest_settings s ON s.user_id = c.user_id "
            "WHERE c.id = (SELECT MIN(c2.id) FROM coordinators c2 WHERE c2.user_id = c.user_id) "
            "ORDER BY c.user_id"
        )
        return [
            DigestCoordinator(r["user_id"], r["timezone"],
                              DigestSetting(r["frequency"], r["weekday"], r["hour"]) if r["frequency"]
                              else DigestSetting())
            for r in rows
        ]

    async def timezone_of(self, user_id: int) -> str | None:
        """The time zone a coordinator's digest runs in (None for someone who coordinates nothing)."""
        row = await self.db.fetchone(
            "SELECT o.timezone FROM coordinators c JOIN organisations o ON o.id = c.organisation_id "
            "WHERE c.user_id = ? ORDER BY c.id LIMIT 1", (user_id,),
        )
        return row[0] if row else None

    # --- snapshots ------------------------------------------------------------------------------------

    async def done(self, user_id: int, period: str) -> bool:
        """Whether the coordinator's digest for the period was already made (sent or found empty)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM digests WHERE user_id = ? AND period = ?", (user_id, period))
        return row is not None

    async def last(self, user_id: int) -> Snapshot | None:
        """The coordinator's latest digest."""
        row = await self.db.fetchone(
            "SELECT * FROM digests WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,))
        return self._snapshot(row) if row else None

    async def get(self, digest_id: int) -> Snapshot | None:
        """One digest."""
        row = await self.db.fetchone("SELECT * FROM digests WHERE id = ?", (digest_id,))
        return self._snapshot(row) if row else None

    @staticmethod
    def _snapshot(row: object) -> Snapshot:
        counts = {int(k): v for k, v in json.loads(row["counts"]).items()}  # type: ignore[index]
        return Snapshot(row["id"], row["user_id"], row["period"], counts)  # type: ignore[index]

    async def record(
        self, user_id: int, period: str, counts: Counts, message: OutboxMessage | None
    ) -> int | None:
        """Store the digest's snapshot and queue its message, in one transaction; None when this period's
        digest was already made (a second run or another process)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "INSERT OR IGNORE INTO digests (user_id, period, counts, sent, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (user_id, period, json.dumps(counts, sort_keys=True), int(message is not None), ts(utcnow())),
            ) as cur:
                if cur.rowcount != 1:
                    return None
                digest_id = cur.lastrowid
            if message is not None:
                await self.outbox.enqueue([message], conn)
            return digest_id

    async def done_in(self, periods: Sequence[str]) -> set[tuple[int, str]]:
        """(coordinator, period) of every digest already made for any of the periods, in one query."""
        if not periods:
            return set()
        rows = await self.db.fetchall(
            f"SELECT user_id, period FROM digests WHERE period IN ({_in(periods)})", tuple(periods))
        return {(r[0], r[1]) for r in rows}

    async def last_of(self, user_ids: Sequence[int]) -> dict[int, Snapshot]:
        """Each coordinator's latest digest, in one query."""
        if not user_ids:
            return {}
        rows = await self.db.fetchall(
            "SELECT * FROM digests WHERE id IN (SELECT MAX(id) FROM digests "
            f"WHERE user_id IN ({_in(user_ids)}) GROUP BY user_id)", tuple(user_ids))
        return {r["user_id"]: self._snapshot(r) for r in rows}

    async def record_many(
        self, digests: Sequence[tuple[int, str, Counts, OutboxMessage | None]]
    ) -> list[bool]:
        """`record` for many coordinators' digests in one transaction (each snapshot with its message); per
        digest whether it was new (False: that period's digest was already made)."""
        if not digests:
            return []
        async with self.db.transaction() as conn:
            users, periods = {d[0] for d in digests}, {d[1] for d in digests}
            async with conn.execute(
                f"SELECT user_id, period FROM digests WHERE user_id IN ({_in(users)}) "
                f"AND period IN ({_in(periods)})", (*users, *periods),
            ) as cur:
                made = {(r[0], r[1]) for r in await cur.fetchall()}
            new = [(user_id, period) not in made for user_id, period, _counts, _message in digests]
            now = ts(utcnow())
            await conn.executemany(
                "INSERT INTO digests (user_id, period, counts, sent, created_at) VALUES (?, ?, ?, ?, ?)",
                [(user_id, period, json.dumps(counts, sort_keys=True), int(message is not None), now)
                 for (user_id, period, counts, message), fresh in zip(digests, new, strict=True) if fresh],
            )
            messages = [d[3] for d, fresh in zip(digests, new, strict=True) if fresh and d[3] is not None]
            await self.outbox.enqueue(messages, conn)
        return new

    # --- what coordinators manage, for many at once ---------------------------------------------------

    async def managed(self) -> dict[int, list[Organisation]]:
        """Every coordinator's organisations (their own and every one below them), by name, in one query."""
        rows = await self.db.fetchall(
            "WITH RECURSIVE tree(user_id, id) AS (SELECT user_id, organisation_id FROM coordinators "
            "UNION SELECT t.user_id, o.id FROM organisations o JOIN tree t ON o.parent_id = t.id) "
            "SELECT t.user_id, o.* FROM organisations o JOIN tree t ON t.id = o.id "
            "ORDER BY t.user_id, o.name, o.id"
        )
        result: dict[int, list[Organisation]] = defaultdict(list)
        for r in rows:
            result[r["user_id"]].append(_org(r))
        return result

    async def programmes_of(self, org_ids: Sequence[int]) -> dict[int, list[Programme]]:
        """The organisations' programmes, newest first, in one query."""
        result: dict[int, list[Programme]] = defaultdict(list)
        if not org_ids:
            return result
        rows = await self.db.fetchall(
            f"SELECT * FROM programmes WHERE organisation_id IN ({_in(org_ids)}) "
            "ORDER BY start_date DESC, id DESC", tuple(org_ids))
        for r in rows:
            result[r["organisation_id"]].append(_programme(r))
        return result

    async def programmes(self, programme_ids: Sequence[int]) -> dict[int, Programme]:
        """The programmes (as `ProgrammeRepo.get` reads them) by id, in one query."""
        return {r["id"]: _programme(r) for r in await self._by_id("programmes", programme_ids)}

    async def organisations(self, org_ids: Sequence[int]) -> dict[int, Organisation]:
        """The organisations (as `OrganisationRepo.get` reads them) by id, in one query."""
        return {r["id"]: _org(r) for r in await self._by_id("organisations", org_ids)}

    async def _by_id(self, table: str, ids: Sequence[int]) -> list[aiosqlite.Row]:
        if not ids:
            return []
        return await self.db.fetchall(f"SELECT * FROM {table} WHERE id IN ({_in(ids)})", tuple(ids))

    async def coordinators_of(self, org_ids: Sequence[int]) -> dict[int, list[int]]:
        """The user ids of each organisation's own coordinators (as `OrganisationRepo.coordinators` lists
        them, in order), in one query; an organisation without any is left out."""
        result: dict[int, list[int]] = defaultdict(list)
        if not org_ids:
            return result
        rows = await self.db.fetchall(
            f"SELECT organisation_id, user_id FROM coordinators WHERE organisation_id IN ({_in(org_ids)}) "
            "ORDER BY id", tuple(org_ids))
        for org_id, user_id in rows:
            result[org_id].append(user_id)
        return result

    async def surveys_pending(self, programme_ids: Sequence[int], now: datetime) -> dict[int, int]:
        """Per programme, how many invitations to a round still open are not answered by an active
        participant (as `SurveyRepo.pending` lists them), in one query."""
        if not programme_ids:
            return {}
        rows = await self.db.fetchall(
            "SELECT sr.programme_id, COUNT(*) FROM survey_invitations i "
            "JOIN survey_rounds sr ON sr.id = i.round_id JOIN participants p ON p.id = i.participant_id "
            f"WHERE sr.programme_id IN ({_in(programme_ids)}) AND (sr.closes_at IS NULL OR sr.closes_at > ?) "
            "AND p.status = 'active' AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.round_id = i.round_id "
            "AND r.participant_id = i.participant_id AND r.status = 'submitted') GROUP BY sr.programme_id",
            (*programme_ids, ts(now)),
        )
        return {r[0]: r[1] for r in rows}

    # --- aggregate counts -----------------------------------------------------------------------------

    async def counts(self, programme_ids: Sequence[int], now: datetime, ahead: datetime) -> Counts:
        """Per programme: participants, submitted questionnaires, parents' consents pending, questionnaires
        not submitted (active, not in a pair), mentees without a pair, meetings held, meetings between
        `now` and `ahead`, re-pair requests. Zero items are left out."""
        result: Counts = {pid: {} for pid in programme_ids}
        if not programme_ids:
            return result
        ids = tuple(programme_ids)
        marks = _in(ids)
        # One pass along the participants' index of (programme, status, role), grouped in its order: each
        # participant's kind (submitted + 2 × in a pair, 0-3) is looked up once, and a group's kinds come back
        # as a string of digits counted here (a sum per kind would make SQLite look everyone up once per sum).
        rows = await self.db.fetchall(
            f"SELECT p.programme_id, p.status, p.role, group_concat({_SUBMITTED} + 2 * {_IN_PAIR}, '') "
            f"FROM participants p WHERE p.programme_id IN ({marks}) "
            "GROUP BY p.programme_id, p.status, p.role",
            ids,
        )
        for programme_id, status, role, kinds in rows:
            figures = result[programme_id]
            only_submitted, only_paired, both = kinds.count("1"), kinds.count("2"), kinds.count("3")
            found = {"participants": len(kinds), "submitted": only_submitted + both}
            if status == "parent_pending":
                found["parent_pending"] = len(kinds)
            if status == "active":
                found["not_submitted"] = len(kinds) - only_submitted - only_paired - both
                if role == "mentee":
                    found["without_pair"] = only_submitted
            for kind, n in found.items():
                figures[kind] = figures.get(kind, 0) + n
        rows = await self.db.fetchall(
            "SELECT programme_id, SUM(status = 'held') AS held, "
            "SUM(status = 'scheduled' AND starts_at >= ? AND starts_at < ?) AS coming "
            f"FROM meetings WHERE programme_id IN ({marks}) GROUP BY programme_id",
            (ts(now), ts(ahead), *ids),
        )
        for r in rows:
            result[r["programme_id"]].update(held=int(r["held"] or 0), coming=int(r["coming"] or 0))
        rows = await self.db.fetchall(
            "SELECT p.programme_id, COUNT(DISTINCT f.pair_id) AS repair FROM fit_checks f "
            "JOIN pairs p ON p.id = f.pair_id WHERE f.answer = 'bad' AND p.status = 'active' "
            f"AND p.programme_id IN ({marks}) GROUP BY p.programme_id",
            ids,
        )
        for r in rows:
            result[r["programme_id"]]["repair"] = int(r["repair"])
        return {pid: {k: v for k, v in items.items() if v} for pid, items in result.items()}

    async def active_pairs(self, programme_ids: Sequence[int]) -> list[Pair]:
        """The active pairs and groups of the programmes, in one query, with what a pair's state needs
        (`handlers.sweeps.state_of`): their mentees are not read (left empty)."""
        if not programme_ids:
            return []
        rows = await self.db.fetchall(
            "SELECT id, programme_id, mentor_id, approved_at FROM pairs "
            f"WHERE status = 'active' AND programme_id IN ({_in(programme_ids)})",
            tuple(programme_ids),
        )
        parse = datetime.fromisoformat
        return [Pair(pid, programme_id, mentor_id, (), parse(approved_at))
                for pid, programme_id, mentor_id, approved_at in rows]

    async def pairs_to_check(
        self, programme_ids: Sequence[int], now: datetime
    ) -> list[tuple[Pair, list[MeetingTimes]]]:
        """The active pairs and groups of the programmes that may be overdue at `now`, each with the meetings
        that decide it (oldest first), in one query, with only what a pair's state needs
        (`handlers.sweeps.state_of`; their mentees are not read, left empty). A pair with a meeting
        scheduled is decided by its first one alone: overdue only if it is not logged a day after its end,
        so the pair is left out while that meeting has not started by `now`. A pair with none comes with its
        logged meetings (none if it has not met yet)."""
        if not programme_ids:
            return []
        marks, ids = _in(programme_ids), tuple(programme_ids)
        columns = ("p.id, p.programme_id, p.mentor_id, p.approved_at, m.id, m.step, m.starts_at, m.minutes, "
                   "m.status, m.version")
        rows = await self.db.fetchall(
            f"SELECT {columns} FROM pairs p JOIN meetings m ON m.id = (SELECT CASE WHEN s.starts_at <= ? "
            "THEN s.id END FROM meetings s WHERE s.pair_id = p.id AND s.status = 'scheduled' "
            f"ORDER BY s.starts_at, s.id LIMIT 1) WHERE p.status = 'active' AND p.programme_id IN ({marks}) "
            f"UNION ALL SELECT {columns} FROM pairs p "
            "LEFT JOIN meetings m ON m.pair_id = p.id AND m.status IN ('held', 'not_held') "
            f"WHERE p.status = 'active' AND p.programme_id IN ({marks}) "
            "AND NOT EXISTS (SELECT 1 FROM meetings s WHERE s.pair_id = p.id AND s.status = 'scheduled') "
            "ORDER BY 7, 5",  # the meetings' start and id
            (ts(now), *ids, *ids),
        )
        statuses = {s.value: s for s in MeetingStatus}
        parse = datetime.fromisoformat
        pairs: dict[int, tuple[Pair, list[MeetingTimes]]] = {}
        for pid, programme_id, mentor_id, approved_at, mid, step, starts_at, minutes, status, version in rows:
            if pid not in pairs:
                pairs[pid] = (Pair(pid, programme_id, mentor_id, (), parse(approved_at)), [])
            if mid is not None:
                pairs[pid][1].append(
                    MeetingTimes(mid, pid, step, parse(starts_at), minutes, statuses[status], version))
        return list(pairs.values())

    async def users(self, user_ids: Sequence[int]) -> dict[int, User]:
        """The users (as `UserRepo.get` reads them), in one query."""
        if not user_ids:
            return {}
        rows = await self.db.fetchall(
            f"SELECT id, locale, tg_locale, blocked_at FROM users WHERE id IN ({_in(user_ids)})",
            tuple(user_ids),
        )
        return {r[0]: User(r[0], r[1], r[2], parse_ts(r[3])) for r in rows}

    async def not_submitted(self, programme_id: int) -> list[tuple[int, int]]:
        """(participant id, user id) of the programme's people who can fill in the questionnaire and have
        not submitted it (consent given, not in a pair)."""
        rows = await self.db.fetchall(
            f"SELECT p.id, p.user_id FROM participants p WHERE p.programme_id = ? AND p.status = 'active' "
            f"AND NOT {_SUBMITTED} AND NOT {_IN_PAIR} ORDER BY p.id",
            (programme_id,),
        )
        return [(r[0], r[1]) for r in rows]
