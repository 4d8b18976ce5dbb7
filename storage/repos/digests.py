"""The coordinator's digest: schedules, the snapshots of what each digest counted, and the aggregate counts
of many programmes at once (a handful of queries whatever the number of programmes or people)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, utcnow
from storage.models import Meeting, OutboxMessage, Pair
from storage.repos._convert import parse_ts, ts
from storage.repos.meetings import _meeting
from storage.repos.outbox import OutboxRepo

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
        rows = await self.db.fetchall(
            "SELECT p.programme_id, COUNT(*) AS participants, "
            f"SUM({_SUBMITTED}) AS submitted, "
            "SUM(p.status = 'parent_pending') AS parent_pending, "
            f"SUM(p.status = 'active' AND NOT {_SUBMITTED} AND NOT {_IN_PAIR}) AS not_submitted, "
            f"SUM(p.role = 'mentee' AND p.status = 'active' AND {_SUBMITTED} AND NOT {_IN_PAIR}) "
            "AS without_pair "
            f"FROM participants p WHERE p.programme_id IN ({marks}) GROUP BY p.programme_id",
            ids,
        )
        for r in rows:
            for key in ("participants", "submitted", "parent_pending", "not_submitted", "without_pair"):
                result[r["programme_id"]][key] = int(r[key] or 0)
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
        """The active pairs and groups of the programmes, in one query."""
        if not programme_ids:
            return []
        rows = await self.db.fetchall(
            "SELECT p.id, p.programme_id, p.mentor_id, p.approved_at, "
            "GROUP_CONCAT(pm.mentee_id) AS mentees FROM pairs p "
            "LEFT JOIN pair_members pm ON pm.pair_id = p.id "
            f"WHERE p.status = 'active' AND p.programme_id IN ({_in(programme_ids)}) GROUP BY p.id",
            tuple(programme_ids),
        )
        return [
            Pair(r["id"], r["programme_id"], r["mentor_id"],
                 tuple(sorted(int(x) for x in (r["mentees"] or "").split(",") if x)),
                 parse_ts(r["approved_at"]))  # type: ignore[arg-type]
            for r in rows
        ]

    async def meetings_of_pairs(self, programme_ids: Sequence[int]) -> dict[int, list[Meeting]]:
        """The meetings of the programmes' active pairs by pair, oldest first, in one query."""
        result: dict[int, list[Meeting]] = defaultdict(list)
        if not programme_ids:
            return result
        rows = await self.db.fetchall(
            "SELECT m.* FROM meetings m JOIN pairs p ON p.id = m.pair_id WHERE p.status = 'active' "
            f"AND m.programme_id IN ({_in(programme_ids)}) ORDER BY m.starts_at, m.id",
            tuple(programme_ids),
        )
        for r in rows:
            result[r["pair_id"]].append(_meeting(r))
        return result

    async def not_submitted(self, programme_id: int) -> list[tuple[int, int]]:
        """(participant id, user id) of the programme's people who can fill in the questionnaire and have
        not submitted it (consent given, not in a pair)."""
        rows = await self.db.fetchall(
            f"SELECT p.id, p.user_id FROM participants p WHERE p.programme_id = ? AND p.status = 'active' "
            f"AND NOT {_SUBMITTED} AND NOT {_IN_PAIR} ORDER BY p.id",
            (programme_id,),
        )
        return [(r[0], r[1]) for r in rows]
