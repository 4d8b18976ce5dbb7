"""The project's own records, returned by the repositories (never aiogram types, never translated text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple


class Role(StrEnum):
    """A participant's role in a programme."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class InviteKind(StrEnum):
    """Who an invite link is for."""

    COORDINATOR = "coordinator"
    MENTOR = "mentor"
    MENTEE = "mentee"
    PARENT = "parent"
    OBSERVER = "observer"


class ParticipantStatus(StrEnum):
    """Where a participant's consent stands."""

    PARENT_PENDING = "parent_pending"
    ACTIVE = "active"
    PARENT_REFUSED = "parent_refused"


class ResponseStatus(StrEnum):
    """Where a questionnaire response stands."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


# Forms of mentoring from the roadmaps: (mentor side, mentee side).
FORMS: dict[str, tuple[str, str]] = {
    "pupil_pupil": ("pupil", "pupil"),
    "teacher_teacher": ("teacher", "teacher"),
    "teacher_pupil": ("teacher", "pupil"),
    "student_student": ("student", "student"),
    "lecturer_student": ("lecturer", "student"),
    "employer_student": ("employer", "student"),
    "head_teacher": ("head", "teacher"),
}


@dataclass(frozen=True)
class User:
    """A Telegram user the bot has met."""

    id: int
    locale: str | None
    tg_locale: str | None
    blocked_at: datetime | None

    def language(self, default: str) -> str:
        """The language to talk to the user in: their choice, else Telegram's, else the default."""
        return self.locale or self.tg_locale or default


@dataclass(frozen=True)
class Organisation:
    """A school, college or education department."""

    id: int
    parent_id: int | None
    name: str
    timezone: str


@dataclass(frozen=True)
class Coordinator:
    """A person who runs an organisation's programmes."""

    id: int
    organisation_id: int
    user_id: int
    full_name: str


@dataclass(frozen=True)
class Programme:
    """A mentoring programme of an organisation for one period."""

    id: int
    organisation_id: int
    title: str
    forms: tuple[str, ...]
    start_date: date
    end_date: date
    retention_days: int
    previous_id: int | None = None  # the programme this one was started again from, a year later


@dataclass(frozen=True)
class Invite:
    """A deep-link token."""

    id: int
    token: str
    kind: InviteKind
    organisation_id: int
    programme_id: int | None
    participant_id: int | None
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None

    def is_usable(self, now: datetime) -> bool:
        """Not revoked, not expired, and (for single-use kinds) not used."""
        single_use = self.kind in (InviteKind.COORDINATOR, InviteKind.PARENT)
        return (
            self.revoked_at is None
            and now < self.expires_at
            and not (single_use and self.used_at is not None)
        )


@dataclass(frozen=True)
class Participant:
    """A mentor or mentee of one programme."""

    id: int
    programme_id: int
    user_id: int
    role: Role
    form: str
    full_name: str
    is_minor: bool
    status: ParticipantStatus
    created_at: datetime


@dataclass(frozen=True)
class Consent:
    """One decision about consent to personal-data processing."""

    id: int
    programme_id: int | None
    participant_id: int | None
    role: str
    kind: str
    decision: str
    given_by: int | None
    text_version: str
    created_at: datetime


@dataclass(frozen=True)
class Response:
    """A participant's questionnaire, in progress or submitted."""

    id: int
    participant_id: int
    questionnaire_id: str
    questionnaire_version: int
    status: ResponseStatus
    answers: dict[str, Any]
    submitted_at: datetime | None
    round_id: int | None = None  # the survey round it answers; None: the joining questionnaire


@dataclass(frozen=True)
class Readiness:
    """A coordinator's record of whether a mentor may be matched."""

    participant_id: int
    interview_at: datetime | None
    training_course: str | None
    training_date: date | None
    agreement_at: datetime | None
    ready: bool
    updated_by: int | None
    updated_at: datetime


