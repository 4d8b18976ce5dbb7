"""Messages the bot sends on its own, queued in the database.

A row goes 'pending' → 'sending' (claimed in the database before the HTTP call) → 'sent' | 'blocked' |
'failed'; rows left in 'sending' by a dead process become 'uncertain' at start-up and are never sent
again, so nobody gets the same message twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from storage.db import Database, utcnow
from storage.models import OutboxItem, OutboxMessage
from storage.repos._convert import parse_ts, ts

STATUSES = ("pending", "sending", "sent", "blocked", "failed", "uncertain", "cancelled", "expired")
FINAL = ("sent", "blocked", "failed", "uncertain", "expired")
ERROR_MAX = 500
# `not_before` of a message to send as soon as possible: due on any clock, real or a test's.
ASAP = datetime(1970, 1, 1, tzinfo=UTC)
# Only what the sender needs to choose what to send; the rest of a row is read when it is claimed.
DUE_SQL = (
    "SELECT id, user_id, expires_at FROM outbox INDEXED BY outbox_due "
    "WHERE status = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?"
)
ITEM_COLUMNS = "id, user_id, kind, ref, text, markup, attempts, expires_at, file_name, file_data"


@dataclass(frozen=True)
class DueMessage:
    """A pending message whose time has come: enough to pace it and to drop it once expired."""

    id: int
    user_id: int
    expires_at: datetime | None


class OutboxRepo:
    """Messages the bot sends on its own, queued in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(
        self, messages: Sequence[OutboxMessage], conn: aiosqlite.Connection | None = None
    ) -> int:
        """Queue messages (a dedupe key already queued is skipped); with `conn`, inside the caller's
        open transaction. Returns how many rows were inserted."""
        if not messages:
            return 0
        if conn is not None:
            return await self._insert(conn, messages)
        async with self.db.transaction() as own:
            return await self._insert(own, messages)

    @staticmethod
    async def _insert(conn: aiosqlite.Connection, messages: Sequence[OutboxMessage]) -> int:
        now = ts(utcnow())
        async with conn.executemany(  # one trip to the database thread for them all
            "INSERT OR IGNORE INTO outbox (user_id, kind, ref, dedupe, text, markup, not_before, "
            "expires_at, file_name, file_data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(m.user_id, m.kind, m.ref, m.dedupe, m.text, m.markup, ts(m.not_before or ASAP),
              ts(m.expires_at) if m.expires_at else None, m.file_name, m.file_data, now) for m in messages],
        ) as cur:
            return cur.rowcount  # rows inserted: a dedupe key already queued is not counted

    async def counts(self, kind: str, ref: int) -> dict[str, int]:
        """Status → number of messages of this kind and ref, every status present."""
        rows = await self.db.fetchall(
            "SELECT status, COUNT(*) FROM outbox WHERE kind = ? AND ref = ? GROUP BY status", (kind, ref)
        )
        found = {str(r[0]): int(r[1]) for r in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    async def due(self, now: datetime, limit: int) -> list[DueMessage]:
        """The first `limit` pending messages whose time has come (through the `outbox_due` index), by id."""
        rows = await self.db.fetchall(DUE_SQL, (ts(now), limit))
        return sorted((DueMessage(r[0], r[1], parse_ts(r[2])) for r in rows), key=lambda m: m.id)

    async def claim(self, item_id: int) -> OutboxItem | None:
        """Mark a pending message as being sent and return it whole; None if it is no longer pending
        (someone else claimed it, it was cancelled)."""
        rows = await self.db.execute_returning(
            "UPDATE outbox SET status = 'sending', claimed_at = ? WHERE id = ? AND status = 'pending' "
            f"RETURNING {ITEM_COLUMNS}",
            (ts(utcnow()), item_id),
        )
        if not rows:
            return None
        r = rows[0]
        return OutboxItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], parse_ts(r[7]), r[8], r[9])

    async def finish(self, item_id: int, status: str, error: str | None = None) -> None:
        """A claimed message's final state: sent, blocked or failed (with the error)."""
        if status not in FINAL:
            raise ValueError(f"not a final status: {status}")
        await self.db.execute(
            "UPDATE outbox SET status = ?, error = ?, done_at = ? WHERE id = ?",
            (status, error[:ERROR_MAX] if error else None, ts(utcnow()), item_id),
        )

    async def retry_later(
        self, item_id: int, not_before: datetime, error: str, *, count_attempt: bool = True
    ) -> None:
        """Put a claimed message back in the queue for another try after `not_before`."""
        await self.db.execute(
            "UPDATE outbox SET status = 'pending', not_before = ?, error = ?, claimed_at = NULL, "
            "attempts = attempts + ? WHERE id = ?",
            (ts(not_before), error[:ERROR_MAX], 1 if count_attempt else 0, item_id),
        )

    async def recover(self) -> list[tuple[str, int | None]]:
        """At start-up: messages left 'sending' by a dead process become 'uncertain' (never resent).
        Returns the distinct (kind, ref) they belonged to."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT DISTINCT kind, ref FROM outbox INDEXED BY outbox_due WHERE status = 'sending'"
            ) as cur:
                touched = [(str(r[0]), r[1]) for r in await cur.fetchall()]
            await conn.execute(
                "UPDATE outbox SET status = 'uncertain', done_at = ?, "
                "error = 'the process stopped while sending' WHERE status = 'sending'",
                (ts(utcnow()),),
            )
        return touched

    async def expire(self, item_id: int) -> bool:
        """A pending message whose moment has passed is dropped, never sent late."""
        changed = await self.db.execute_count(
            "UPDATE outbox SET status = 'expired', done_at = ? WHERE id = ? AND status = 'pending'",
            (ts(utcnow()), item_id),
        )
        return changed == 1

    async def cancel(self, conn: aiosqlite.Connection, kinds: Sequence[str], ref: int) -> int:
        """Inside the caller's transaction: pending messages of these kinds for `ref` will not be sent
        (a meeting moved or cancelled takes its reminders with it). How many."""
        marks = ", ".join("?" for _ in kinds)
        async with conn.execute(
            f"UPDATE outbox SET status = 'cancelled', done_at = ? WHERE kind IN ({marks}) AND ref = ? "
            "AND status = 'pending'",
            (ts(utcnow()), *kinds, ref),
        ) as cur:
            return cur.rowcount

    async def dedupes(self, kind: str, ref: int) -> set[str]:
        """The dedupe keys already queued (in any status) for this kind and ref: what need not be composed
        again."""
        rows = await self.db.fetchall("SELECT dedupe FROM outbox WHERE kind = ? AND ref = ?", (kind, ref))
        return {str(r[0]) for r in rows}

    async def unfinished(self, kind: str, ref: int) -> int:
        """How many messages of this kind and ref are still pending or being sent."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE kind = ? AND ref = ? AND status IN ('pending', 'sending')",
            (kind, ref),
        )
        return int(row[0]) if row else 0

