"""Completion of a programme: awards, closing it (archived read-only), the long-term mentor base question,
and deleting its personal data once its retention after closing has passed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Database
from storage.models import OutboxMessage
from storage.repos._convert import parse_ts, ts
from storage.repos.meetings import TIMED_KINDS
from storage.repos.outbox import OutboxRepo
from storage.repos.participants import ParticipantRepo

AWARD_KINDS = ("mentor", "pair")
BASE_DECISIONS = ("agreed", "declined")
# Composes the long-term base question for each mentor: (participant id, the message to them).
AskBase = Callable[[Sequence[int]], Awaitable[Sequence[OutboxMessage]]]


@dataclass(frozen=True)
class PairNames:
    """A pair or group of a programme (active or ended) with its people's names."""

    id: int
    mentor_id: int
    mentor: str
    mentees: tuple[str, ...]
    ended: bool


@dataclass(frozen=True)
class Closing:
    """What closing a programme did."""

    pairs_ended: int
    meetings_cancelled: int
    mentors_asked: int


class CompletionRepo:
    """Awards, closing, the mentor base question and the retention of closed programmes."""

    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    async def closed_at(self, programme_id: int) -> datetime | None:
        """When the programme was closed (None while it runs or when it does not exist)."""
        row = await self.db.fetchone("SELECT closed_at FROM programmes WHERE id = ?", (programme_id,))
        return parse_ts(row["closed_at"]) if row and row["closed_at"] else None

    async def mentors(self, programme_id: int) -> list[tuple[int, str]]:
        """(participant id, name) of the programme's active mentors, by name."""
        rows = await self.db.fetchall(
            "SELECT id, full_name FROM participants WHERE programme_id = ? AND role = 'mentor' "
            "AND status = 'active' ORDER BY full_name, id",
            (programme_id,),
        )
        return [(int(r["id"]), r["full_name"]) for r in rows]

    async def pairs(self, programme_id: int) -> list[PairNames]:
        """The programme's pairs and groups, active or ended, by mentor's name."""
        rows = await self.db.fetchall(
            "SELECT p.id, p.mentor_id, m.full_name AS mentor, p.status, "
            "GROUP_CONCAT(e.full_name, '\x1f') AS mentees FROM pairs p "
            "JOIN participants m ON m.id = p.mentor_id "
            "LEFT JOIN pair_members pm ON pm.pair_id = p.id LEFT JOIN participants e ON e.id = pm.mentee_id "
            "WHERE p.programme_id = ? GROUP BY p.id ORDER BY m.full_name, p.id",
            (programme_id,),
        )
        return [
            PairNames(r["id"], r["mentor_id"], r["mentor"],
                      tuple(sorted((r["mentees"] or "").split("\x1f"))) if r["mentees"] else (),
                      r["status"] == "ended")
            for r in rows
        ]

    async def awarded(self, programme_id: int, kind: str) -> set[int]:
        """Ids awarded in the programme: mentors' participant ids (kind 'mentor') or pair ids ('pair')."""
        column = "participant_id" if kind == "mentor" else "pair_id"
        rows = await self.db.fetchall(
            f"SELECT {column} FROM awards WHERE programme_id = ? AND kind = ?", (programme_id, kind)
        )
        return {int(r[0]) for r in rows}

    async def toggle_award(
        self, programme_id: int, kind: str, subject_id: int, by: int, now: datetime
    ) -> bool:
        """Award a mentor or a pair of this programme, or take the award back. Whether it is awarded now.
        ValueError when the mentor or pair is not the programme's."""
        if kind not in AWARD_KINDS:
            raise ValueError(kind)
        column = "participant_id" if kind == "mentor" else "pair_id"
        check = (
            "SELECT 1 FROM participants WHERE id = ? AND programme_id = ? AND role = 'mentor'"
            if kind == "mentor" else "SELECT 1 FROM pairs WHERE id = ? AND programme_id = ?"
        )
        async with self.db.transaction() as conn:
            async with conn.execute(check, (subject_id, programme_id)) as cur:
                if await cur.fetchone() is None:
                    raise ValueError(subject_id)
            async with conn.execute(
                f"DELETE FROM awards WHERE kind = ? AND {column} = ?", (kind, subject_id)
            ) as cur:
                if cur.rowcount:
                    return False
            await conn.execute(
                f"INSERT INTO awards (programme_id, kind, {column}, awarded_by, awarded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (programme_id, kind, subject_id, by, ts(now)),
            )
        return True

    async def close(self, programme_id: int, by: int, now: datetime, ask_base: AskBase) -> Closing | None:
        """Close the programme in one transaction: its pairs end, its scheduled meetings are cancelled with
        their reminders, its invite links are revoked, and each mentor is asked (the messages `ask_base`
        composes) about the long-term mentor base. None when it was already closed."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE programmes SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL",
                (ts(now), by, programme_id),
            ) as cur:
                if cur.rowcount != 1:
                    return None
            async with conn.execute(
                "UPDATE pairs SET status = 'ended', ended_at = ? "
                "WHERE programme_id = ? AND status = 'active'",
                (ts(now), programme_id),
            ) as cur:
                ended = cur.rowcount
            async with conn.execute(
                "SELECT id FROM meetings WHERE programme_id = ? AND status = 'scheduled'", (programme_id,)
            ) as cur:
                meeting_ids = [int(r[0]) for r in await cur.fetchall()]
            for meeting_id in meeting_ids:
                await conn.execute(
                    "UPDATE meetings SET status = 'cancelled', updated_at = ? WHERE id = ?",
                    (ts(now), meeting_id),
                )
                await self.outbox.cancel(conn, TIMED_KINDS, meeting_id)
            await conn.execute(
                "UPDATE invites SET revoked_at = ? WHERE programme_id = ? AND revoked_at IS NULL",
                (ts(now), programme_id),
            )
            async with conn.execute(
                "SELECT id FROM participants WHERE programme_id = ? AND role = 'mentor' "
                "AND status = 'active' "
                "ORDER BY id",
                (programme_id,),
            ) as cur:
                mentors = [int(r[0]) for r in await cur.fetchall()]
            for mentor_id in mentors:
                await conn.execute(
                    "INSERT OR IGNORE INTO mentor_base (participant_id, programme_id, asked_at) "
                    "VALUES (?, ?, ?)",
                    (mentor_id, programme_id, ts(now)),
                )
            await self.outbox.enqueue(await ask_base(mentors), conn)
        return Closing(ended, len(meeting_ids), len(mentors))

    async def answer_base(self, participant_id: int, decision: str, now: datetime) -> bool:
        """Record a mentor's answer about the long-term base (a later answer replaces it). False when the
        mentor was not asked."""
        if decision not in BASE_DECISIONS:
            raise ValueError(decision)
        async with self.db.transaction() as conn, conn.execute(
            "UPDATE mentor_base SET decision = ?, decided_at = ? WHERE participant_id = ?",
            (decision, ts(now), participant_id),
        ) as cur:
            return cur.rowcount == 1

    async def base_decision(self, participant_id: int) -> str | None:
        """'agreed', 'declined', '' when asked and not answered, None when not asked."""
        row = await self.db.fetchone(
            "SELECT decision FROM mentor_base WHERE participant_id = ?", (participant_id,)
        )
        return None if row is None else (row["decision"] or "")

    async def base_names(self, programme_id: int, decision: str | None) -> list[str]:
        """Names of the programme's mentors with this answer about the base (None: not answered)."""
        where = "b.decision IS NULL" if decision is None else "b.decision = ?"
        params: tuple[object, ...] = (programme_id,) if decision is None else (programme_id, decision)
        rows = await self.db.fetchall(
            "SELECT p.full_name FROM mentor_base b JOIN participants p ON p.id = b.participant_id "
            f"WHERE b.programme_id = ? AND {where} ORDER BY p.full_name",
            params,
        )
        return [r["full_name"] for r in rows]

    async def agreed_to_base(self, programme_id: int) -> set[int]:
        """Participant ids of the programme's mentors who agreed to stay in the long-term base."""
        rows = await self.db.fetchall(
            "SELECT participant_id FROM mentor_base WHERE programme_id = ? AND decision = 'agreed'",
            (programme_id,),
        )
        return {int(r[0]) for r in rows}

    async def past_retention(self, now: datetime) -> list[int]:
        """Closed programmes whose retention after closing has passed and whose data is not deleted yet."""
        rows = await self.db.fetchall(
            "SELECT id, closed_at, retention_days FROM programmes "
            "WHERE closed_at IS NOT NULL AND purged_at IS NULL ORDER BY id"
        )
        return [
            int(r["id"]) for r in rows
            if parse_ts(r["closed_at"]) + timedelta(days=int(r["retention_days"]))  # type: ignore[operator]
            <= now
        ]

    async def purge(self, programme_id: int, now: datetime) -> int:
        """Delete the programme's personal data as a withdrawal does (the consent trail is kept,
        anonymous; answers, pairs and meetings go with the people), its observers and link visits.
        The programme itself stays, marked purged. How many participants were deleted."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE programmes SET purged_at = ? WHERE id = ? AND purged_at IS NULL "
                "AND closed_at IS NOT NULL",
                (ts(now), programme_id),
            ) as cur:
                if cur.rowcount != 1:
                    return 0
            async with conn.execute(
                "SELECT id FROM participants WHERE programme_id = ?", (programme_id,)
            ) as cur:
                people = [int(r[0]) for r in await cur.fetchall()]
            for participant_id in people:
                await ParticipantRepo._forget(conn, participant_id)  # the withdrawal's own logic
            await conn.execute("DELETE FROM observers WHERE programme_id = ?", (programme_id,))
            await conn.execute("DELETE FROM invite_visits WHERE programme_id = ?", (programme_id,))
        return len(people)

    async def purged_at(self, programme_id: int) -> datetime | None:
        """When the programme's personal data was deleted."""
        row = await self.db.fetchone("SELECT purged_at FROM programmes WHERE id = ?", (programme_id,))
        return parse_ts(row["purged_at"]) if row and row["purged_at"] else None
