"""Invite tokens behind deep links."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from storage.db import Database, utcnow
from storage.models import Invite, InviteKind
from storage.repos._convert import parse_ts, ts

TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters: fits Telegram's 64-character start payload


def _invite(row: object) -> Invite:
    r = row
    return Invite(
        r["id"],  # type: ignore[index]
        r["token"],  # type: ignore[index]
        InviteKind(r["kind"]),  # type: ignore[index]
        r["organisation_id"],  # type: ignore[index]
        r["programme_id"],  # type: ignore[index]
        r["participant_id"],  # type: ignore[index]
        parse_ts(r["expires_at"]),  # type: ignore[index,arg-type]
        parse_ts(r["revoked_at"]),  # type: ignore[index]
        parse_ts(r["used_at"]),  # type: ignore[index]
    )


class InviteRepo:
    """Unguessable, expiring, revocable tokens."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        kind: InviteKind,
        org_id: int,
        created_by: int,
        ttl: timedelta,
        programme_id: int | None = None,
        participant_id: int | None = None,
    ) -> Invite:
        """Issue a new token."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = utcnow()
        await self.db.execute(
            "INSERT INTO invites (token, kind, organisation_id, programme_id, participant_id, "
            "created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (token, kind.value, org_id, programme_id, participant_id, created_by, ts(now),
             ts(now + ttl)),
        )
        return await self.by_token(token)  # type: ignore[return-value]

    async def by_token(self, token: str) -> Invite | None:
        """The invite behind a token, usable or not."""
        row = await self.db.fetchone("SELECT * FROM invites WHERE token = ?", (token,))
        return _invite(row) if row else None

    async def get(self, invite_id: int) -> Invite | None:
        """One invite by id."""
        row = await self.db.fetchone("SELECT * FROM invites WHERE id = ?", (invite_id,))
        return _invite(row) if row else None

    async def active_for_programme(self, programme_id: int, now: datetime) -> list[Invite]:
        """The programme's mentor and mentee links still in force, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM invites WHERE programme_id = ? AND kind IN ('mentor', 'mentee') "
            "AND revoked_at IS NULL AND expires_at > ? ORDER BY id DESC",
            (programme_id, ts(now)),
        )
        return [_invite(r) for r in rows]

    async def revoke(self, invite_id: int) -> None:
        """Stop a token from working."""
        await self.db.execute(
            "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (ts(utcnow()), invite_id),
        )

    async def use_once(self, invite_id: int, user_id: int) -> bool:
        """Take a single-use invite; False when someone already took it."""
        async with self.db.transaction() as conn, conn.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
            (ts(utcnow()), user_id, invite_id),
        ) as cur:
            return cur.rowcount == 1

    async def for_participant(self, participant_id: int) -> list[Invite]:
        """Parent links of a minor that are still open (not revoked, not used)."""
        rows = await self.db.fetchall(
            "SELECT * FROM invites WHERE participant_id = ? AND revoked_at IS NULL AND used_at IS NULL",
            (participant_id,),
        )
        return [_invite(r) for r in rows]
