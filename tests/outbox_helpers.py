"""Waiting for the outbox sender in conversation tests (the deadline only stops a hang)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from storage.repos import Repositories
from storage.repos._convert import ts


async def drained(repos: Repositories, deadline: float = 60.0, *, due_by: datetime | None = None) -> None:
    """Wait until no message is pending or being sent; with `due_by` (e.g. the test clock's now), only
    those due by then count."""
    sql = "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
    params: tuple[str, ...] = ()
    if due_by is not None:
        sql += " AND not_before <= ?"
        params = (ts(due_by),)
    end = time.monotonic() + deadline
    while (await repos.db.fetchone(sql, params))[0]:  # type: ignore[index]
        assert time.monotonic() < end, "the outbox never drained"
        await asyncio.sleep(0.05)
