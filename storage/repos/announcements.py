"""A coordinator's announcements to a segment of a programme."""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from storage.db import Database, utcnow
from storage.models import Announcement
from storage.repos._convert import parse_ts, ts

SEGMENTS = ("mentors", "mentees", "parents", "observers", "unfinished")

# Telegram ids of each segment of a programme (:p is the programme). Participants count once they
# are active (a minor's parent confirmed); parents are the confirmed guardians of its participants.
_SEGMENT_SQL = {
    "mentors": "SELECT user_id FROM participants WHERE programme_id = :p AND role = 'mentor' "
    "AND status = 'active'",
    "mentees": "SELECT user_id FROM participants WHERE programme_id = :p AND role = 'mentee' "
    "AND status = 'active'",
    "parents": "SELECT g.user_id FROM guardians g JOIN participants pt ON pt.id = g.participant_id "
    "WHERE pt.programme_id = :p",
    "observers": "SELECT user_id FROM observers WHERE programme_id = :p",
    "unfinished": "SELECT pt.user_id FROM participants pt WHERE pt.programme_id = :p "
    "AND pt.status = 'active' AND NOT EXISTS (SELECT 1 FROM responses r "
    "WHERE r.participant_id = pt.id AND r.status = 'submitted' AND r.round_id IS NULL)",
}


class AnnouncementRepo:
    """A coordinator's announcements to a segment of a programme."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def recipients(self, programme_id: int, segment: str) -> list[tuple[int, str | None]]:
        """(Telegram id, language: chosen, else Telegram's, else None) of everyone in the segment."""
        if segment not in _SEGMENT_SQL:
            raise ValueError(f"unknown segment: {segment}")
        rows = await _rows(
            self.db,
            f"SELECT DISTINCT s.user_id, COALESCE(u.locale, u.tg_locale) FROM ({_SEGMENT_SQL[segment]}) s "
            "LEFT JOIN users u ON u.id = s.user_id ORDER BY s.user_id",
            {"p": programme_id},
        )
        return [(int(r[0]), r[1]) for r in rows]

    async def segment_counts(self, programme_id: int) -> dict[str, int]:
        """Segment → number of distinct recipients."""
        counts = {}
        for segment, sql in _SEGMENT_SQL.items():
            row = await self.db.fetchone(
                f"SELECT COUNT(DISTINCT user_id) FROM ({sql})", {"p": programme_id}
            )
            counts[segment] = int(row[0]) if row else 0
        return counts

    async def create(
        self,
        conn: aiosqlite.Connection,
        programme_id: int,
        segment: str,
        text: str,
        created_by: int,
        recipients: int,
    ) -> int:
        """Record an announcement inside the caller's open transaction; returns its id."""
        async with conn.execute(
            "INSERT INTO announcements (programme_id, segment, text, created_by, created_at, recipients) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (programme_id, segment, text, created_by, ts(utcnow()), recipients),
        ) as cur:
            return int(cur.lastrowid or 0)

    async def get(self, announcement_id: int) -> Announcement | None:
        """One announcement."""
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM announcements WHERE id = ?", (announcement_id,))
        return _announcement(row) if row else None

    async def of_programme(self, programme_id: int, limit: int = 10) -> list[Announcement]:
        """The newest announcements of a programme, newest first."""
        rows = await _rows(
            self.db,
            f"SELECT {_COLUMNS} FROM announcements WHERE programme_id = ? ORDER BY id DESC LIMIT ?",
            (programme_id, limit),
        )
        return [_announcement(r) for r in rows]


_COLUMNS = "id, programme_id, segment, text, created_by, created_at, recipients"


def _announcement(row: Sequence) -> Announcement:
    created = parse_ts(row[5])
    assert created is not None
    return Announcement(row[0], row[1], row[2], row[3], row[4], created, row[6])


async def _rows(db: Database, sql: str, params: tuple | dict = ()) -> list:
    """All rows of a query in one step on the database thread, so that a write by another task on the
    shared connection cannot land between the query's first and later rows (and move rows under it)."""
    return list(await db.conn.execute_fetchall(sql, params))
