"""Waiting for the outbox sender in conversation tests (the deadline only stops a hang)."""

from __future__ import annotations

import asyncio
import time

from storage.db import utcnow
from storage.repos import Repositories


async def drained(repos: Repositories, deadline: float = 60.0, *, due_only: bool = False) -> None:
    """Wait until no message is pending or being sent (with `due_only`, none whose time has come)."""
    sql = "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
    params: tuple[str, ...] = ()
    if due_only:
        sql += " AND not_before <= ?"
        params = (utcnow().isoformat(),)
    end = time.monotonic() + deadline
    while (await repos.db.fetchone(sql, params))[0]:  # type: ignore[index]
        assert time.monotonic() < end, "the outbox never drained"
        await asyncio.sleep(0.05)
