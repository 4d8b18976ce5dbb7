"""Next year: a programme started again from an old one, and its mentors asked whether they continue.

The coordinator sees the proposed programme (same organisation, forms and retention; the title's years
and the dates moved on by one year) and accepts it or types another title. On confirm, the programme and
one offer per active mentor of the old one are written in one transaction together with the offers'
messages (queued in the outbox). A mentor's Yes enrols them in the new programme with their consent, a
copy of their submitted questionnaire and of their interview and training; No is recorded as such.
Every tap is checked again on the server: whose offer it is, whether it was already answered.
"""

from __future__ import annotations

import re
from datetime import date

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import NextYearCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label
from bot.outbox import Outbox
from bot.roles import refresh_menu
from bot.states import NextYear
from handlers.access import (
    managed_programme,
    programme_for_button,
    programme_screen,
    refuse,
    show_in_place,
)
from handlers.consent import CONSENT_VERSION, consent_text, send_parent_link
from handlers.coordinator import TITLE_LENGTH, check_title
from handlers.invite_links import long_date, send_links
from handlers.notices import queued_in_language
from handlers.questionnaire_screen import close_keyboard
from storage.models import OutboxMessage, Participant, ParticipantStatus, Programme, Role
from storage.repos import Repositories
from storage.repos.carry_over import OfferCounts

KIND = "carry_over"
YEAR_SPAN = re.compile(r"(?<!\d)((?:19|20)\d{2})(\s*[/\-–—]\s*)((?:19|20)?\d{2})(?!\d)")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def a_year_later(value: date) -> date:
    """The same day a year later (29 February becomes 28 February)."""
    try:
        return value.replace(year=value.year + 1)
    except ValueError:
        return value.replace(year=value.year + 1, day=28)


def _span_moved(match: re.Match[str]) -> str:
    first, separator, second = match.group(1, 2, 3)
    moved = str(int(second) + 1) if len(second) == 4 else f"{(int(second) + 1) % 100:02d}"
    return f"{int(first) + 1}{separator}{moved}"


def next_title(title: str, start: date, end: date) -> str:
    """The title with its years moved on by one ("2026/27" → "2027/28", "2026-2027" → "2027-2028",
    "2026" → "2027"); without years, the title and the new programme's years (`start`, `end`)."""
    moved, count = YEAR_SPAN.subn(_span_moved, title)
    if count == 0:
        moved, count = YEAR.subn(lambda m: str(int(m.group(1)) + 1), title)
    if count:
        return moved[:TITLE_LENGTH[1]]
    span = str(start.year) if start.year == end.year else f"{start.year}/{end.year % 100:02d}"
    return f"{title[:TITLE_LENGTH[1] - len(span) - 1]} {span}"


def proposal(old: Programme) -> tuple[str, date, date]:
    """The title and dates proposed for the programme started again from `old`."""
    start, end = a_year_later(old.start_date), a_year_later(old.end_date)
    return next_title(old.title, start, end), start, end


def _counts_text(counts: OfferCounts, title: str) -> str:
    return _("Mentors of the previous year asked whether they continue in «{title}»: agreed {agreed}, "
             "declined {declined}, not answered yet {pending}.").format(
        title=title, agreed=counts.agreed, declined=counts.declined, pending=counts.pending)


