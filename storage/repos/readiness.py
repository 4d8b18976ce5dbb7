"""Mentor readiness: interview, training, written agreement and the coordinator's decision."""

from __future__ import annotations

from datetime import date

from storage.db import Database, utcnow
from storage.models import Readiness
from storage.repos._convert import parse_date, parse_ts, ts

FLAGS = ("interview", "agreement", "ready")


def _readiness(r: object) -> Readiness:
    row = r
    return Readiness(
        row["participant_id"],  # type: ignore[index]
        parse_ts(row["interview_at"]),  # type: ignore[index]
        row["training_course"],  # type: ignore[index]
        parse_date(row["training_date"]) if row["training_date"] else None,  # type: ignore[index]
        parse_ts(row["agreement_at"]),  # type: ignore[index]
        bool(row["ready"]),  # type: ignore[index]
        row["updated_by"],  # type: ignore[index]
        parse_ts(row["updated_at"]),  # type: ignore[index,arg-type]
    )


class ReadinessRepo:
    """One readiness record per mentor, created on the first change."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, participant_id: int) -> Readiness | None:
        """The mentor's record (None when nothing was recorded yet)."""
        row = await self.db.fetchone(
            "SELECT * FROM mentor_readiness WHERE participant_id = ?", (participant_id,)
        )
        return _readiness(row) if row else None

    async def set_flag(self, participant_id: int, flag: str, value: bool, by: int) -> Readiness:
        """Set or clear the interview, the agreement or the decision; clearing the interview clears it.

        Raises ValueError for an unknown flag or for "ready" without a held interview.
        """
        if flag not in FLAGS:
            raise ValueError(f"unknown readiness flag {flag!r}")
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            await self._ensure(conn, participant_id, by, now)
            if flag == "ready":
                async with conn.execute(
                    "SELECT interview_at FROM mentor_readiness WHERE participant_id = ?",
                    (participant_id,),
                ) as cur:
                    row = await cur.fetchone()
                if value and (row is None or row["interview_at"] is None):
                    raise ValueError("a mentor can be ready only after the interview")
                await conn.execute(
                    "UPDATE mentor_readiness SET ready = ?, updated_by = ?, updated_at = ? "
                    "WHERE participant_id = ?",
                    (int(value), by, now, participant_id),
                )
            else:
                column = "interview_at" if flag == "interview" else "agreement_at"
                extra = "" if value or flag != "interview" else ", ready = 0"
                await conn.execute(
                    f"UPDATE mentor_readiness SET {column} = ?, updated_by = ?, updated_at = ?{extra} "
                    "WHERE participant_id = ?",
                    (now if value else None, by, now, participant_id),
                )
        return await self.get(participant_id)  # type: ignore[return-value]

    async def set_training(self, participant_id: int, course: str, on: date, by: int) -> Readiness:
        """Record the training course the mentor attended and its date."""
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            await self._ensure(conn, participant_id, by, now)
            await conn.execute(
                "UPDATE mentor_readiness SET training_course = ?, training_date = ?, updated_by = ?, "
                "updated_at = ? WHERE participant_id = ?",
                (course, on.isoformat(), by, now, participant_id),
            )
        return await self.get(participant_id)  # type: ignore[return-value]

    async def ready_mentor_ids(self, programme_id: int) -> set[int]:
        """Participant ids of the programme's mentors the coordinator marked ready to be matched."""
        rows = await self.db.fetchall(
            "SELECT r.participant_id FROM mentor_readiness r "
            "JOIN participants p ON p.id = r.participant_id "
            "WHERE p.programme_id = ? AND p.role = 'mentor' AND r.ready = 1",
            (programme_id,),
        )
        return {r["participant_id"] for r in rows}

    @staticmethod
    async def _ensure(conn: object, participant_id: int, by: int, now: str) -> None:
        await conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO mentor_readiness (participant_id, updated_by, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (participant_id) DO NOTHING",
            (participant_id, by, now),
        )
