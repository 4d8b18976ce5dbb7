"""A coordinator's announcements to a segment of a programme."""

from __future__ import annotations

from storage.db import Database


class AnnouncementRepo:
    """A coordinator's announcements to a segment of a programme."""

    def __init__(self, db: Database) -> None:
        self.db = db
