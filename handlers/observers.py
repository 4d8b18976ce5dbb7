"""Observers (class teacher, psychologist, social pedagogue): invited by link, they add notes about mentees.

The coordinator's observers screen and link; joining (consent, then position); withdrawal from /mydata;
the texts of notes shared with the person's card. Their mentees and notes are in handlers.observer_notes.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from bot.callbacks import ObserverCb, ProgrammeCb
from bot.config import Settings
from bot.roles import refresh_menu
from bot.states import NoteWriting
from handlers.access import (
    drop_buttons,
    programme_for_button,
    programme_to_change,
    refuse,
    show_in_place,
)
from handlers.invite_links import send_observer_link
from handlers.invites import invite_for_button
from storage.models import Invite, InviteKind, Note, Observer, Programme
from storage.repos import Repositories
from storage.repos.observers import POSITIONS, WITHDRAWN_AUTHOR

OBSERVER_CONSENT_VERSION = "observer-1.0 (2026-11-23)"
NOTE_MAX = 2000
PER_PAGE = 8
MESSAGE_LIMIT = 4096


# --- texts shared with the coordinator's card ----------------------------------------------------

def position_label(position: str) -> str:
    """An observer's position."""
    labels = {
        "class_teacher": _("class teacher"),
        "psychologist": _("psychologist"),
        "social_pedagogue": _("social pedagogue"),
        "other": _("other position"),
    }
    return labels.get(position, position)


def note_author(note: Note) -> str:
    """Who wrote a note: name and role or position (a withdrawn observer is not named)."""
    if note.author_role == "coordinator":
        return _("{name}, coordinator").format(name=note.author_name)
    if note.author_name == WITHDRAWN_AUTHOR:
        return _("an observer who has withdrawn")
    if note.author_position:
        position = position_label(note.author_position)
        return _("{name}, {position}").format(name=note.author_name, position=position)
    return _("{name}, observer").format(name=note.author_name)


def note_when(note: Note, timezone: str, locale: str) -> str:
    """When a note was written, in the organisation's time zone."""
    return format_datetime(note.created_at, format="short", tzinfo=ZoneInfo(timezone), locale=locale)


def fit(head: str, blocks: list[str], more: Callable[[int], str]) -> str:
    """The head and as many blocks as fit in one message; `more(left out)` ends it when some did not."""
    text = head
    room = len(more(len(blocks)))  # the longest the closing line can be
    for i, block in enumerate(blocks):
        if len(text) + len(block) + room + 4 > MESSAGE_LIMIT:
            return text + "\n\n" + more(len(blocks) - i)
        text += "\n\n" + block
    return text


async def org_timezone(repos: Repositories, programme: Programme) -> str:
    """The time zone of the programme's organisation."""
    org = await repos.organisations.get(programme.organisation_id)
    return org.timezone if org else "Europe/Moscow"


# --- the coordinator's screen ----------------------------------------------------------------------

