"""Offers to a programme's mentors to continue in the next year's programme."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, utcnow
from storage.models import Participant, Role
from storage.repos._convert import parse_ts, ts
from storage.repos.participants import _participant, insert_with_consent

AGREED = "agreed"
DECLINED = "declined"


@dataclass(frozen=True)
class CarryOverOffer:
    """One mentor of the old programme asked whether they continue in the new one."""

    programme_id: int  # the new programme
    participant_id: int  # the mentor in the old programme
    decision: str | None  # 'agreed' | 'declined' | None: not answered
    decided_at: datetime | None


@dataclass(frozen=True)
class OfferCounts:
    """How the mentors asked have answered."""

    agreed: int
    declined: int
    pending: int


class CarryOverRepo:
    """Offers to a programme's mentors to continue in the next year's programme."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def mentors(self, programme_id: int) -> list[Participant]:
        """The mentors to ask: the programme's active mentors, those who agreed to stay in the long-term
        mentor base first; those who declined it are not asked again."""
        rows = await self.db.fetchall(
            "SELECT p.* FROM participants p LEFT JOIN mentor_base b ON b.participant_id = p.id "
            "WHERE p.programme_id = ? AND p.role = 'mentor' AND p.status = 'active' "
            "AND COALESCE(b.decision, '') != 'declined' "
            "ORDER BY b.decision = 'agreed' DESC, p.id",
            (programme_id,),
        )
        return [_participant(r) for r in rows]

    @staticmethod
    async def create(conn: aiosqlite.Connection, programme_id: int, participant_ids: Sequence[int]) -> None:
        """Inside the caller's transaction: one unanswered offer of the new programme per old mentor."""
        now = ts(utcnow())
        await conn.executemany(
            "INSERT OR IGNORE INTO carry_over_offers (programme_id, participant_id, created_at) "
            "VALUES (?, ?, ?)",
            [(programme_id, pid, now) for pid in participant_ids],
        )

    async def get(self, programme_id: int, participant_id: int) -> CarryOverOffer | None:
        """One offer."""
        row = await self.db.fetchone(
            "SELECT * FROM carry_over_offers WHERE programme_id = ? AND participant_id = ?",
            (programme_id, participant_id),
        )
        if row is None:
            return None
        return CarryOverOffer(programme_id, participant_id, row["decision"], parse_ts(row["decided_at"]))

    async def counts(self, programme_id: int) -> OfferCounts:
        """Agreed, declined and not answered offers of a new programme."""
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(decision = 'agreed'), 0) AS a, "
            "COALESCE(SUM(decision = 'declined'), 0) AS d, COALESCE(SUM(decision IS NULL), 0) AS p "
            "FROM carry_over_offers WHERE programme_id = ?",
            (programme_id,),
        )
        return OfferCounts(row["a"], row["d"], row["p"]) if row else OfferCounts(0, 0, 0)

    async def decline(self, programme_id: int, participant_id: int) -> bool:
        """Record a No; False when the offer is gone or was already answered."""
        async with self.db.transaction() as conn:
            return await self._decide(conn, programme_id, participant_id, DECLINED)

    async def agree(self, programme_id: int, old: Participant, consent_version: str) -> Participant | None:
        """Record a Yes and, in the same transaction, enrol the mentor in the new programme with their
        consent (same name, form and age status), a copy of their last submitted questionnaire and of
        their interview and training (not the written agreement, not "ready").

        None when the offer is gone or was already answered. A mentor who has already joined the new
        programme by a link keeps that participation (nothing is copied over it).
        """
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            if not await self._decide(conn, programme_id, old.id, AGREED):
                return None
            async with conn.execute(
                "SELECT id FROM participants WHERE programme_id = ? AND user_id = ?",
                (programme_id, old.user_id),
            ) as cur:
                existing = await cur.fetchone()
            if existing is not None:
                new_id = existing["id"]
            else:
                new_id = await insert_with_consent(
                    conn, programme_id, old.user_id, Role.MENTOR, old.form, old.full_name, old.is_minor,
                    consent_version,
                )
                await self._copy_response(conn, old.id, new_id, now)
                await self._copy_readiness(conn, old.id, new_id, now)
        row = await self.db.fetchone("SELECT * FROM participants WHERE id = ?", (new_id,))
        return _participant(row)

    @staticmethod
    async def _decide(
        conn: aiosqlite.Connection, programme_id: int, participant_id: int, decision: str
    ) -> bool:
        async with conn.execute(
            "UPDATE carry_over_offers SET decision = ?, decided_at = ? "
            "WHERE programme_id = ? AND participant_id = ? AND decision IS NULL",
            (decision, ts(utcnow()), programme_id, participant_id),
        ) as cur:
            return cur.rowcount == 1

    @staticmethod
    async def _copy_response(conn: aiosqlite.Connection, old_id: int, new_id: int, now: str) -> None:
        """The last submitted questionnaire, submitted again in the new programme."""
        async with conn.execute(
            "SELECT * FROM responses WHERE participant_id = ? AND status = 'submitted' AND round_id IS NULL "
            "ORDER BY submitted_at DESC, id DESC LIMIT 1",
            (old_id,),
        ) as cur:
            response = await cur.fetchone()
        if response is None:
            return
        async with conn.execute(
            "INSERT INTO responses (participant_id, questionnaire_id, questionnaire_version, status, "
            "started_at, updated_at, submitted_at) VALUES (?, ?, ?, 'submitted', ?, ?, ?)",
            (new_id, response["questionnaire_id"], response["questionnaire_version"], now, now, now),
        ) as cur:
            copy_id = cur.lastrowid
        await conn.execute(
            "INSERT INTO answers (response_id, question_id, value, answered_at) "
            "SELECT ?, question_id, value, answered_at FROM answers WHERE response_id = ?",
            (copy_id, response["id"]),
        )

    @staticmethod
    async def _copy_readiness(conn: aiosqlite.Connection, old_id: int, new_id: int, now: str) -> None:
        """The interview and the training; the written agreement and "ready" are decided again."""
        await conn.execute(
            "INSERT INTO mentor_readiness (participant_id, interview_at, training_course, training_date, "
            "ready, updated_by, updated_at) "
            "SELECT ?, interview_at, training_course, training_date, 0, NULL, ? "
            "FROM mentor_readiness WHERE participant_id = ?",
            (new_id, now, old_id),
        )
