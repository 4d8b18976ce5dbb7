"""The aiosqlite connection: pragmas, write transactions and versioned migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


@dataclass(frozen=True)
class Migration:
    """One schema version: the SQL that reaches it and the SQL that leaves it."""

    version: int
    name: str
    up: str
    down: str


def load_migrations() -> list[Migration]:
    """Read `storage/migrations/NNNN_name.up.sql` / `.down.sql` pairs in version order."""
    folder = resources.files("storage") / "migrations"
    found: list[Migration] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".up.sql"):
            continue
        stem = entry.name.removesuffix(".up.sql")
        version, _, name = stem.partition("_")
        down = folder / f"{stem}.down.sql"
        found.append(Migration(int(version), name, entry.read_text("utf-8"), down.read_text("utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {versions}")
    return found


def utcnow() -> datetime:
    """The current time in UTC (one place, so tests can reason about it)."""
    return datetime.now(UTC)


class Database:
    """One aiosqlite connection shared by the process, with serialised write transactions."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._write_lock = asyncio.Lock()
        # Rows a repository keeps in memory because it alone writes them (users): shared by every repository
        # on this connection, so that two `Repositories` of one database never disagree.
        self.memo: dict[str, Any] = {}

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database file, set pragmas and migrate to the newest schema."""
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous = NORMAL")
        db = cls(conn)
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run statements atomically: committed on exit, rolled back on any exception."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    # Each statement below is one trip to the connection's thread: the statement and what is read of it
    # (its row, last row id or row count) run there together. Through aiosqlite's cursors a query costs three
    # trips (execute, fetch, close) and a write two, at ~65 µs of CPU each; the answer path made ~9.5 trips
    # per update, now ~4.7 (benchmarks/README.md, answer path).

    async def _on_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the sqlite3 connection on aiosqlite's thread, queued with its other requests."""
        return await self.conn._execute(work, self.conn._conn)  # aiosqlite's own runner (its cursors use it)

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        """Run a query and return its first row."""
        return await self._on_thread(lambda c: c.execute(sql, params).fetchone())

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        """Run a query and return all rows, read in one step: another task's write on the shared connection
        cannot land between the query and its rows (which could show a row twice)."""
        return await self._on_thread(lambda c: c.execute(sql, params).fetchall())

    async def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """Run one writing statement in its own transaction; return the last row id."""
        lastrowid, _count = await self._single(sql, params)
        return lastrowid or 0

    async def execute_count(self, sql: str, params: tuple | dict = ()) -> int:
        """Run one writing statement in its own transaction; return how many rows it changed."""
        _lastrowid, count = await self._single(sql, params)
        return count

    async def execute_returning(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        """Run one writing statement with a RETURNING clause in its own transaction; return its rows."""
        async with self._write_lock:
            assert not self.conn.in_transaction, "a statement would join another task's transaction"
            return await self._on_thread(lambda c: c.execute(sql, params).fetchall())

    async def _single(self, sql: str, params: tuple | dict) -> tuple[int | None, int]:
        """One statement outside BEGIN ... COMMIT: SQLite runs it as a transaction of its own, committed
        when it returns; the write lock keeps it out of another task's open transaction on the shared
        connection. Its last row id and row count."""
        def run(c: sqlite3.Connection) -> tuple[int | None, int]:
            cursor = c.execute(sql, params)
            return cursor.lastrowid, cursor.rowcount

        async with self._write_lock:
            assert not self.conn.in_transaction, "a statement would join another task's transaction"
            return await self._on_thread(run)

    async def schema_version(self) -> int:
        """The version recorded in `PRAGMA user_version`."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self, target: int | None = None) -> int:
        """Apply migrations up (or down) to `target` (default: newest); return the version reached."""
        migrations = load_migrations()
        target = len(migrations) if target is None else target
        current = await self.schema_version()
        if current > len(migrations):
            raise RuntimeError(
                f"the database is at schema version {current}, newer than this code knows "
                f"({len(migrations)}): upgrade the bot"
            )
        while current != target:
            step = migrations[current] if current < target else migrations[current - 1]
            sql = step.up if current < target else step.down
            new_version = step.version if current < target else step.version - 1
            async with self._write_lock:
                try:
                    await self.conn.executescript(
                        f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {new_version};\nCOMMIT;"
                    )
                except Exception:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise
            logger.info("database schema %s -> %s (%s)", current, new_version, step.name)
            current = new_version
        return current
