"""A coordinator's programmes: the list, a programme's card, its invite links renewed or revoked."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import BasesCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label
from handlers.access import (
    coordinators_only_text,
    is_admin,
    managed_organisations,
    page_number,
    paged_markup,
    programme_screen,
    programme_to_change,
    show_in_place,
)
from handlers.invite_links import long_date, revoke_links, send_links
from storage.db import utcnow
from storage.models import Organisation, Programme, Role
from storage.repos import Repositories


async def _all_programmes(
    user_id: int, settings: Settings, repos: Repositories
) -> tuple[list[Organisation], list[Programme]]:
    orgs = await managed_organisations(user_id, settings, repos)
    programmes = [p for org in orgs for p in await repos.programmes.of_organisation(org.id)]
    return orgs, programmes


def _list_markup(
    programmes: Sequence[Programme], names: dict[int, str], page: int
) -> InlineKeyboardMarkup:
    def button(p: Programme) -> InlineKeyboardButton:
        label = f"{p.title} — {names.get(p.organisation_id, '')}" if len(names) > 1 else p.title
        return InlineKeyboardButton(
            text=label[:60], callback_data=ProgrammeCb(action="open", programme=p.id).pack()
        )

    return paged_markup(
        programmes, page, button, lambda number: ProgrammeCb(action="list", value=str(number))
    )


async def _list_view(
    user_id: int, page: int, settings: Settings, repos: Repositories
) -> tuple[str, InlineKeyboardMarkup | None]:
    orgs, programmes = await _all_programmes(user_id, settings, repos)
    if not orgs:
        if is_admin(user_id, settings):
            return _("There are no organisations yet. /neworg — add one."), None
        return coordinators_only_text(), None
    if not programmes:
        return _("There are no programmes yet. /newprogramme — create one."), None
    names = {o.id: o.name for o in orgs if any(p.organisation_id == o.id for p in programmes)}
    text = _("Programmes ({count}). Choose one to see its card and invite links:").format(
        count=len(programmes)
    )
    return text, _list_markup(programmes, names, page)


async def on_programmes(message: Message, settings: Settings, repos: Repositories) -> None:
    """/programmes: the programmes the person runs, as buttons."""
    text, markup = await _list_view(message.chat.id, 0, settings, repos)
    await message.answer(text, reply_markup=markup)


async def on_list(
    call: CallbackQuery, callback_data: ProgrammeCb, settings: Settings, repos: Repositories
) -> None:
    """Another page of the list, or back to it from a card."""
    text, markup = await _list_view(call.from_user.id, page_number(callback_data.value), settings, repos)
    await call.answer()
    if isinstance(call.message, Message) and call.message.text is not None:
        await call.message.edit_text(text, reply_markup=markup)


async def _card(repos: Repositories, i18n: I18n, programme: Programme) -> tuple[str, InlineKeyboardMarkup]:
    org = await repos.organisations.get(programme.organisation_id)
    counts = await repos.participants.count_by_role(programme.id)
    active = await repos.invites.active_for_programme(programme.id, utcnow())
    text = _(
        "Programme: «{title}»\nOrganisation: {org}\nForms of mentoring: {forms}\nDates: {start} — {end}\n"
        "Mentors: {mentors}\nMentees: {mentees}\nActive invite links: {links}"
    ).format(
        title=programme.title, org=org.name if org else "",
        forms=", ".join(form_label(f) for f in programme.forms),
        start=long_date(programme.start_date, i18n), end=long_date(programme.end_date, i18n),
        mentors=counts[Role.MENTOR], mentees=counts[Role.MENTEE], links=len(active),
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Invite links"), callback_data=ProgrammeCb(action="links", programme=programme.id))
    kb.button(text=_("New links"), callback_data=ProgrammeCb(action="ask_renew", programme=programme.id))
    kb.button(text=_("Revoke links"), callback_data=ProgrammeCb(action="ask_revoke", programme=programme.id))
    kb.button(text=_("All programmes"), callback_data=ProgrammeCb(action="list"))
    kb.button(text=_("Mentees ({count})").format(count=counts[Role.MENTEE]),
              callback_data=BasesCb(action="l", programme=programme.id, role=Role.MENTEE))
    kb.button(text=_("Mentors ({count})").format(count=counts[Role.MENTOR]),
              callback_data=BasesCb(action="l", programme=programme.id, role=Role.MENTOR))
    kb.button(text=_("Observers"), callback_data=ProgrammeCb(action="observers", programme=programme.id))
    kb.button(text=_("Preference survey"),
              callback_data=ProgrammeCb(action="prefs_menu", programme=programme.id))
    kb.button(text=_("Matching and pairs"), callback_data=ProgrammeCb(action="match", programme=programme.id))
    kb.button(text=_("Meetings"), callback_data=ProgrammeCb(action="meetings", programme=programme.id))
    kb.button(text=_("Group final meeting"),
              callback_data=ProgrammeCb(action="group_final", programme=programme.id))
    kb.button(text=_("Survey results"), callback_data=ProgrammeCb(action="results", programme=programme.id))
    kb.button(text=_("Announcement"), callback_data=ProgrammeCb(action="announce", programme=programme.id))
    kb.button(text=_("Start again for a new year"),
              callback_data=ProgrammeCb(action="next_year", programme=programme.id))
    kb.button(text=_("Completion"), callback_data=ProgrammeCb(action="complete", programme=programme.id))
    kb.adjust(1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    return text, kb.as_markup()




async def on_open(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """A programme's card."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _card(repos, i18n, programme))


