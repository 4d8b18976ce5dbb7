"""One holder of every repository, injected into handlers as `repos`."""

from __future__ import annotations

from storage.db import Database
from storage.repos.announcements import AnnouncementRepo
from storage.repos.carry_over import CarryOverRepo
from storage.repos.completion import CompletionRepo
from storage.repos.digests import DigestRepo
from storage.repos.invites import InviteRepo
from storage.repos.meetings import MeetingRepo
from storage.repos.observers import ObserverRepo
from storage.repos.organisations import OrganisationRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.pairs import PairRepo
from storage.repos.participants import ParticipantRepo
from storage.repos.preferences import PreferenceRepo
from storage.repos.programmes import ProgrammeRepo
from storage.repos.readiness import ReadinessRepo
from storage.repos.responses import ResponseRepo
from storage.repos.surveys import SurveyRepo
from storage.repos.updates import UpdateRepo
from storage.repos.users import UserRepo


class Repositories:
    """Data access for the whole bot, over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.users = UserRepo(db)
        self.organisations = OrganisationRepo(db)
        self.programmes = ProgrammeRepo(db)
        self.invites = InviteRepo(db)
        self.participants = ParticipantRepo(db)
        self.responses = ResponseRepo(db)
        self.readiness = ReadinessRepo(db)
        self.outbox = OutboxRepo(db)
        self.preferences = PreferenceRepo(db, self.readiness, self.outbox)
        self.updates = UpdateRepo(db)
        self.observers = ObserverRepo(db)
        self.announcements = AnnouncementRepo(db)
        self.carry_over = CarryOverRepo(db)
        self.pairs = PairRepo(db, self.outbox)
        self.meetings = MeetingRepo(db, self.outbox)
        self.surveys = SurveyRepo(db, self.outbox)
        self.digests = DigestRepo(db, self.outbox)
        self.completion = CompletionRepo(db, self.outbox)
