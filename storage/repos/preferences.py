"""The preference survey: whom each mentee would like as a mentor and each mentor as a mentee."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database, utcnow
from storage.models import Participant, Role
from storage.repos._convert import ts
from storage.repos.participants import _participant
from storage.repos.readiness import ReadinessRepo

MAX_CHOICES = 3


class PreferenceRepo:
    """One survey per programme; up to three ranked choices per participant."""

    def __init__(self, db: Database, readiness: ReadinessRepo) -> None:
        self.db = db
        self.readiness = readiness

    async def open(self, programme_id: int, by: int) -> bool:
        """Open the programme's survey; False when it has already been opened."""
        async with self.db.transaction() as conn, conn.execute(
            "INSERT INTO preference_surveys (programme_id, opened_at, opened_by) VALUES (?, ?, ?) "
            "ON CONFLICT (programme_id) DO NOTHING",
            (programme_id, ts(utcnow()), by),
        ) as cur:
            return cur.rowcount == 1

    async def close(self, programme_id: int) -> None:
        """Close the programme's survey: choices can no longer be changed."""
        await self.db.execute(
            "UPDATE preference_surveys SET closed_at = ? WHERE programme_id = ? AND closed_at IS NULL",
            (ts(utcnow()), programme_id),
        )

    async def is_open(self, programme_id: int) -> bool:
        """Whether the survey was opened and not closed."""
        row = await self.db.fetchone(
            "SELECT 1 FROM preference_surveys WHERE programme_id = ? AND closed_at IS NULL",
            (programme_id,),
        )
        return row is not None

    async def respondents(self, programme_id: int) -> list[Participant]:
        """Active participants of the programme who submitted their questionnaire."""
        rows = await self.db.fetchall(
            "SELECT p.* FROM participants p WHERE p.programme_id = ? AND p.status = 'active' "
            "AND EXISTS (SELECT 1 FROM responses r WHERE r.participant_id = p.id "
            "AND r.status = 'submitted') ORDER BY p.id",
            (programme_id,),
        )
        return [_participant(r) for r in rows]

    async def candidates(self, participant: Participant) -> list[Participant]:
        """Whom the participant may choose: the other side of the same programme and form, active;
        for a mentee only the mentors marked ready."""
        other = Role.MENTOR if participant.role is Role.MENTEE else Role.MENTEE
        rows = await self.db.fetchall(
            "SELECT * FROM participants WHERE programme_id = ? AND role = ? AND form = ? "
            "AND status = 'active' AND id != ? ORDER BY full_name, id",
            (participant.programme_id, other.value, participant.form, participant.id),
        )
        found = [_participant(r) for r in rows]
        if other is Role.MENTOR:
            ready = await self.readiness.ready_mentor_ids(participant.programme_id)
            found = [p for p in found if p.id in ready]
        return found

    async def choices(self, participant_id: int) -> list[int]:
        """The chosen participants' ids, first choice first."""
        rows = await self.db.fetchall(
            "SELECT chosen_id FROM preferences WHERE participant_id = ? ORDER BY rank",
            (participant_id,),
        )
        return [r["chosen_id"] for r in rows]

    async def set_choices(self, participant_id: int, chosen: Sequence[int]) -> None:
        """Replace the participant's choices in one transaction (rank = position, 1-based).

        Raises ValueError for more than three choices or a repeated one.
        """
        ids = list(chosen)
        if len(ids) > MAX_CHOICES or len(set(ids)) != len(ids):
            raise ValueError(f"at most {MAX_CHOICES} different choices")
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM preferences WHERE participant_id = ?", (participant_id,))
            await conn.executemany(
                "INSERT INTO preferences (participant_id, chosen_id, rank, created_at) VALUES (?, ?, ?, ?)",
                [(participant_id, chosen_id, rank, now) for rank, chosen_id in enumerate(ids, 1)],
            )

    async def all_choices(self, programme_id: int) -> dict[int, list[int]]:
        """Every stated preference of the programme: participant id -> chosen ids in rank order."""
        rows = await self.db.fetchall(
            "SELECT f.participant_id, f.chosen_id FROM preferences f "
            "JOIN participants p ON p.id = f.participant_id WHERE p.programme_id = ? "
            "ORDER BY f.participant_id, f.rank",
            (programme_id,),
        )
        result: dict[int, list[int]] = {}
        for r in rows:
            result.setdefault(r["participant_id"], []).append(r["chosen_id"])
        return result
