"""Offers to a programme's mentors to continue in the next year's programme."""

from __future__ import annotations

from storage.db import Database


class CarryOverRepo:
    """Offers to a programme's mentors to continue in the next year's programme."""

    def __init__(self, db: Database) -> None:
        self.db = db
