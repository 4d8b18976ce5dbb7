"""Checking an invite token from a deep link, with a clear message for every way it can fail."""

from __future__ import annotations

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from storage.db import utcnow
from storage.models import Invite, InviteKind
from storage.repos import Repositories


class InviteProblem(Exception):
    """The token can't be used; the message says why, in the person's language."""


async def usable_invite(
    repos: Repositories, token: str | None = None, invite_id: int | None = None
) -> Invite:
    """The invite behind a token (or id), or InviteProblem."""
    invite = None
    if token is not None:
        invite = await repos.invites.by_token(token) if 8 <= len(token) <= 64 else None
    elif invite_id is not None:
        invite = await repos.invites.get(invite_id)
    if invite is None:
        raise InviteProblem(
            _("This link is not valid. Check that it was copied whole, or ask the coordinator for a new one.")
        )
    if invite.programme_id is not None and await repos.completion.closed_at(invite.programme_id) is not None:
        raise InviteProblem(
            _("This mentoring programme has been completed and closed: its links no longer work.")
        )
    if invite.revoked_at is not None:
        raise InviteProblem(_("This link was revoked by the coordinator. Please ask them for a new one."))
    if utcnow() >= invite.expires_at:
        raise InviteProblem(_("This link has expired. Please ask the coordinator for a new one."))
    if not invite.is_usable(utcnow()):
        if invite.kind is InviteKind.PARENT:
            raise InviteProblem(_("This link has already been used to answer. Thank you!"))
        raise InviteProblem(_("This link has already been used. Please ask for a new one."))
    return invite


async def invite_for_button(
    call: CallbackQuery, repos: Repositories, token: str, *kinds: InviteKind
) -> Invite | None:
    """The invite a button refers to by its token (a button carrying only an invite's id would let anyone
    who guesses the number act on a link they never had), if still usable and of one of the kinds; else an
    alert."""
    try:
        invite = await usable_invite(repos, token=token)
    except InviteProblem as problem:
        await call.answer(str(problem), show_alert=True)
        return None
    if invite.kind not in kinds:
        await call.answer(_("This button is not for you."), show_alert=True)
        return None
    return invite
