"""/start: the main menu, or an invite link opened (coordinator, mentor, mentee, parent, observer)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import CoordinatorInviteCb
from bot.config import Settings
from bot.roles import refresh_menu
from handlers import consent, observers, parent
from handlers.access import show_in_place
from handlers.invites import InviteProblem, invite_for_button, usable_invite
from handlers.menu import send_main_menu
from storage.models import InviteKind, Role
from storage.repos import Repositories

COORDINATOR_CONSENT_VERSION = "coordinator-2026-11"


async def on_start_link(
    message: Message, command: CommandObject, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """An invite link opened: route by who it is for."""
    try:
        invite = await usable_invite(repos, token=command.args or "")
    except InviteProblem as problem:
        await message.answer(str(problem))
        return
    await state.clear()
    if invite.kind is InviteKind.COORDINATOR:
        await _offer_coordination(message, repos, invite.token, invite.organisation_id)
    elif invite.kind is InviteKind.PARENT:
        await parent.show_request(message, repos, invite)
    elif invite.kind is InviteKind.OBSERVER:
        await observers.show_observer_consent(message, repos, invite)
    else:
        if invite.programme_id is not None:  # the base's "invited" state: only the Telegram id is kept
            await repos.observers.record_visit(invite.programme_id, message.chat.id, Role(invite.kind.value))
        await consent.show_consent(message, repos, invite)


async def on_start(message: Message, state: FSMContext, settings: Settings, repos: Repositories) -> None:
    """/start without a link: the main menu for whoever this is."""
    await state.clear()
    await send_main_menu(message, settings, repos)


async def _offer_coordination(message: Message, repos: Repositories, token: str, org_id: int) -> None:
    org = await repos.organisations.get(org_id)
    name = message.from_user.full_name if message.from_user else ""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Accept"), callback_data=CoordinatorInviteCb(action="accept", invite=token))
    kb.button(text=_("Decline"), callback_data=CoordinatorInviteCb(action="decline", invite=token))
    await message.answer(
        _(
            "You are invited to coordinate mentoring programmes of «{org}».\n\n"
            "If you accept, your name as it is in Telegram ({name}) is kept and shown to the "
            "organisation's participants and coordinators. You can see it with /mydata."
        ).format(org=org.name if org else "", name=name),
        reply_markup=kb.as_markup(),
    )


async def on_coordinator_answer(
    call: CallbackQuery, callback_data: CoordinatorInviteCb, bot: Bot, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """Accept or decline an appointment as coordinator."""
    if callback_data.action != "accept":
        await call.answer()
        await show_in_place(call, bot, _("Declined. Nothing about you has been saved."), None)
        return
    invite = await invite_for_button(call, repos, callback_data.invite, InviteKind.COORDINATOR)
    if invite is None:
        return
    if not await repos.invites.use_once(invite.id, call.from_user.id):
        await call.answer(_("This link has already been used. Please ask for a new one."), show_alert=True)
        return
    await repos.organisations.add_coordinator(
        invite.organisation_id, call.from_user.id, call.from_user.full_name, COORDINATOR_CONSENT_VERSION
    )
    org = await repos.organisations.get(invite.organisation_id)
    await call.answer()
    await show_in_place(call, bot, _(
        "You are now a coordinator of «{org}». Create a programme with /newprogramme."
    ).format(org=org.name if org else ""), None)
    await refresh_menu(bot, i18n, settings, repos, call.from_user.id)


def router() -> Router:
    """Deep links and the main menu."""
    r = Router(name="start")
    r.message.register(on_start_link, CommandStart(deep_link=True))
    r.message.register(on_start, CommandStart())
    r.callback_query.register(on_coordinator_answer, CoordinatorInviteCb.filter())
    return r
