"""The last steps of /newprogramme: the dates, the summary, and the programme created with its links."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ProgrammeCb
from bot.config import Settings
from bot.labels import form_label
from bot.states import NewProgramme
from handlers.access import can_manage, refuse
from handlers.invite_links import LINKS_OUTLIVE_PROGRAMME, long_date, send_links
from storage.repos import Repositories

MAX_DURATION_DAYS = 5 * 366
DATE_SHAPE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$")
STATES = {s.state for s in NewProgramme.__all_states__}


class DateProblem(ValueError):
    """The text is not a usable date; the message says why, in the person's language."""


def parse_date(text: str | None) -> date:
    """A date typed as DD.MM.YYYY or YYYY-MM-DD, or DateProblem."""
    match = DATE_SHAPE.match((text or "").strip())
    if match is None:
        raise DateProblem(_("Please write the date as DD.MM.YYYY, for example 01.09.2026."))
    day, month, year = match.group(1, 2, 3) if match.group(1) else match.group(6, 5, 4)
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        raise DateProblem(_("There is no such date in the calendar: {text}.").format(text=text)) from None
    if not 2000 <= value.year <= 2100:
        raise DateProblem(_("Please check the year: {year}.").format(year=value.year))
    return value


def cancel_button(kb: InlineKeyboardBuilder) -> None:
    """Add the Cancel button of the new-programme conversation."""
    kb.button(text=_("Cancel"), callback_data=ProgrammeCb(action="cancel"))


def cancel_markup() -> InlineKeyboardMarkup:
    """A keyboard with just the Cancel button."""
    kb = InlineKeyboardBuilder()
    cancel_button(kb)
    return kb.as_markup()


def ask_date(end: bool) -> str:
    """The question for the start or the end date."""
    if end:
        return _("When does the programme end? Write the date as DD.MM.YYYY, for example 31.05.2027.")
    return _("When does the programme start? Write the date as DD.MM.YYYY, for example 01.09.2026.")


async def stale(call: CallbackQuery) -> None:
    """A button of a step that is over."""
    await call.answer(_("This step is over. Send /newprogramme to create a programme."), show_alert=True)


async def on_start_date(message: Message, state: FSMContext) -> None:
    """The start date: then the end date."""
    try:
        start = parse_date(message.text)
    except DateProblem as problem:
        await message.answer(f"{problem}\n\n{ask_date(end=False)}", reply_markup=cancel_markup())
        return
    await state.update_data(start=start.isoformat())
    await state.set_state(NewProgramme.end_date)
    await message.answer(ask_date(end=True), reply_markup=cancel_markup())


async def on_end_date(message: Message, state: FSMContext, repos: Repositories, i18n: I18n) -> None:
    """The end date (after the start): then the summary."""
    data = await state.get_data()
    start = date.fromisoformat(data["start"])
    try:
        end = parse_date(message.text)
        if end <= start:
            raise DateProblem(_("The end must be after the start ({start}).").format(
                start=long_date(start, i18n)))
        if (end - start).days > MAX_DURATION_DAYS:
            raise DateProblem(_("A programme can't last more than five years: please check the year."))
        org = await repos.organisations.get(data["org"])
        if org is not None and end < datetime.now(ZoneInfo(org.timezone)).date():
            raise DateProblem(_("This date has already passed: the programme must end today or later."))
    except DateProblem as problem:
        await message.answer(f"{problem}\n\n{ask_date(end=True)}", reply_markup=cancel_markup())
        return
    await state.update_data(end=end.isoformat())
    await state.set_state(NewProgramme.confirm)
    await _send_summary(message, await state.get_data(), repos, i18n)


async def _send_summary(message: Message, data: dict[str, Any], repos: Repositories, i18n: I18n) -> None:
    org = await repos.organisations.get(data["org"])
    start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    links_until = long_date(end + LINKS_OUTLIVE_PROGRAMME, i18n)
    text = _(
        "Please check the new programme:\n\nOrganisation: {org}\nTitle: «{title}»\n"
        "Forms of mentoring: {forms}\nDates: {start} — {end}\n\n"
        "After you press Create, you get invite links for mentors and for mentees, each with a QR code.\n"
        "The links are valid until {until}"
    ).format(
        org=org.name if org else "", title=data["title"],
        forms=", ".join(form_label(f) for f in data["forms"]),
        start=long_date(start, i18n), end=long_date(end, i18n), until=links_until,
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Create"), callback_data=ProgrammeCb(action="create"))
    cancel_button(kb)
    kb.adjust(2)
    await message.answer(text, reply_markup=kb.as_markup())


async def on_confirm_typed(message: Message, state: FSMContext, repos: Repositories, i18n: I18n) -> None:
    """Text while the summary waits for Create or Cancel: the summary again."""
    await message.answer(_("Please press Create or Cancel."))
    await _send_summary(message, await state.get_data(), repos, i18n)


async def on_create(call: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings,
                    repos: Repositories, i18n: I18n) -> None:
    """Create the programme and send its invite links with QR codes."""
    data = await state.get_data()
    if await state.get_state() != NewProgramme.confirm.state or "end" not in data:
        await stale(call)
        return
    org = await repos.organisations.get(data["org"])
    if org is None or not await can_manage(call.from_user.id, org.id, settings, repos):
        await state.clear()
        await refuse(call, _("You don't coordinate this organisation."))
        return
    await state.clear()
    programme = await repos.programmes.create(
        org.id, data["title"], list(data["forms"]), date.fromisoformat(data["start"]),
        date.fromisoformat(data["end"]), call.from_user.id,
    )
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_text(_("The programme «{title}» of «{org}» is created.").format(
            title=programme.title, org=org.name))
    await send_links(bot, call.from_user.id, repos, i18n, programme, org, call.from_user.id)
    await bot.send_message(call.from_user.id, _(
        "Share the links or print the QR codes. /programmes — the programme's card, its links, "
        "and new links if these leak."
    ))


async def on_cancel_button(call: CallbackQuery, state: FSMContext) -> None:
    """The Cancel button of the new-programme conversation."""
    if await state.get_state() not in STATES:
        await stale(call)
        return
    await state.clear()
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_text(_("Cancelled. No programme was created."))
