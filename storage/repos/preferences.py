"""The preference survey: whom each mentee would like as a mentor and each mentor as a mentee."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, utcnow
from storage.models import OutboxMessage, Participant, Role
from storage.repos._convert import parse_ts, ts
from storage.repos.outbox import OutboxRepo
from storage.repos.participants import _participant
from storage.repos.readiness import ReadinessRepo

MAX_CHOICES = 3

# Active participants of a programme who submitted the questionnaire and have someone to choose: the
# other side of their form, active (for a mentee, a mentor marked ready). `p` is the participant.
_ASKED_SQL = (
    "p.programme_id = ? AND p.status = 'active' "
    "AND EXISTS (SELECT 1 FROM responses r WHERE r.participant_id = p.id AND r.status = 'submitted' "
    "AND r.round_id IS NULL) "
    "AND EXISTS (SELECT 1 FROM participants c LEFT JOIN mentor_readiness m ON m.participant_id = c.id "
    "WHERE c.programme_id = p.programme_id AND c.form = p.form AND c.role != p.role "
    "AND c.status = 'active' AND (p.role = 'mentor' OR m.ready = 1))"
)
_ANSWERED_SQL = "EXISTS (SELECT 1 FROM preferences f WHERE f.participant_id = p.id)"


@dataclass(frozen=True)
class Survey:
    """When a programme's preference survey was opened and closed (None: still open)."""

    programme_id: int
    opened_at: datetime
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        """Opened and not closed."""
        return self.closed_at is None


@dataclass(frozen=True)
class Progress:
    """Of those asked to choose (per role), how many saved a choice."""

    asked: int
    answered: int


class PreferenceRepo:
    """One survey per programme; up to three ranked choices per participant."""

    def __init__(self, db: Database, readiness: ReadinessRepo, outbox: OutboxRepo) -> None:
        self.db = db
        self.readiness = readiness
        self.outbox = outbox

    async def open(self, programme_id: int, by: int, messages: Sequence[OutboxMessage] = ()) -> bool:
        """Open the programme's survey and queue the messages, in one transaction; False (and nothing
        queued) when it has already been opened."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "INSERT INTO preference_surveys (programme_id, opened_at, opened_by) VALUES (?, ?, ?) "
                "ON CONFLICT (programme_id) DO NOTHING",
                (programme_id, ts(utcnow()), by),
            ) as cur:
                opened = cur.rowcount == 1
            if opened:
                await self.outbox.enqueue(messages, conn)
            return opened

    async def close(self, programme_id: int) -> bool:
        """Close the programme's survey: choices can no longer be changed. False when it was not open."""
        async with self.db.transaction() as conn, conn.execute(
            "UPDATE preference_surveys SET closed_at = ? WHERE programme_id = ? AND closed_at IS NULL",
            (ts(utcnow()), programme_id),
        ) as cur:
            return cur.rowcount == 1

    async def survey(self, programme_id: int) -> Survey | None:
        """The programme's survey (None: never opened)."""
        row = await self.db.fetchone(
            "SELECT * FROM preference_surveys WHERE programme_id = ?", (programme_id,)
        )
        if row is None:
            return None
        opened = parse_ts(row["opened_at"])
        return Survey(programme_id, opened, parse_ts(row["closed_at"]))  # type: ignore[arg-type]

    async def progress(self, programme_id: int) -> dict[Role, Progress]:
        """Per role: how many participants were asked to choose and how many saved a choice."""
        rows = await self.db.fetchall(
            f"SELECT p.role, COUNT(*) AS asked, SUM({_ANSWERED_SQL}) AS answered "
            f"FROM participants p WHERE {_ASKED_SQL} GROUP BY p.role",
            (programme_id,),
        )
        result = {role: Progress(0, 0) for role in Role}
        for r in rows:
            result[Role(r["role"])] = Progress(r["asked"], r["answered"] or 0)
        return result

    async def not_answered(self, programme_id: int) -> list[Participant]:
        """Participants asked to choose who have not saved a choice yet."""
        rows = await self.db.fetchall(
            f"SELECT p.* FROM participants p WHERE {_ASKED_SQL} AND NOT {_ANSWERED_SQL} ORDER BY p.id",
            (programme_id,),
        )
        return [_participant(r) for r in rows]

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
            "AND r.status = 'submitted' AND r.round_id IS NULL) ORDER BY p.id",
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
