"""Set-up shortcuts for tests that start after the coordinator's part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from storage.models import InviteKind, Organisation, Programme
from storage.repos import Repositories

COORDINATOR_ID = 2000


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
) -> School:
    """A school as an administrator and its coordinator would leave it."""
    org = await repos.organisations.create(name, timezone, created_by=1)
    await repos.organisations.add_coordinator(org.id, coordinator_id, "Мария Ивановна", "test")
    programme = await repos.programmes.create(
        org.id, "Вместе по лестнице успеха", list(forms), date(2026, 9, 1), date(2027, 5, 31), coordinator_id
    )
    links = {}
    for kind in (InviteKind.MENTOR, InviteKind.MENTEE):
        invite = await repos.invites.create(
            kind, org.id, coordinator_id, timedelta(days=60), programme_id=programme.id
        )
        links[kind] = invite.token
    return School(org, programme, links[InviteKind.MENTOR], links[InviteKind.MENTEE])
