"""Matching proposals, approved pairs and groups, and their personalised programmes."""

from __future__ import annotations

from storage.db import Database


class PairRepo:
    """Matching proposals, approved pairs and groups, and their personalised programmes."""

    def __init__(self, db: Database) -> None:
        self.db = db