async def _screen(
    repos: Repositories, i18n: I18n, old: Programme, title: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """What has been carried over, or the proposed new programme with its buttons."""
    kb = InlineKeyboardBuilder()
    lines = []
    if old.previous_id is not None:
        lines.append(_counts_text(await repos.carry_over.counts(old.id), old.title))
    new = await repos.programmes.next_of(old.id)
    if new is not None:
        lines.append(_("«{old}» has been started again as «{new}».").format(old=old.title, new=new.title))
        lines.append(_counts_text(await repos.carry_over.counts(new.id), new.title))
        kb.button(text=_("Open «{title}»").format(title=new.title)[:60],
                  callback_data=ProgrammeCb(action="open", programme=new.id))
    else:
        proposed, start, end = proposal(old)
        org = await repos.organisations.get(old.organisation_id)
        mentors = len(await repos.carry_over.mentors(old.id))
        lines.append(_(
            "Start «{old}» again for a new year:\n\nOrganisation: {org}\nTitle: «{title}»\n"
            "Forms of mentoring: {forms}\nDates: {start} — {end}\n\n"
            "Each of its {mentors} mentors will be asked whether they continue; those who agree join the "
            "new programme with their questionnaire answers, interview and training. Mentees join by new "
            "links."
        ).format(
            old=old.title, org=org.name if org else "", title=title or proposed,
            forms=", ".join(form_label(f) for f in old.forms), start=long_date(start, i18n),
            end=long_date(end, i18n), mentors=mentors,
        ))
        kb.button(text=_("Create"), callback_data=ProgrammeCb(
            action="ny_create", programme=old.id, value="typed" if title else ""))
        kb.button(text=_("Another title"), callback_data=ProgrammeCb(action="ny_title", programme=old.id))
    kb.button(text=_("« Programme"), callback_data=ProgrammeCb(action="open", programme=old.id))
    kb.adjust(1)
    return "\n\n".join(lines), kb.as_markup()


async def on_screen(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """The next-year screen of a programme."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _screen(repos, i18n, programme))


def _ask_title() -> str:
    return _("Send the new programme's title as a text message (3 to 200 characters), or /cancel to stop.")


async def on_title_button(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories,
) -> None:
    """«Another title»: the title is asked."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await state.set_state(NextYear.title)
    await state.set_data({"next_year_from": programme.id})
    await call.answer()
    await bot.send_message(call.from_user.id, _ask_title())


async def on_title_typed(
    message: Message, state: FSMContext, settings: Settings, repos: Repositories, i18n: I18n
) -> None:
    """The typed title, validated as in /newprogramme: then the proposal with it."""
    title, problem = check_title(message.text)
    if problem is not None:
        await message.answer(problem + "\n\n" + _ask_title())
        return
    data = await state.get_data()
    programme = await managed_programme(message.chat.id, int(data.get("next_year_from", 0)), settings, repos)
    if programme is None:
        await state.clear()
        await message.answer(_("This step is over. Open the programme's card again with /programmes."))
        return
    await state.update_data(title=title)
    text, markup = await _screen(repos, i18n, programme, title)
    await message.answer(text, reply_markup=markup)


async def _chosen_title(state: FSMContext, callback_data: ProgrammeCb, old: Programme) -> str | None:
    """The title to create the programme with; None when a typed title is no longer at hand."""
    if callback_data.value != "typed":
        return proposal(old)[0]
    data = await state.get_data()
    if await state.get_state() != NextYear.title.state or data.get("next_year_from") != old.id:
        return None
    return data.get("title")


async def _offer_message(
    repos: Repositories, i18n: I18n, org: str, old: Programme, new_id: int, title: str, mentor: Participant
) -> OutboxMessage:
    """The question to one mentor, in their language, with Yes / No."""

    def text() -> str:
        body = _("«{old}» is starting again as «{new}». Will you continue as a mentor?\n\n"
                 "If you answer Yes, you join «{new}» as a mentor with the same name and form, and your "
                 "questionnaire answers are copied (you can review them with /questionnaire). Answering "
                 "Yes means you give the consent below.").format(old=old.title, new=title)
        return body + "\n\n" + consent_text(org, title, Role.MENTOR, old.retention_days)

    def markup() -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text=_("Yes, I continue"), callback_data=NextYearCb(
                action="y", programme=new_id, participant=mentor.id).pack()),
            InlineKeyboardButton(text=_("No"), callback_data=NextYearCb(
                action="n", programme=new_id, participant=mentor.id).pack()),
        ]])

    return await queued_in_language(repos, i18n, mentor.user_id, text, kind=KIND,
                                    dedupe=f"carry:{new_id}:{mentor.id}", ref=new_id, markup=markup)


async def _create(
    repos: Repositories, i18n: I18n, old: Programme, title: str, by: int
) -> tuple[int | None, int]:
    """Write the new programme, the offers and their messages in one transaction: (new id, mentors)."""
    _title, start, end = proposal(old)
    org = await repos.organisations.get(old.organisation_id)
    mentors = await repos.carry_over.mentors(old.id)
    # new_id is only known inside the transaction: the messages are built there, from data read before.
    async with repos.db.transaction() as conn:
        new_id = await repos.programmes.create_next(conn, old, title, start, end, by)
        if new_id is None:
            return None, 0
        await repos.carry_over.create(conn, new_id, [m.id for m in mentors])
        await repos.outbox.enqueue([
            await _offer_message(repos, i18n, org.name if org else "", old, new_id, title, m)
            for m in mentors
        ], conn)
    return new_id, len(mentors)


