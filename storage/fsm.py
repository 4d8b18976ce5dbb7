"""aiogram FSM storage in the bot's SQLite database, so a restart resumes every conversation."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey

from storage.db import Database

CACHED_KEYS = 10_000  # conversations whose state is also kept in memory (the most recently used ones)


class SQLiteStorage(BaseStorage):
    """FSM state and data as rows of the `fsm` table.

    Every change is written to the database before the call returns. The rows of recent conversations are also
    kept in memory (this storage is the only writer of the table), so reading the state of an update costs no
    query, and setting a state that is already stored writes nothing."""

    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._rows: OrderedDict[str, tuple[str | None, str]] = OrderedDict()  # key -> (state, data as JSON)
        self._writes = 0  # writes begun: a read that overlapped one does not fill the memory

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        """Store the state (None clears it)."""
        value = state.state if isinstance(state, State) else state
        built = self.key_builder.build(key)
        cached = self._rows.get(built)
        if cached is not None and cached[0] == value:
            return
        if cached is not None:
            self._remember(built, (value, cached[1]))
        await self._write(
            built,
            "INSERT INTO fsm (key, state) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state",
            (built, value),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        """The stored state, if any."""
        return (await self._row(self.key_builder.build(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Replace the stored data."""
        built = self.key_builder.build(key)
        value = json.dumps(dict(data), ensure_ascii=False)
        cached = self._rows.get(built)
        if cached is not None and cached[1] == value:
            return
        if cached is not None:
            self._remember(built, (cached[0], value))
        await self._write(
            built,
            "INSERT INTO fsm (key, data) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data",
            (built, value),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The stored data (empty when none)."""
        return json.loads((await self._row(self.key_builder.build(key)))[1])  # type: ignore[no-any-return]

    async def forget_user(self, user_id: int) -> None:
        """Drop every conversation state of a user (after their data is deleted)."""
        prefix = f"fsm:{user_id}:{user_id}:"
        for built in [k for k in self._rows if k.startswith(prefix)]:
            del self._rows[built]
        self._writes += 1
        await self.db.execute("DELETE FROM fsm WHERE key LIKE ?", (prefix + "%",))

    async def close(self) -> None:
        """The database is closed by its owner."""

    async def _row(self, built: str) -> tuple[str | None, str]:
        """(state, data as JSON) of a key, from memory or else from the database."""
        cached = self._rows.get(built)
        if cached is not None:
            self._rows.move_to_end(built)
            return cached
        writes = self._writes
        row = await self.db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (built,))
        found = (row["state"], row["data"]) if row else (None, "{}")
        if writes == self._writes:
            self._remember(built, found)
        return found

    def _remember(self, built: str, row: tuple[str | None, str]) -> None:
        self._rows[built] = row
        self._rows.move_to_end(built)
        while len(self._rows) > CACHED_KEYS:
            self._rows.popitem(last=False)

    async def _write(self, built: str, sql: str, params: tuple[Any, ...]) -> None:
        """Write through to the database; if the write fails, memory forgets the key."""
        self._writes += 1
        try:
            await self.db.execute(sql, params)
        except BaseException:
            self._rows.pop(built, None)
            raise
