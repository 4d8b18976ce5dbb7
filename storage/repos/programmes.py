"""Mentoring programmes."""

from __future__ import annotations

import json
from datetime import date

import aiosqlite

from storage.db import Database, utcnow
from storage.models import Programme
from storage.repos._convert import parse_date, ts


def _programme(row: object) -> Programme:
    r = row
    return Programme(
        r["id"],  # type: ignore[index]
        r["organisation_id"],  # type: ignore[index]
        r["title"],  # type: ignore[index]
        tuple(json.loads(r["forms"])),  # type: ignore[index]
        parse_date(r["start_date"]),  # type: ignore[index]
        parse_date(r["end_date"]),  # type: ignore[index]
        r["retention_days"],  # type: ignore[index]
        r["previous_id"],  # type: ignore[index]
    )


class ProgrammeRepo:
    """Programmes of organisations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        org_id: int,
        title: str,
        forms: list[str],
        start: date,
        end: date,
        created_by: int,
    ) -> Programme:
        """Add a programme."""
        programme_id = await self.db.execute(
            "INSERT INTO programmes "
            "(organisation_id, title, forms, start_date, end_date, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (org_id, title, json.dumps(forms), start.isoformat(), end.isoformat(), created_by,
             ts(utcnow())),
        )
        return await self.get(programme_id)  # type: ignore[return-value]

    async def create_next(
        self, conn: aiosqlite.Connection, previous: Programme, title: str, start: date, end: date,
        created_by: int,
    ) -> int | None:
        """Inside the caller's transaction: the programme started again from `previous` (same
        organisation, forms and retention). None when `previous` was already started again."""
        async with conn.execute("SELECT 1 FROM programmes WHERE previous_id = ?", (previous.id,)) as cur:
            if await cur.fetchone() is not None:
                return None
        async with conn.execute(
            "INSERT INTO programmes (organisation_id, title, forms, start_date, end_date, retention_days, "
            "previous_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (previous.organisation_id, title, json.dumps(list(previous.forms)), start.isoformat(),
             end.isoformat(), previous.retention_days, previous.id, created_by, ts(utcnow())),
        ) as cur:
            return cur.lastrowid

    async def get(self, programme_id: int) -> Programme | None:
        """One programme."""
        row = await self.db.fetchone("SELECT * FROM programmes WHERE id = ?", (programme_id,))
        return _programme(row) if row else None

    async def next_of(self, programme_id: int) -> Programme | None:
        """The programme started again from this one, if any."""
        row = await self.db.fetchone(
            "SELECT * FROM programmes WHERE previous_id = ? ORDER BY id LIMIT 1", (programme_id,)
        )
        return _programme(row) if row else None

    async def of_organisation(self, org_id: int) -> list[Programme]:
        """An organisation's programmes, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM programmes WHERE organisation_id = ? ORDER BY start_date DESC, id DESC",
            (org_id,),
        )
        return [_programme(r) for r in rows]
