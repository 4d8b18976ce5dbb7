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


    async def set_parent(self, org_id: int, parent_id: int | None) -> None:
        """Place an organisation under a department (None: independent)."""
        await self.db.execute("UPDATE organisations SET parent_id = ? WHERE id = ?", (parent_id, org_id))

    async def children(self, org_id: int) -> list[Organisation]:
        """The organisations directly under this one, by name."""
        rows = await self.db.fetchall(
            "SELECT * FROM organisations WHERE parent_id = ? ORDER BY name, id", (org_id,)
        )
        return [_org(r) for r in rows]

    async def subtree_ids(self, org_id: int) -> set[int]:
        """This organisation and every one below it."""
        rows = await self.db.fetchall(
            "WITH RECURSIVE tree(id) AS (SELECT ? UNION SELECT o.id FROM organisations o "
            "JOIN tree t ON o.parent_id = t.id) SELECT id FROM tree",
            (org_id,),
        )
        return {r["id"] for r in rows}

    async def managed_by(self, user_id: int) -> list[Organisation]:
        """Organisations a coordinator runs: their own and every one below them."""
        rows = await self.db.fetchall(
            "WITH RECURSIVE tree(id) AS (SELECT organisation_id FROM coordinators WHERE user_id = ? "
            "UNION SELECT o.id FROM organisations o JOIN tree t ON o.parent_id = t.id) "
            "SELECT o.* FROM organisations o JOIN tree t ON t.id = o.id ORDER BY o.name, o.id",
            (user_id,),
        )
        return [_org(r) for r in rows]

    async def manages(self, user_id: int, org_id: int) -> bool:
        """Whether the user coordinates this organisation or a department above it."""
        row = await self.db.fetchone(
            "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM organisations WHERE id = ? "
            "UNION SELECT o.id, o.parent_id FROM organisations o JOIN up ON o.id = up.parent_id) "
            "SELECT 1 FROM coordinators c JOIN up ON c.organisation_id = up.id WHERE c.user_id = ? LIMIT 1",
            (org_id, user_id),
        )
        return row is not None
