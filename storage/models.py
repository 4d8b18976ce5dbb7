"""The project's own records, returned by the repositories (never aiogram types, never translated text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any


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
