"""The administrator's screens: add organisations, see them, invite their coordinators."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from bot.callbacks import OrgCb
from bot.config import Settings
from bot.labels import RUSSIAN_TIMEZONES, timezone_label
from bot.messenger import start_link
from bot.qr import send_qr
from bot.states import NewOrganisation
from handlers.access import admins_only_text, is_admin, page_number, paged_markup, refuse, show_in_place
from handlers.org_card import org_card, org_for_admin
from storage.models import InviteKind, Organisation
from storage.repos import Repositories

COORDINATOR_INVITE_TTL = timedelta(days=7)
NAME_LENGTH = (2, 200)
NEW_ORG_STATES = {NewOrganisation.name.state, NewOrganisation.timezone.state}


def _cancel_markup() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Cancel"), callback_data=OrgCb(action="cancel"))
    return kb.as_markup()


def _timezone_markup() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for tz in RUSSIAN_TIMEZONES:
        kb.button(text=timezone_label(tz), callback_data=OrgCb(action="tz", value=tz))
    kb.button(text=_("Cancel"), callback_data=OrgCb(action="cancel"))
    kb.adjust(2)
    return kb.as_markup()


def _ask_name() -> str:
    return _("What is the organisation's name? For example: МБОУ «Лицей №21», г. Тула. "
             "Send it as a text message (2 to 200 characters), or /cancel to stop.")


def _name_problem(message: Message) -> str | None:
    """Why the message can't be an organisation's name, or None when it can."""
    if message.text is None:
        return _("I need the name as a text message, not a sticker, photo or file.")
    name = " ".join(message.text.split())
    if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        return _("The name must be 2 to 200 characters long; yours has {count}.").format(count=len(name))
    return None


async def on_neworg(message: Message, state: FSMContext, settings: Settings) -> None:
    """/neworg: start adding an organisation."""
    if not is_admin(message.chat.id, settings):
        await refuse(message, admins_only_text())
        return
    await state.clear()
    await state.set_state(NewOrganisation.name)
    await message.answer(_("New organisation.") + "\n\n" + _ask_name(), reply_markup=_cancel_markup())


async def on_name(message: Message, state: FSMContext, settings: Settings) -> None:
    """The organisation's name, then the time zone is asked."""
    if not is_admin(message.chat.id, settings):
        await state.clear()
        await refuse(message, admins_only_text())
        return
    problem = _name_problem(message)
    if problem is not None:
        await message.answer(problem + "\n\n" + _ask_name(), reply_markup=_cancel_markup())
        return
    name = " ".join((message.text or "").split())
    await state.update_data(name=name)
    await state.set_state(NewOrganisation.timezone)
    await message.answer(
        _("In which time zone is «{name}»? Reminders and digests will follow it.").format(name=name),
        reply_markup=_timezone_markup(),
    )


async def on_timezone_typed(message: Message) -> None:
    """Anything typed while the time zone is expected: point at the buttons."""
    await message.answer(
        _("Please choose the time zone with one of the buttons, or /cancel to stop."),
        reply_markup=_timezone_markup(),
    )


async def on_timezone(
    call: CallbackQuery, callback_data: OrgCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories,
) -> None:
    """The time zone chosen: the organisation is created and its card shown."""
    if not is_admin(call.from_user.id, settings):
        await refuse(call, admins_only_text())
        return
    name = (await state.get_data()).get("name")
    if await state.get_state() != NewOrganisation.timezone.state or not name:
        await call.answer(_("This conversation is over. Send /neworg to add an organisation."),
                          show_alert=True)
        return
    if callback_data.value not in RUSSIAN_TIMEZONES:
        await call.answer(_("Please choose one of the time zones offered."), show_alert=True)
        return
    org = await repos.organisations.create(name, callback_data.value, call.from_user.id)
    await state.clear()
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_text(_("Organisation «{name}» added.").format(name=org.name))
    text, markup = await org_card(repos, org)
    await bot.send_message(call.from_user.id, text, reply_markup=markup)


