"""Participants and their consents: nothing personal is written before consent is given."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar

import aiosqlite

from storage.db import Database, utcnow
from storage.models import Consent, Participant, ParticipantStatus, Role
from storage.repos._convert import parse_ts, ts


def _participant(row: object) -> Participant:
    r = row
    return Participant(
        r["id"],  # type: ignore[index]
        r["programme_id"],  # type: ignore[index]
        r["user_id"],  # type: ignore[index]
        Role(r["role"]),  # type: ignore[index]
        r["form"],  # type: ignore[index]
        r["full_name"],  # type: ignore[index]
        bool(r["is_minor"]),  # type: ignore[index]
        ParticipantStatus(r["status"]),  # type: ignore[index]
        parse_ts(r["created_at"]),  # type: ignore[index,arg-type]
    )


async def insert_with_consent(
    conn: aiosqlite.Connection, programme_id: int, user_id: int, role: Role, form: str, full_name: str,
    is_minor: bool, text_version: str,
) -> int:
    """The participant and their own consent, inside the caller's transaction; the new participant's id.
    A minor waits for a parent's confirmation."""
    now = ts(utcnow())
    status = ParticipantStatus.PARENT_PENDING if is_minor else ParticipantStatus.ACTIVE
    async with conn.execute(
        "INSERT INTO participants (programme_id, user_id, role, form, full_name, is_minor, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (programme_id, user_id, role.value, form, full_name, int(is_minor), status.value, now),
    ) as cur:
        participant_id = int(cur.lastrowid or 0)
    await conn.execute(
        "INSERT INTO consents (programme_id, participant_id, role, kind, decision, given_by, text_version, "
        "created_at) VALUES (?, ?, ?, 'self', 'given', ?, ?, ?)",
        (programme_id, participant_id, role.value, user_id, text_version, now),
    )
    return participant_id