async def on_create(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n, outbox: Outbox,
) -> None:
    """Create the programme, ask the old programme's mentors, and send the new invite links."""
    old = await programme_for_button(call, callback_data.programme, settings, repos)
    if old is None:
        return
    title = await _chosen_title(state, callback_data, old)
    if title is None:
        await refuse(call, _("This step is over. Open the programme's card again with /programmes."))
        return
    new_id, asked = await _create(repos, i18n, old, title, call.from_user.id)
    if new_id is None:
        await refuse(call, _("«{title}» has already been started again for a new year.").format(
            title=old.title))
        return
    if await state.get_state() == NextYear.title.state:
        await state.clear()
    outbox.wake()
    await call.answer()
    new = await repos.programmes.get(new_id)
    org = await repos.organisations.get(old.organisation_id)
    await show_in_place(call, bot, _(
        "The programme «{title}» is created. Mentors asked whether they continue: {count}."
    ).format(title=title, count=asked), None)
    if new is not None and org is not None:
        await send_links(bot, call.from_user.id, repos, i18n, new, org, call.from_user.id)


async def _offer_for_tap(
    call: CallbackQuery, callback_data: NextYearCb, repos: Repositories
) -> tuple[Participant, Programme] | None:
    """The old participation and the new programme, if the offer is the tapping person's and open."""
    old = await repos.participants.get(callback_data.participant)
    offer = await repos.carry_over.get(callback_data.programme, callback_data.participant)
    new = await repos.programmes.get(callback_data.programme)
    if old is not None and old.user_id != call.from_user.id:
        await refuse(call, _("This offer is not yours."))
        return None
    if old is None or offer is None or new is None:
        await refuse(call, _("This offer is no longer valid. Please ask the coordinator."))
        return None
    if offer.decision is not None:
        await refuse(call, _("You have already answered this offer."))
        return None
    return old, new


async def on_answer(
    call: CallbackQuery, callback_data: NextYearCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """A mentor's Yes or No."""
    found = await _offer_for_tap(call, callback_data, repos)
    if found is None:
        return
    old, new = found
    if callback_data.action == "y":
        joined = await repos.carry_over.agree(new.id, old, CONSENT_VERSION)
        if joined is None:
            await refuse(call, _("You have already answered this offer."))
            return
        await call.answer()
        await close_keyboard(call.message, _("Yes, I continue"))  # type: ignore[arg-type]
        await refresh_menu(bot, i18n, settings, repos, call.from_user.id)
        await _welcome(call, bot, repos, new, joined)
        return
    if not await repos.carry_over.decline(new.id, old.id):
        await refuse(call, _("You have already answered this offer."))
        return
    await call.answer()
    await close_keyboard(call.message, _("No"))  # type: ignore[arg-type]
    await bot.send_message(call.from_user.id, _(
        "Understood: you do not continue in «{title}». Nothing about you has been added to it. "
        "Thank you for your work as a mentor!").format(title=new.title))


async def _welcome(
    call: CallbackQuery, bot: Bot, repos: Repositories, new: Programme, joined: Participant
) -> None:
    if joined.status is ParticipantStatus.PARENT_PENDING and isinstance(call.message, Message):
        await send_parent_link(call.message, bot, repos, joined)
        return
    await bot.send_message(call.from_user.id, _(
        "Welcome to «{title}»! Your consent is saved and your questionnaire answers are copied: "
        "/questionnaire shows them. The coordinator will decide again on your readiness.").format(
        title=new.title))


def router() -> Router:
    """The coordinator's next-year screen and steps, then the mentors' answers."""
    r = Router(name="next_year")
    r.callback_query.register(on_screen, ProgrammeCb.filter(F.action == "next_year"))
    r.callback_query.register(on_title_button, ProgrammeCb.filter(F.action == "ny_title"))
    r.callback_query.register(on_create, ProgrammeCb.filter(F.action == "ny_create"))
    r.callback_query.register(on_answer, NextYearCb.filter(F.action.in_({"y", "n"})))
    r.message.register(on_title_typed, NextYear.title, ~F.text.startswith("/"))
    return r