async def on_links(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """The active mentor and mentee links with their QR codes (issued when there are none)."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    org = await repos.organisations.get(programme.organisation_id) if programme else None
    if programme is None or org is None:
        return
    await call.answer()
    await send_links(bot, call.from_user.id, repos, i18n, programme, org, call.from_user.id)


async def on_ask(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """Confirm before new links replace the current ones, or before they are revoked."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    renew = callback_data.action == "ask_renew"
    if renew:
        text = _("Issue new invite links for «{programme}»? The current links stop working: whoever "
                 "opens them is told the link was revoked. People who have already joined stay in the "
                 "programme.")
    else:
        text = _("Revoke the invite links of «{programme}»? Nobody new can join by them: whoever opens "
                 "them is told the link was revoked. People who have already joined stay in the programme.")
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, issue new links") if renew else _("Yes, revoke"),
              callback_data=ProgrammeCb(action="renew" if renew else "revoke", programme=programme.id))
    kb.button(text=_("No, back"), callback_data=ProgrammeCb(action="open", programme=programme.id))
    kb.adjust(1)
    await call.answer()
    # A new message: the card may be far up the chat, above the links sent since.
    await bot.send_message(
        call.from_user.id, text.format(programme=programme.title), reply_markup=kb.as_markup()
    )


async def on_revoke(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Revoke the active links; with "renew", issue and send new ones."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    org = await repos.organisations.get(programme.organisation_id) if programme else None
    if programme is None or org is None:
        return
    count = await revoke_links(repos, programme)
    await call.answer()
    text, markup = await _card(repos, i18n, programme)
    await show_in_place(call, bot, _("Links revoked: {count}.").format(count=count) + "\n\n" + text, markup)
    if callback_data.action == "renew":
        await send_links(bot, call.from_user.id, repos, i18n, programme, org, call.from_user.id)


def router() -> Router:
    """/programmes and the buttons of programme cards (each checks the person's access)."""
    r = Router(name="programmes")
    r.message.register(on_programmes, Command("programmes"))
    r.callback_query.register(on_list, ProgrammeCb.filter(F.action == "list"))
    r.callback_query.register(on_open, ProgrammeCb.filter(F.action == "open"))
    r.callback_query.register(on_links, ProgrammeCb.filter(F.action == "links"))
    r.callback_query.register(on_ask, ProgrammeCb.filter(F.action.in_({"ask_renew", "ask_revoke"})))
    r.callback_query.register(on_revoke, ProgrammeCb.filter(F.action.in_({"renew", "revoke"})))
    return r
