"""Observers of programmes, their notes about mentees, and visits of invite links."""

from __future__ import annotations

from storage.db import Database


class ObserverRepo:
    """Observers of programmes, their notes about mentees, and visits of invite links."""

    def __init__(self, db: Database) -> None:
        self.db = db