class ProposalStatus(StrEnum):
    """Where a matching proposal stands with the coordinator."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class MatchProposal:
    """A proposed mentor–mentee pair with the engine's reasons (as JSON-ready dicts)."""

    id: int
    programme_id: int
    mentor_id: int
    mentee_id: int
    score: float
    reasons: list[dict[str, Any]]
    status: ProposalStatus
    manual: bool


@dataclass(frozen=True)
class Pair:
    """An approved pair or group: one mentor and their mentees."""

    id: int
    programme_id: int
    mentor_id: int
    mentee_ids: tuple[int, ...]
    approved_at: datetime


@dataclass(frozen=True)
class Observer:
    """A class teacher, psychologist or social pedagogue who writes notes about a programme's mentees."""

    id: int
    programme_id: int
    user_id: int
    full_name: str
    position: str  # class_teacher | psychologist | social_pedagogue | other
    consent_version: str
    created_at: datetime


@dataclass(frozen=True)
class Note:
    """A note about a participant for the coordinators; author_name '' once the observer withdrew."""

    id: int
    participant_id: int
    author_id: int
    author_role: str  # observer | coordinator
    author_name: str
    text: str
    created_at: datetime
    author_position: str | None  # the observer's position while they still observe the programme


@dataclass(frozen=True)
class OutboxMessage:
    """A message the bot will send on its own, as queued (see `repos.outbox.enqueue`)."""

    user_id: int
    kind: str  # 'announcement' | 'pair' | ...
    dedupe: str  # unique purpose+person key, e.g. f"ann:{id}:{user_id}"
    text: str
    ref: int | None = None
    markup: str | None = None  # JSON of an InlineKeyboardMarkup (model_dump_json), or None
    not_before: datetime | None = None  # None = now
    expires_at: datetime | None = None  # not sent after this moment (a reminder for a past meeting)
    file_name: str | None = None  # sent as a document, `text` its caption
    file_data: bytes | None = None


@dataclass(frozen=True)
class OutboxItem:
    """A queued message as the sender sees it."""

    id: int
    user_id: int
    kind: str
    ref: int | None
    text: str
    markup: str | None
    attempts: int
    expires_at: datetime | None = None
    file_name: str | None = None
    file_data: bytes | None = None


@dataclass(frozen=True)
class Announcement:
    """A coordinator's message to a segment of a programme."""

    id: int
    programme_id: int
    segment: str  # mentors | mentees | parents | observers | unfinished
    text: str
    created_by: int
    created_at: datetime
    recipients: int


class MeetingStatus(StrEnum):
    """Where a meeting stands."""

    SCHEDULED = "scheduled"
    HELD = "held"
    NOT_HELD = "not_held"
    CANCELLED = "cancelled"


class MeetingTimes(NamedTuple):
    """What a pair's state needs of a meeting (its step, time, length and status), and what its log buttons
    name (id, version): a light row for the jobs that read the meetings of many pairs at once."""

    id: int
    pair_id: int
    step: str
    starts_at: datetime
    minutes: int
    status: MeetingStatus
    version: int


@dataclass(frozen=True)
class Meeting:
    """A meeting of a pair/group, or (pair_id None) the group final meeting of a programme. Times in UTC."""

    id: int
    programme_id: int
    pair_id: int | None
    step: str
    starts_at: datetime
    minutes: int
    place: str
    online: bool
    status: MeetingStatus
    version: int
    logged_at: datetime | None
    held_minutes: int | None
    activities: tuple[str, ...]
    notes: str | None
    not_held_reason: str | None


class SurveyKind(StrEnum):
    """Which survey a round sends (the assessment is sent twice: before and after the work)."""

    FEEDBACK = "feedback"
    ASSESSMENT_BEFORE = "assessment_before"
    ASSESSMENT_AFTER = "assessment_after"
    SATISFACTION = "satisfaction"
    QUALITY = "quality"


@dataclass(frozen=True)
class SurveyRound:
    """One sending of a survey in a programme."""

    id: int
    programme_id: int
    kind: SurveyKind
    label: str
    opened_at: datetime
    closes_at: datetime | None
