"""Organisations and their coordinators."""

from __future__ import annotations

from storage.db import Database, utcnow
from storage.models import Coordinator, Organisation
from storage.repos._convert import ts


def _org(row: object) -> Organisation:
    return Organisation(row["id"], row["parent_id"], row["name"], row["timezone"])  # type: ignore[index]


class OrganisationRepo:
    """Schools, colleges and departments, and who coordinates them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, name: str, timezone: str, created_by: int, parent_id: int | None = None
    ) -> Organisation:
        """Add an organisation."""
        org_id = await self.db.execute(
            "INSERT INTO organisations (parent_id, name, timezone, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (parent_id, name, timezone, created_by, ts(utcnow())),
        )
        return Organisation(org_id, parent_id, name, timezone)

    async def get(self, org_id: int) -> Organisation | None:
        """One organisation."""
        row = await self.db.fetchone("SELECT * FROM organisations WHERE id = ?", (org_id,))
        return _org(row) if row else None

    async def list_all(self) -> list[Organisation]:
        """Every organisation, by name."""
        rows = await self.db.fetchall("SELECT * FROM organisations ORDER BY name, id")
        return [_org(r) for r in rows]

    async def of_coordinator(self, user_id: int) -> list[Organisation]:
        """Organisations the user coordinates."""
        rows = await self.db.fetchall(
            "SELECT o.* FROM organisations o JOIN coordinators c ON c.organisation_id = o.id "
            "WHERE c.user_id = ? ORDER BY o.name, o.id",
            (user_id,),
        )
        return [_org(r) for r in rows]

    async def add_coordinator(
        self, org_id: int, user_id: int, full_name: str, consent_version: str
    ) -> bool:
        """Appoint a coordinator; False when they already were one."""
        async with self.db.transaction() as conn, conn.execute(
            "INSERT OR IGNORE INTO coordinators "
            "(organisation_id, user_id, full_name, consent_version, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (org_id, user_id, full_name, consent_version, ts(utcnow())),
        ) as cur:
            return cur.rowcount == 1

    async def coordinators(self, org_id: int) -> list[Coordinator]:
        """The coordinators of an organisation."""
        rows = await self.db.fetchall(
            "SELECT id, organisation_id, user_id, full_name FROM coordinators "
            "WHERE organisation_id = ? ORDER BY id",
            (org_id,),
        )
        return [Coordinator(r["id"], r["organisation_id"], r["user_id"], r["full_name"]) for r in rows]

    async def is_coordinator(self, user_id: int, org_id: int) -> bool:
        """Whether the user coordinates this organisation."""
        row = await self.db.fetchone(
            "SELECT 1 FROM coordinators WHERE user_id = ? AND organisation_id = ?",
            (user_id, org_id),
        )
        return row is not None