async def on_coordinator_screen(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """The programme's observers (name, position) and the buttons for their link."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    observers = await repos.observers.of_programme(programme.id)
    lines = [_("Observers of «{programme}»: {count}").format(programme=programme.title, count=len(observers))]
    lines += [
        _("• {name} — {position}").format(name=o.full_name, position=position_label(o.position))
        for o in observers
    ]
    if not observers:
        lines.append(_("Nobody yet. Send the observer link to class teachers, psychologists and social "
                       "pedagogues: they will be able to add notes about mentees' requests."))
    rows = [
        (_("Observer link and QR code"), ObserverCb(action="lk", programme=programme.id)),
        (_("New observer link"), ObserverCb(action="rn", programme=programme.id)),
        (_("Back to the programme"), ProgrammeCb(action="open", programme=programme.id)),
    ]
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=text, callback_data=cb.pack())] for text, cb in rows
    ])
    text = "\n".join(lines)
    await call.answer()
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT - 1] + "…"
    await show_in_place(call, bot, text, markup)


async def on_link(
    call: CallbackQuery, callback_data: ObserverCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Send the observer link and its QR code; "rn" revokes the current link first."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    org = await repos.organisations.get(programme.organisation_id) if programme else None
    if programme is None or org is None:
        return
    await call.answer()
    await send_observer_link(
        bot, call.from_user.id, repos, i18n, programme, org, call.from_user.id,
        renew=callback_data.action == "rn",
    )


# --- joining by link -------------------------------------------------------------------------------

async def show_observer_consent(message: Message, repos: Repositories, invite: Invite) -> None:
    """The consent screen of an observer link (nothing is kept before the position is picked)."""
    programme = await repos.programmes.get(invite.programme_id or 0)
    org = await repos.organisations.get(invite.organisation_id)
    if programme is None or org is None:
        await message.answer(_("This programme no longer exists. Please ask the coordinator."))
        return
    if await repos.observers.find(programme.id, message.chat.id) is not None:
        await message.answer(_("You already observe «{programme}». /mentees — its mentees and your notes.")
                             .format(programme=programme.title))
        return
    name = message.from_user.full_name if message.from_user else ""
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("I agree"),
                              callback_data=ObserverCb(action="ag", invite=invite.token).pack())],
        [InlineKeyboardButton(text=_("I do not agree"),
                              callback_data=ObserverCb(action="no", invite=invite.token).pack())],
    ])
    await message.answer(_(
        "Consent to the processing of personal data (version {version})\n\n"
        "Organisation: {org}\nProgramme: «{programme}»\nRole: observer (class teacher, psychologist, "
        "social pedagogue)\n\n"
        "As an observer you can add notes about the requests of the programme's mentees; the "
        "programme's coordinators read them.\n"
        "Data kept: your name as it is in Telegram ({name}), your Telegram account id, your position "
        "and the notes you write. Your name and position are shown to the programme's coordinators.\n"
        "Your rights: you can see this data with /mydata and stop being an observer there at any time; "
        "your notes then stay for the coordinators without your name.\n\n"
        "Nothing about you is kept until you agree and pick your position."
    ).format(version=OBSERVER_CONSENT_VERSION, org=org.name, programme=programme.title, name=name),
        reply_markup=markup)


async def on_join_answer(
    call: CallbackQuery, callback_data: ObserverCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Agree (then pick the position), decline, or the position picked: then they are an observer."""
    invite = await invite_for_button(call, repos, callback_data.invite, InviteKind.OBSERVER)
    if invite is None:
        return
    if callback_data.action == "no":
        await call.answer()
        text = _("Understood. Nothing about you has been saved. If you change your mind, open the link "
                 "again.")
        await show_in_place(call, bot, text, None)
        return
    if callback_data.action == "ag":
        await call.answer()
        rows = [[InlineKeyboardButton(
            text=position_label(p).capitalize(),
            callback_data=ObserverCb(action="ps", invite=invite.token, value=p).pack(),
        )] for p in POSITIONS]
        markup = InlineKeyboardMarkup(inline_keyboard=rows)
        await show_in_place(call, bot, _("What is your position?"), markup)
        return
    programme = await repos.programmes.get(invite.programme_id or 0)
    if callback_data.value not in POSITIONS or programme is None:
        await refuse(call, _("This button is out of date. Open the invite link again."))
        return
    observer = await repos.observers.add(
        programme.id, call.from_user.id, call.from_user.full_name[:100], callback_data.value,
        OBSERVER_CONSENT_VERSION,
    )
    await call.answer()
    await show_in_place(call, bot, _(
        "Thank you! You are now an observer of «{programme}» ({position}).\n\n"
        "/mentees — the programme's mentees: add a note about a mentee's requests for the coordinators.\n"
        "/mydata — what is kept about you."
    ).format(programme=programme.title, position=position_label(observer.position)), None)
    await refresh_menu(bot, i18n, settings, repos, call.from_user.id)


# --- /mydata: stop being an observer ----------------------------------------------------------------

async def on_withdraw(
    call: CallbackQuery, callback_data: ObserverCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """Ask, then delete the observer record (their notes stay, without their name)."""
    observer = await repos.observers.get(callback_data.observer)
    if observer is None or observer.user_id != call.from_user.id:
        await call.answer(_("This button is out of date. Send /mydata again."), show_alert=True)
        return
    programme = await repos.programmes.get(observer.programme_id)
    title = programme.title if programme else ""
    await call.answer()
    if callback_data.action == "wa":
        markup = InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=_("Yes, stop"), callback_data=ObserverCb(
                action="wy", observer=observer.id).pack())],
            [InlineKeyboardButton(text=_("No, keep"), callback_data=ObserverCb(
                action="wn", observer=observer.id).pack())],
        ])
        await bot.send_message(call.from_user.id, _(
            "Stop being an observer of «{programme}»? Your name and position will be deleted. The notes you "
            "wrote stay for the coordinators without your name."
        ).format(programme=title), reply_markup=markup)
        return
    await drop_buttons(call)
    if callback_data.action != "wy":
        await bot.send_message(call.from_user.id, _("Nothing was changed."))
        return
    await repos.observers.withdraw(observer.id)
    if await state.get_state() == NoteWriting.text.state:
        await state.clear()
    await bot.send_message(call.from_user.id, _(
        "Done: you are no longer an observer of «{programme}», and your name and position have been deleted."
    ).format(programme=title))
    await refresh_menu(bot, i18n, settings, repos, call.from_user.id)


def mydata_lines(observers: list[Observer], titles: dict[int, str], locale: str) -> list[str]:
    """The observer records for /mydata."""
    return [
        _("Observer of «{programme}»: {name}, {position}; consent given {at}, version {version}.").format(
            programme=titles.get(o.programme_id, ""), name=o.full_name, position=position_label(o.position),
            at=format_datetime(o.created_at, format="short", locale=locale), version=o.consent_version,
        )
        for o in observers
    ]


def withdraw_button(observer: Observer, title: str) -> InlineKeyboardButton:
    """The /mydata button that stops a person observing a programme."""
    return InlineKeyboardButton(
        text=_("Stop observing: {programme}").format(programme=title)[:60],
        callback_data=ObserverCb(action="wa", observer=observer.id).pack(),
    )


def router() -> Router:
    """Observers' and coordinators' buttons of this area, then the typed notes."""
    r = Router(name="observers")
    r.callback_query.register(on_coordinator_screen, ProgrammeCb.filter(F.action == "observers"))
    r.callback_query.register(on_link, ObserverCb.filter(F.action.in_({"lk", "rn"})))
    r.callback_query.register(on_join_answer, ObserverCb.filter(F.action.in_({"ag", "no", "ps"})))
    r.callback_query.register(on_withdraw, ObserverCb.filter(F.action.in_({"wa", "wy", "wn"})))
    return r
