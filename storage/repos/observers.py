"""Observers of programmes, their notes about mentees, and visits of invite links."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, utcnow
from storage.models import Invite, Note, Observer, Role
from storage.repos._convert import parse_ts, ts
from storage.repos.invites import _invite

POSITIONS = ("class_teacher", "psychologist", "social_pedagogue", "other")
WITHDRAWN_AUTHOR = ""  # author_name of the notes of an observer who withdrew (rendered by a gettext text)


def _observer(r: object) -> Observer:
    return Observer(
        r["id"], r["programme_id"], r["user_id"], r["full_name"], r["position"],  # type: ignore[index]
        r["consent_version"], parse_ts(r["created_at"]),  # type: ignore[index,arg-type]
    )


def _note(r: object) -> Note:
    return Note(
        r["id"], r["participant_id"], r["author_id"], r["author_role"],  # type: ignore[index]
        r["author_name"], r["text"], parse_ts(r["created_at"]), r["position"],  # type: ignore[index,arg-type]
    )


# Notes with the position of their author while the author still observes the note's programme.
_NOTES_SQL = (
    "SELECT n.*, o.position FROM notes n JOIN participants p ON p.id = n.participant_id "
    "LEFT JOIN observers o ON n.author_role = 'observer' AND o.user_id = n.author_id "
    "AND o.programme_id = p.programme_id "
)


class ObserverRepo:
    """Observers of programmes, their notes about mentees, and visits of invite links."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- observers -------------------------------------------------------------------------------

    async def add(
        self, programme_id: int, user_id: int, full_name: str, position: str, consent_version: str
    ) -> Observer:
        """Record an observer with their consent (joining again updates the name and position)."""
        await self.db.execute(
            "INSERT INTO observers (programme_id, user_id, full_name, position, consent_version, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (programme_id, user_id) DO UPDATE SET "
            "full_name = excluded.full_name, position = excluded.position, "
            "consent_version = excluded.consent_version",
            (programme_id, user_id, full_name, position, consent_version, ts(utcnow())),
        )
        return await self.find(programme_id, user_id)  # type: ignore[return-value]

    async def get(self, observer_id: int) -> Observer | None:
        """One observer record."""
        row = await self.db.fetchone("SELECT * FROM observers WHERE id = ?", (observer_id,))
        return _observer(row) if row else None

    async def find(self, programme_id: int, user_id: int) -> Observer | None:
        """The user's observer record in a programme."""
        row = await self.db.fetchone(
            "SELECT * FROM observers WHERE programme_id = ? AND user_id = ?", (programme_id, user_id)
        )
        return _observer(row) if row else None

    async def of_user(self, user_id: int) -> list[Observer]:
        """Every programme a user observes, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM observers WHERE user_id = ? ORDER BY id DESC", (user_id,)
        )
        return [_observer(r) for r in rows]

    async def of_programme(self, programme_id: int) -> list[Observer]:
        """A programme's observers by name."""
        rows = await self.db.fetchall(
            "SELECT * FROM observers WHERE programme_id = ? ORDER BY full_name, id", (programme_id,)
        )
        return [_observer(r) for r in rows]

    async def withdraw(self, observer_id: int) -> bool:
        """Delete the observer; their notes stay for the coordinators with the author anonymised."""
        observer = await self.get(observer_id)
        if observer is None:
            return False
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE notes SET author_name = ?, author_id = 0 WHERE author_role = 'observer' "
                "AND author_id = ? AND participant_id IN "
                "(SELECT id FROM participants WHERE programme_id = ?)",
                (WITHDRAWN_AUTHOR, observer.user_id, observer.programme_id),
            )
            await conn.execute("DELETE FROM observers WHERE id = ?", (observer_id,))
        return True

    async def link(self, programme_id: int, now: datetime) -> Invite | None:
        """The programme's newest observer link still in force."""
        row = await self.db.fetchone(
            "SELECT * FROM invites WHERE programme_id = ? AND kind = 'observer' AND revoked_at IS NULL "
            "AND expires_at > ? ORDER BY id DESC LIMIT 1",
            (programme_id, ts(now)),
        )
        return _invite(row) if row else None

    async def revoke_links(self, programme_id: int) -> None:
        """Stop every observer link of the programme from working."""
        await self.db.execute(
            "UPDATE invites SET revoked_at = ? WHERE programme_id = ? AND kind = 'observer' "
            "AND revoked_at IS NULL",
            (ts(utcnow()), programme_id),
        )

    # --- notes -----------------------------------------------------------------------------------

    async def add_note(
        self, participant_id: int, author_id: int, author_role: str, author_name: str, text: str
    ) -> int:
        """Save a note; its id."""
        async with self.db.transaction() as conn, conn.execute(
            "INSERT INTO notes (participant_id, author_id, author_role, author_name, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (participant_id, author_id, author_role, author_name, text, ts(utcnow())),
        ) as cur:
            return int(cur.lastrowid or 0)

    async def notes(
        self, participant_id: int, author_id: int | None = None, offset: int = 0, limit: int = 1000
    ) -> list[Note]:
        """Notes about a participant, newest first (only one observer's own when author_id is given)."""
        sql = _NOTES_SQL + "WHERE n.participant_id = ?"
        params: list[object] = [participant_id]
        if author_id is not None:
            sql += " AND n.author_role = 'observer' AND n.author_id = ?"
            params.append(author_id)
        rows = await self.db.fetchall(sql + " ORDER BY n.id DESC LIMIT ? OFFSET ?", (*params, limit, offset))
        return [_note(r) for r in rows]

    async def count_notes(self, participant_id: int) -> int:
        """How many notes there are about a participant."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM notes WHERE participant_id = ?", (participant_id,)
        )
        return int(row["n"]) if row else 0

    # --- invite visits ---------------------------------------------------------------------------

    async def record_visit(self, programme_id: int, user_id: int, role: Role) -> None:
        """Someone opened a mentor/mentee link (only the Telegram id is kept; the first visit counts)."""
        await self.db.execute(
            "INSERT OR IGNORE INTO invite_visits (programme_id, user_id, role, opened_at) "
            "VALUES (?, ?, ?, ?)",
            (programme_id, user_id, role.value, ts(utcnow())),
        )

    async def invited_count(self, programme_id: int, role: Role) -> int:
        """How many opened the programme's link for the role and have not joined the programme."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM invite_visits v WHERE v.programme_id = ? AND v.role = ? "
            "AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.programme_id = v.programme_id "
            "AND p.user_id = v.user_id)",
            (programme_id, role.value),
        )
        return int(row["n"]) if row else 0