async def on_cancel_button(call: CallbackQuery, state: FSMContext) -> None:
    """The Cancel button of the new-organisation conversation."""
    if await state.get_state() not in NEW_ORG_STATES:
        await call.answer(_("This conversation is over. Send /neworg to add an organisation."),
                          show_alert=True)
        return
    await state.clear()
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_text(_("Cancelled. Nothing was added."))


def _list_markup(orgs: Sequence[Organisation], page: int) -> InlineKeyboardMarkup:
    return paged_markup(
        orgs, page,
        lambda org: InlineKeyboardButton(
            text=org.name[:60], callback_data=OrgCb(action="open", org=org.id).pack()
        ),
        lambda number: OrgCb(action="list", value=str(number)),
    )


async def on_orgs(message: Message, settings: Settings, repos: Repositories) -> None:
    """/orgs: every organisation as a button."""
    if not is_admin(message.chat.id, settings):
        await refuse(message, admins_only_text())
        return
    orgs = await repos.organisations.list_all()
    if not orgs:
        await message.answer(_("There are no organisations yet. /neworg — add one."))
        return
    markup = _list_markup(orgs, 0)
    await message.answer(_("Organisations ({count}):").format(count=len(orgs)), reply_markup=markup)


async def on_list(call: CallbackQuery, callback_data: OrgCb, settings: Settings, repos: Repositories) -> None:
    """Another page of the organisations, or back to the list from a card."""
    if not is_admin(call.from_user.id, settings):
        await refuse(call, admins_only_text())
        return
    orgs = await repos.organisations.list_all()
    await call.answer()
    if not isinstance(call.message, Message):
        return
    if not orgs:
        await call.message.edit_text(_("There are no organisations yet. /neworg — add one."))
        return
    markup = _list_markup(orgs, page_number(callback_data.value))
    await call.message.edit_text(_("Organisations ({count}):").format(count=len(orgs)), reply_markup=markup)






async def on_open(
    call: CallbackQuery, callback_data: OrgCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """An organisation's card."""
    org = await org_for_admin(call, callback_data.org, settings, repos)
    if org is None:
        return
    await call.answer()
    await show_in_place(call, bot, *await org_card(repos, org))


async def on_invite_coordinator(
    call: CallbackQuery, callback_data: OrgCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """A single-use coordinator invite: the link as text and as a QR code."""
    org = await org_for_admin(call, callback_data.org, settings, repos)
    if org is None:
        return
    invite = await repos.invites.create(
        InviteKind.COORDINATOR, org.id, call.from_user.id, ttl=COORDINATOR_INVITE_TTL
    )
    link = await start_link(bot, invite.token)
    until = format_date(invite.expires_at.astimezone(ZoneInfo(org.timezone)).date(), format="long",
                        locale=i18n.current_locale)
    await call.answer()
    await bot.send_message(call.from_user.id, _(
        "Invitation for a coordinator of «{org}»:\n{link}\n\n"
        "Give it to one person only: the link works once. Whoever opens it and accepts becomes a "
        "coordinator of this organisation.\nValid for 7 days, until {date}"
    ).format(org=org.name, link=link, date=until))
    await send_qr(bot, call.from_user.id, link, _(
        "QR code of the coordinator invitation for «{org}».\nFor one person, valid until {date}"
    ).format(org=org.name, date=until))


def router() -> Router:
    """The administrator's commands and buttons (each handler checks the person is an administrator)."""
    r = Router(name="admin")
    r.message.register(on_neworg, Command("neworg"))
    r.message.register(on_orgs, Command("orgs"))
    r.callback_query.register(on_timezone, OrgCb.filter(F.action == "tz"))
    r.callback_query.register(on_cancel_button, OrgCb.filter(F.action == "cancel"))
    r.callback_query.register(on_list, OrgCb.filter(F.action == "list"))
    r.callback_query.register(on_open, OrgCb.filter(F.action == "open"))
    r.callback_query.register(on_invite_coordinator, OrgCb.filter(F.action == "link"))
    steps = Router(name="admin-steps")
    steps.message.filter(~F.text.startswith("/"))  # other commands keep working mid-conversation
    steps.message.register(on_name, NewOrganisation.name)
    steps.message.register(on_timezone_typed, NewOrganisation.timezone)
    r.include_router(steps)
    return r
