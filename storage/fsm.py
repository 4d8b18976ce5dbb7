"""aiogram FSM storage in the bot's SQLite database, so a restart resumes every conversation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey

from storage.db import Database


class SQLiteStorage(BaseStorage):
    """FSM state and data as rows of the `fsm` table."""

    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        """Store the state (None clears it)."""
        value = state.state if isinstance(state, State) else state
        await self.db.execute(
            "INSERT INTO fsm (key, state) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state",
            (self.key_builder.build(key), value),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        """The stored state, if any."""
        row = await self.db.fetchone(
            "SELECT state FROM fsm WHERE key = ?", (self.key_builder.build(key),)
        )
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the stored data."""
        await self.db.execute(
            "INSERT INTO fsm (key, data) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data",
            (self.key_builder.build(key), json.dumps(dict(data), ensure_ascii=False)),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The stored data (empty when none)."""
        row = await self.db.fetchone(
            "SELECT data FROM fsm WHERE key = ?", (self.key_builder.build(key),)
        )
        return json.loads(row["data"]) if row else {}

    async def forget_user(self, user_id: int) -> None:
        """Drop every conversation state of a user (after their data is deleted)."""
        await self.db.execute(
            "DELETE FROM fsm WHERE key LIKE ?", (f"fsm:{user_id}:{user_id}:%",)
        )

    async def close(self) -> None:
        """The database is closed by its owner."""