class ParticipantRepo:
    """Mentors and mentees of programmes, consents and legal representatives."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enrol(
        self,
        programme_id: int,
        user_id: int,
        role: Role,
        form: str,
        full_name: str,
        is_minor: bool,
        text_version: str,
    ) -> Participant:
        """Record the person's own consent and, in the same transaction, the person."""
        async with self.db.transaction() as conn:
            participant_id = await insert_with_consent(
                conn, programme_id, user_id, role, form, full_name, is_minor, text_version
            )
        return await self.get(participant_id)  # type: ignore[return-value]

    async def get(self, participant_id: int) -> Participant | None:
        """One participant."""
        row = await self.db.fetchone("SELECT * FROM participants WHERE id = ?", (participant_id,))
        return _participant(row) if row else None

    async def find(self, programme_id: int, user_id: int) -> Participant | None:
        """The user's participation in a programme."""
        row = await self.db.fetchone(
            "SELECT * FROM participants WHERE programme_id = ? AND user_id = ?",
            (programme_id, user_id),
        )
        return _participant(row) if row else None

    async def of_user(self, user_id: int) -> list[Participant]:
        """Every participation of a user, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM participants WHERE user_id = ? ORDER BY id DESC", (user_id,)
        )
        return [_participant(r) for r in rows]

    async def of_guardian(self, user_id: int) -> list[Participant]:
        """The minors a user confirmed consent for as legal representative."""
        rows = await self.db.fetchall(
            "SELECT p.* FROM participants p JOIN guardians g ON g.participant_id = p.id "
            "WHERE g.user_id = ? ORDER BY p.id DESC",
            (user_id,),
        )
        return [_participant(r) for r in rows]

    async def guardians(self, participant_id: int) -> list[int]:
        """User ids of a minor's confirmed legal representatives."""
        rows = await self.db.fetchall(
            "SELECT user_id FROM guardians WHERE participant_id = ?", (participant_id,)
        )
        return [r["user_id"] for r in rows]

    async def parent_decision(
        self, participant_id: int, parent_id: int, agree: bool, text_version: str
    ) -> Participant | None:
        """Record a legal representative's decision; a refusal deletes the child's data."""
        now = ts(utcnow())
        participant = await self.get(participant_id)
        if participant is None:
            return None
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO consents (programme_id, participant_id, role, kind, decision, "
                "given_by, text_version, created_at) VALUES (?, ?, ?, 'parent', ?, ?, ?, ?)",
                (participant.programme_id, participant_id, participant.role.value,
                 "given" if agree else "refused", parent_id, text_version, now),
            )
            if agree:
                await conn.execute(
                    "INSERT OR IGNORE INTO guardians (participant_id, user_id, confirmed_at) "
                    "VALUES (?, ?, ?)",
                    (participant_id, parent_id, now),
                )
                await conn.execute(
                    "UPDATE participants SET status = 'active' WHERE id = ?", (participant_id,)
                )
            else:
                await self._forget(conn, participant_id)
        return await self.get(participant_id)

    async def withdraw(self, participant_id: int, text_version: str) -> bool:
        """Delete the person's data and answers, keeping an anonymous record of the withdrawal."""
        participant = await self.get(participant_id)
        if participant is None:
            return False
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO consents (programme_id, participant_id, role, kind, decision, "
                "given_by, text_version, created_at) VALUES (?, NULL, ?, 'self', 'withdrawn', "
                "NULL, ?, ?)",
                (participant.programme_id, participant.role.value, text_version, ts(utcnow())),
            )
            await self._forget(conn, participant_id)
        return True

    @staticmethod
    async def _forget(conn: object, participant_id: int) -> None:
        """Anonymise the consent trail and delete the participant (answers cascade)."""
        await conn.execute(  # type: ignore[attr-defined]
            "UPDATE consents SET given_by = NULL, participant_id = NULL WHERE participant_id = ?",
            (participant_id,),
        )
        await conn.execute(  # type: ignore[attr-defined]
            "DELETE FROM participants WHERE id = ?", (participant_id,)
        )

    async def consents(self, participant_id: int) -> list[Consent]:
        """The consent trail of a participant, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM consents WHERE participant_id = ? ORDER BY id", (participant_id,)
        )
        return [
            Consent(r["id"], r["programme_id"], r["participant_id"], r["role"], r["kind"],
                    r["decision"], r["given_by"], r["text_version"],
                    parse_ts(r["created_at"]))  # type: ignore[arg-type]
            for r in rows
        ]

    async def many(self, ids: Iterable[int]) -> dict[int, Participant]:
        """participant id → participant, in one query (ids of deleted participants are left out)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = await self.db.fetchall(f"SELECT * FROM participants WHERE id IN ({marks})", wanted)
        return {r["id"]: _participant(r) for r in rows}

    async def names(self, ids: Iterable[int]) -> dict[int, str]:
        """participant id → full name, in one query (ids of deleted participants are left out)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = await self.db.fetchall(f"SELECT id, full_name FROM participants WHERE id IN ({marks})", wanted)
        return {r["id"]: r["full_name"] for r in rows}

    async def count_by_role(self, programme_id: int) -> dict[Role, int]:
        """How many mentors and mentees a programme has (every status), zero for a role with none."""
        rows = await self.db.fetchall(
            "SELECT role, COUNT(*) AS n FROM participants WHERE programme_id = ? GROUP BY role",
            (programme_id,),
        )
        counts = dict.fromkeys(Role, 0)
        for r in rows:
            counts[Role(r["role"])] = r["n"]
        return counts

    # The state a coordinator filters the bases by, derived from consent, pairs and questionnaire.
    _STATE_SQL = (
        "SELECT p.*, CASE "
        "WHEN p.status = 'parent_pending' THEN 'parent_pending' "
        "WHEN EXISTS (SELECT 1 FROM pairs x WHERE x.mentor_id = p.id AND x.status = 'active') "
        "OR EXISTS (SELECT 1 FROM pair_members m JOIN pairs x ON x.id = m.pair_id "
        "WHERE m.mentee_id = p.id AND x.status = 'active') THEN 'in_pair' "
        # Looked up per participant of the programme (not aggregated over every response in the database).
        "WHEN EXISTS (SELECT 1 FROM responses r WHERE r.participant_id = p.id AND r.round_id IS NULL "
        "AND r.status = 'submitted') THEN 'without_pair' "
        "WHEN EXISTS (SELECT 1 FROM responses r JOIN answers a ON a.response_id = r.id "
        "WHERE r.participant_id = p.id AND r.round_id IS NULL) THEN 'in_progress' "
        "ELSE 'not_started' END AS state "
        "FROM participants p WHERE p.programme_id = ? AND p.role = ?"
    )
    # Filters of the bases that stand for several derived states.
    _STATE_GROUPS: ClassVar[dict[str, tuple[str, ...]]] = {"submitted": ("in_pair", "without_pair")}

    @classmethod
    def _of_programme_sql(
        cls, programme_id: int, role: Role, state: str | None, form: str | None
    ) -> tuple[str, list[object]]:
        sql = f"SELECT * FROM ({cls._STATE_SQL}) WHERE 1 = 1"
        params: list[object] = [programme_id, role.value]
        if state:
            states = cls._STATE_GROUPS.get(state, (state,))
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            params += states
        if form:
            sql += " AND form = ?"
            params.append(form)
        return sql, params

    async def of_programme(
        self, programme_id: int, role: Role, state: str | None = None, form: str | None = None,
        offset: int = 0, limit: int | None = 8,
    ) -> list[tuple[Participant, str]]:
        """A page (`limit` None: all) of a programme's mentors or mentees by name, each with its derived state
        ('parent_pending' | 'in_pair' | 'without_pair' | 'in_progress' | 'not_started'); the state
        filter also takes 'submitted' (in a pair or without one)."""
        sql, params = self._of_programme_sql(programme_id, role, state, form)
        rows = await self.db.fetchall(
            sql + " ORDER BY full_name, id LIMIT ? OFFSET ?",
            (*params, -1 if limit is None else limit, offset),  # -1: no limit
        )
        return [(_participant(r), r["state"]) for r in rows]

    async def count_of_programme(
        self, programme_id: int, role: Role, state: str | None = None, form: str | None = None
    ) -> int:
        """How many of a programme's mentors or mentees are in the state and form (None: any)."""
        sql, params = self._of_programme_sql(programme_id, role, state, form)
        row = await self.db.fetchone(f"SELECT COUNT(*) AS n FROM ({sql})", tuple(params))
        return int(row["n"]) if row else 0

    async def state_counts(self, programme_id: int, role: Role, form: str | None = None) -> dict[str, int]:
        """How many of a programme's mentors or mentees are in each derived state, in one query."""
        sql, params = self._of_programme_sql(programme_id, role, None, form)
        rows = await self.db.fetchall(
            f"SELECT state, COUNT(*) AS n FROM ({sql}) GROUP BY state", tuple(params)
        )
        return {r["state"]: int(r["n"]) for r in rows}

    async def history(self, participant_id: int) -> list[tuple[datetime, str, str]]:
        """What happened to a participant, oldest first: (when, event, detail), derived from the records.

        Events: joined, consent_given, parent_given, parent_refused, questionnaire_started,
        questionnaire_submitted, interview, agreement, readiness_ready, readiness_not_ready, preferences
        (detail: how many), proposed / accepted / rejected (detail: the partner), pair_approved,
        pair_ended, note (detail: the author's name, '' for a withdrawn observer)."""
        events: list[tuple[datetime | None, str, str]] = []
        one = (participant_id,)
        row = await self.db.fetchone("SELECT created_at FROM participants WHERE id = ?", one)
        if row is None:
            return []
        events.append((parse_ts(row["created_at"]), "joined", ""))
        for r in await self.db.fetchall(
            "SELECT kind, decision, created_at FROM consents WHERE participant_id = ?", one
        ):
            kind = "consent_given" if r["kind"] == "self" else f"parent_{r['decision']}"
            events.append((parse_ts(r["created_at"]), kind, ""))
        for r in await self.db.fetchall(
            "SELECT started_at, submitted_at FROM responses WHERE participant_id = ? AND round_id IS NULL",
            one
        ):
            events.append((parse_ts(r["started_at"]), "questionnaire_started", ""))
            events.append((parse_ts(r["submitted_at"]), "questionnaire_submitted", ""))
        r = await self.db.fetchone("SELECT * FROM mentor_readiness WHERE participant_id = ?", one)
        if r is not None:
            events.append((parse_ts(r["interview_at"]), "interview", ""))
            events.append((parse_ts(r["agreement_at"]), "agreement", ""))
            ready = "readiness_ready" if r["ready"] else "readiness_not_ready"
            events.append((parse_ts(r["updated_at"]), ready, ""))
        r = await self.db.fetchone(
            "SELECT MIN(created_at) AS at, COUNT(*) AS n FROM preferences WHERE participant_id = ?", one
        )
        if r is not None and r["n"]:
            events.append((parse_ts(r["at"]), "preferences", str(r["n"])))
        events += await self._matching_history(participant_id)
        for r in await self.db.fetchall(
            "SELECT author_name, created_at FROM notes WHERE participant_id = ?", one
        ):
            events.append((parse_ts(r["created_at"]), "note", r["author_name"]))
        order = {"joined": 0, "consent_given": 1}
        present = [(at, kind, detail) for at, kind, detail in events if at is not None]
        present.sort(key=lambda e: (e[0], order.get(e[1], 2)))
        return present  # type: ignore[return-value]

    async def _matching_history(self, participant_id: int) -> list[tuple[datetime | None, str, str]]:
        """Proposals, decisions and approved pairs of a participant (either side)."""
        events: list[tuple[datetime | None, str, str]] = []
        for r in await self.db.fetchall(
            "SELECT m.created_at, m.decided_at, m.status, o.full_name AS partner FROM match_proposals m "
            "JOIN participants o ON o.id = CASE WHEN m.mentor_id = ? THEN m.mentee_id ELSE m.mentor_id END "
            "WHERE m.mentor_id = ? OR m.mentee_id = ?",
            (participant_id, participant_id, participant_id),
        ):
            events.append((parse_ts(r["created_at"]), "proposed", r["partner"]))
            if r["status"] in ("accepted", "rejected"):
                events.append((parse_ts(r["decided_at"]), r["status"], r["partner"]))
        for r in await self.db.fetchall(
            "SELECT x.approved_at, x.ended_at FROM pairs x WHERE x.mentor_id = ? OR x.id IN "
            "(SELECT pair_id FROM pair_members WHERE mentee_id = ?)",
            (participant_id, participant_id),
        ):
            events.append((parse_ts(r["approved_at"]), "pair_approved", ""))
            events.append((parse_ts(r["ended_at"]), "pair_ended", ""))
        return events

    async def consented(
        self, programme_id: int, role: Role, offset: int = 0, limit: int = 8
    ) -> tuple[list[Participant], int]:
        """A page of a programme's people of the role whose consent is complete (no parent pending), by
        name, and how many there are in all."""
        where = "WHERE programme_id = ? AND role = ? AND status = 'active'"
        rows = await self.db.fetchall(
            f"SELECT * FROM participants {where} ORDER BY full_name, id LIMIT ? OFFSET ?",
            (programme_id, role.value, limit, offset),
        )
        total = await self.db.fetchone(f"SELECT COUNT(*) AS n FROM participants {where}",
                                       (programme_id, role.value))
        return [_participant(r) for r in rows], int(total["n"]) if total else 0
