"""Processed update ids: each update is handled once, however often it is delivered."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, utcnow
from storage.repos._convert import ts


class UpdateRepo:
    """Claims update ids."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, update_id: int) -> bool:
        """True the first time an update id is seen, False for a redelivery."""
        return await self.db.execute_count(
            "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
            (update_id, ts(utcnow())),
        ) == 1

    async def release(self, update_id: int) -> None:
        """Forget a claim whose handling failed, so a redelivery is tried again."""
        await self.db.execute("DELETE FROM processed_updates WHERE update_id = ?", (update_id,))

    async def prune(self, before: datetime) -> int:
        """Drop claims older than `before` (Telegram keeps undelivered updates for 24 hours)."""
        return await self.db.execute_count(
            "DELETE FROM processed_updates WHERE processed_at < ?", (ts(before),)
        )
