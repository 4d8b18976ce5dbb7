"""Messages the bot sends on its own, queued in the database."""

from __future__ import annotations

from storage.db import Database


class OutboxRepo:
    """Messages the bot sends on its own, queued in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
