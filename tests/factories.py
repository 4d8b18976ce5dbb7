"""Set-up shortcuts for tests that start after the coordinator's part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from storage.models import InviteKind, Organisation, Pair, Programme, ProposalStatus, Role
from storage.repos import Repositories
from storage.repos.pairs import NewProposal

COORDINATOR_ID = 2000
# The school year of `school()`: fixed, for the tests that run on a clock of their own set inside it.
SCHOOL_YEAR = (date(2026, 9, 1), date(2027, 5, 31))


def around_today() -> tuple[date, date]:
    """A school year in progress today, for tests that run on the real clock and need the programme on
    (e.g. to issue invite links, refused 30 days after a programme ends)."""
    today = datetime.now(UTC).date()
    return today - timedelta(days=60), today + timedelta(days=210)


@dataclass(frozen=True)
class School:
    """An organisation with a coordinator and one programme with mentor and mentee links."""

    org: Organisation
    programme: Programme
    mentor_token: str
    mentee_token: str


async def school(
    repos: Repositories,
    forms: tuple[str, ...] = ("pupil_pupil",),
    name: str = "Лицей №21",
    coordinator_id: int = COORDINATOR_ID,
    timezone: str = "Europe/Moscow",
    dates: tuple[date, date] = SCHOOL_YEAR,
) -> School:
    """A school as an administrator and its coordinator would leave it."""
    org = await repos.organisations.create(name, timezone, created_by=1)
    await repos.organisations.add_coordinator(org.id, coordinator_id, "Мария Ивановна", "test")
    programme = await repos.programmes.create(
        org.id, "Вместе по лестнице успеха", list(forms), *dates, coordinator_id
    )
    links = {}
    for kind in (InviteKind.MENTOR, InviteKind.MENTEE):
        invite = await repos.invites.create(
            kind, org.id, coordinator_id, timedelta(days=60), programme_id=programme.id
        )
        links[kind] = invite.token
    return School(org, programme, links[InviteKind.MENTOR], links[InviteKind.MENTEE])


async def approved_pair(
    repos: Repositories, sch: School, mentor_user: int, mentee_users: tuple[int, ...],
    *, minor_mentees: bool = False, form: str = "pupil_pupil",
) -> Pair:
    """An approved pair/group as matching and approval would leave it (messages of approval not queued).
    A minor mentee's parent (user id + 500 000) has confirmed."""
    programme = sch.programme.id
    mentor = await repos.participants.enrol(programme, mentor_user, Role.MENTOR, form, "Ольга Смирнова",
                                            False, "test")
    names = ["Пётр Сидоров", "Вера Иванова", "Анна Кузнецова", "Глеб Попов"]
    for n, user_id in enumerate(mentee_users):
        mentee = await repos.participants.enrol(programme, user_id, Role.MENTEE, form, names[n % 4],
                                                minor_mentees, "test")
        if minor_mentees:
            await repos.participants.parent_decision(mentee.id, user_id + 500_000, True, "test")
        await repos.pairs.pair_by_hand(programme, NewProposal(mentor.id, mentee.id, 1.0, []), COORDINATOR_ID)
    accepted = await repos.pairs.proposals(programme, ProposalStatus.ACCEPTED)
    pairs = await repos.pairs.approve(programme, [p.id for p in accepted], COORDINATOR_ID, [])
    return next(p for p in pairs if p.mentor_id == mentor.id)
