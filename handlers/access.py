"""Who may manage what: administrators everything, coordinators their own organisations.

Checked on the server side in every handler, so a forged or stale button changes nothing. Also the
small helpers the administrator's and the coordinator's screens share.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from storage.models import Organisation, Programme
from storage.repos import Repositories

T = TypeVar("T")
PAGE_SIZE = 20


def is_admin(user_id: int, settings: Settings) -> bool:
    """Whether the person is one of the configured administrators."""
    return user_id in settings.admin_ids


async def managed_organisations(
    user_id: int, settings: Settings, repos: Repositories
) -> list[Organisation]:
    """The organisations whose programmes the person runs (all of them for an administrator)."""
    if is_admin(user_id, settings):
        return await repos.organisations.list_all()
    return await repos.organisations.managed_by(user_id)


async def can_manage(user_id: int, org_id: int, settings: Settings, repos: Repositories) -> bool:
    """Whether the person may run this organisation's programmes (also from a department above it)."""
    if is_admin(user_id, settings):
        return await repos.organisations.get(org_id) is not None
    return await repos.organisations.manages(user_id, org_id)


async def managed_programme(
    user_id: int, programme_id: int, settings: Settings, repos: Repositories
) -> Programme | None:
    """The programme if the person may manage it; None when it is missing or someone else's."""
    programme = await repos.programmes.get(programme_id)
    if programme is None or not await can_manage(user_id, programme.organisation_id, settings, repos):
        return None
    return programme


async def programme_for_button(
    call: CallbackQuery, programme_id: int, settings: Settings, repos: Repositories
) -> Programme | None:
    """The button's programme if the person may manage it; otherwise they are told no."""
    programme = await managed_programme(call.from_user.id, programme_id, settings, repos)
    if programme is None:
        await refuse(call, no_programme_access_text())
    return programme


async def programme_to_change(
    call: CallbackQuery, programme_id: int, settings: Settings, repos: Repositories
) -> Programme | None:
    """The button's programme if the person may manage it and it is not closed: every action that would
    change a programme (links, joining, matching and approval, meetings, announcements, the preference
    survey, observers) asks here, so a closed programme stays archived read-only. Otherwise they are told
    why not."""
    programme = await programme_for_button(call, programme_id, settings, repos)
    if programme is not None and await repos.completion.closed_at(programme.id) is not None:
        await refuse(call, closed_programme_text())
        return None
    return programme


Screen = tuple[str, InlineKeyboardMarkup | None]


async def programme_screen(
    call: CallbackQuery, programme_id: int, bot: Bot, settings: Settings, repos: Repositories,
    build: Callable[[Programme], Awaitable[Screen]],
) -> None:
    """A button that shows a screen of a programme: access checked, then the screen in place."""
    programme = await programme_for_button(call, programme_id, settings, repos)
    if programme is None:
        return
    await call.answer()
    await show_in_place(call, bot, *await build(programme))


def admins_only_text() -> str:
    """What a non-administrator reads on an administrator's command or button."""
    return _("This is for administrators of the bot only.")


def coordinators_only_text() -> str:
    """What someone who coordinates nothing reads on a coordinator's command or button."""
    return _(
        "This is for coordinators of mentoring programmes. If your organisation made you a "
        "coordinator, open the invite link the administrator sent you."
    )


def closed_programme_text() -> str:
    """What a coordinator reads on an action that would change a closed programme."""
    return _("This programme is closed: it is kept read-only. Its cards, results and documents can still "
             "be viewed, but nothing in it can be changed.")


def no_programme_access_text() -> str:
    """What someone reads who tries to open a programme that is not theirs."""
    return _("You don't have access to this programme.")


async def refuse(event: Message | CallbackQuery, text: str) -> None:
    """Say no: an alert on a button, a message otherwise."""
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[T], int, bool]:
    """One page of a list: its items, the page number actually shown, whether a next page exists."""
    last = max(0, (len(items) - 1) // size)
    page = min(max(page, 0), last)
    return items[page * size:(page + 1) * size], page, page < last


def page_number(value: str) -> int:
    """The page number carried by a button (0 when missing or forged)."""
    return int(value) if value.isdigit() and len(value) < 6 else 0


def paged_markup(
    items: Sequence[T], page: int, button: Callable[[T], InlineKeyboardButton],
    page_cb: Callable[[int], CallbackData],
) -> InlineKeyboardMarkup:
    """One button per item of the page, one per row, then « Back / More » between pages."""
    shown, page, more = page_of(items, page)
    rows = [[button(item)] for item in shown]
    nav = page_nav(page, more, page_cb)
    return InlineKeyboardMarkup(inline_keyboard=rows + ([nav] if nav else []))


def page_nav(
    page: int, more: bool, page_cb: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """The « Back / More » buttons between pages (empty on a single page)."""
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(text=_("« Back"), callback_data=page_cb(page - 1).pack()))
    if more:
        nav.append(InlineKeyboardButton(text=_("More »"), callback_data=page_cb(page + 1).pack()))
    return nav


async def show_in_place(
    call: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message's text, or send a new message when it can't be edited."""
    if isinstance(call.message, Message) and call.message.text is not None:
        try:
            await call.message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
    await bot.send_message(call.from_user.id, text, reply_markup=markup)


async def drop_buttons(call: CallbackQuery) -> None:
    """Take the buttons off the pressed message; nothing to do when Telegram no longer gives the message
    (it is too old) or the buttons are already gone (a second quick tap)."""
    if not isinstance(call.message, Message) or call.message.reply_markup is None:
        return
    try:
        await call.message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise
