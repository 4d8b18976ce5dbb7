"""Observers (class teacher, psychologist, social pedagogue): invited by link, they add notes about mentees.

The coordinator's observers screen and link; joining (consent, then position); /mentees → a programme →
its mentees → the observer's own notes → "Add a note"; withdrawal from /mydata. Every button and every
typed note checks again that the person observes (or manages) the programme and that the mentee is
one of its mentees, so a forged or stale button shows and changes nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from bot.callbacks import NoteCb, ObserverCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label
from bot.roles import refresh_menu
from bot.states import NoteWriting
from handlers.access import (
    managed_programme,
    no_programme_access_text,
    page_nav,
    programme_for_button,
    refuse,
    show_in_place,
)
from handlers.invite_links import send_observer_link
from handlers.invites import invite_for_button
from handlers.notices import send_in_language
from storage.models import Invite, InviteKind, Note, Observer, Participant, ParticipantStatus, Programme, Role
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


def fit(head: str, blocks: list[str], more: str) -> str:
    """The head and as many blocks as fit in one message; `more` when some were left out."""
    text = head
    for i, block in enumerate(blocks):
        if len(text) + len(block) + len(more) + 4 > MESSAGE_LIMIT:
            return text + "\n\n" + more.format(count=len(blocks) - i)
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
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
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
                              callback_data=ObserverCb(action="ag", invite=invite.id).pack())],
        [InlineKeyboardButton(text=_("I do not agree"),
                              callback_data=ObserverCb(action="no", invite=invite.id).pack())],
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
    message = call.message
    if callback_data.action == "no":
        await call.answer()
        text = _("Understood. Nothing about you has been saved. If you change your mind, open the link "
                 "again.")
        await message.edit_text(text, reply_markup=None)  # type: ignore[union-attr]
        return
    if callback_data.action == "ag":
        await call.answer()
        rows = [[InlineKeyboardButton(
            text=position_label(p).capitalize(),
            callback_data=ObserverCb(action="ps", invite=invite.id, value=p).pack(),
        )] for p in POSITIONS]
        await message.edit_text(_("What is your position?"),  # type: ignore[union-attr]
                                reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
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
    await message.edit_text(_(  # type: ignore[union-attr]
        "Thank you! You are now an observer of «{programme}» ({position}).\n\n"
        "/mentees — the programme's mentees: add a note about a mentee's requests for the coordinators.\n"
        "/mydata — what is kept about you."
    ).format(programme=programme.title, position=position_label(observer.position)), reply_markup=None)
    await refresh_menu(bot, i18n, settings, repos, call.from_user.id)


# --- an observer's mentees and notes ---------------------------------------------------------------

async def _observed(
    repos: Repositories, user_id: int, programme_id: int, participant_id: int = 0
) -> tuple[Programme, Observer, Participant | None] | None:
    """The programme the person observes (and its consented mentee, when asked for); None otherwise."""
    observer = await repos.observers.find(programme_id, user_id)
    programme = await repos.programmes.get(programme_id) if observer else None
    if observer is None or programme is None:
        return None
    if not participant_id:
        return programme, observer, None
    mentee = await repos.participants.get(participant_id)
    if (
        mentee is None or mentee.programme_id != programme.id or mentee.role is not Role.MENTEE
        or mentee.status is not ParticipantStatus.ACTIVE
    ):
        return None
    return programme, observer, mentee


def observers_only_text() -> str:
    """What someone reads who observes nothing (or not this programme)."""
    return _("This is for observers of mentoring programmes. If a coordinator invited you as an observer, "
             "open the link they sent you.")


async def on_mentees(message: Message, repos: Repositories) -> None:
    """/mentees: the programmes the person observes (straight to the mentees when there is one)."""
    observed = await repos.observers.of_user(message.chat.id)
    if not observed:
        await message.answer(observers_only_text())
        return
    if len(observed) == 1:
        found = await _observed(repos, message.chat.id, observed[0].programme_id)
        if found is not None:
            text, markup = await _mentee_list(repos, found[0], 0)
            await message.answer(text, reply_markup=markup)
            return
    rows = []
    for o in observed:
        programme = await repos.programmes.get(o.programme_id)
        if programme is not None:
            cb = ObserverCb(action="l", programme=programme.id)
            rows.append([InlineKeyboardButton(text=programme.title[:60], callback_data=cb.pack())])
    await message.answer(_("Which programme?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def _mentee_list(
    repos: Repositories, programme: Programme, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    total = (await repos.participants.consented(programme.id, Role.MENTEE, 0, 0))[1]
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    mentees, _total = await repos.participants.consented(programme.id, Role.MENTEE, page * PER_PAGE, PER_PAGE)
    keyboard = [[InlineKeyboardButton(
        text=_("{name} — {form}").format(name=m.full_name, form=form_label(m.form))[:60],
        callback_data=ObserverCb(action="m", programme=programme.id, participant=m.id, page=page).pack(),
    )] for m in mentees]
    nav = page_nav(page, page < pages - 1, lambda n: ObserverCb(action="l", programme=programme.id, page=n))
    if nav:
        keyboard.append(nav)
    text = _("Mentees of «{programme}»: {count}. Page {page} of {pages}.").format(
        programme=programme.title, count=total, page=page + 1, pages=pages
    )
    if not total:
        text += "\n\n" + _("Nobody here yet.")
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


async def on_list(call: CallbackQuery, callback_data: ObserverCb, bot: Bot, repos: Repositories) -> None:
    """A page of the mentees of a programme the person observes."""
    found = await _observed(repos, call.from_user.id, callback_data.programme)
    if found is None:
        await refuse(call, no_programme_access_text())
        return
    await call.answer()
    await show_in_place(call, bot, *await _mentee_list(repos, found[0], callback_data.page))


async def _mentee_screen(
    repos: Repositories, programme: Programme, observer: Observer, mentee: Participant, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A mentee as an observer sees them: name, form and the observer's own notes."""
    notes = await repos.observers.notes(mentee.id, author_id=observer.user_id)
    timezone = await org_timezone(repos, programme)
    head = _("{name}\nForm of mentoring: {form}\nProgramme: «{programme}»").format(
        name=mentee.full_name, form=form_label(mentee.form), programme=programme.title
    )
    if notes:
        head += "\n\n" + _("Your notes ({count}), newest first:").format(count=len(notes))
    else:
        head += "\n\n" + _("You have not written notes about them yet.")
    blocks = [f"{note_when(n, timezone, locale)}\n{n.text}" for n in notes]
    text = fit(head, blocks, _("…and {count} earlier notes."))
    keyboard = [
        [InlineKeyboardButton(text=_("Add a note"), callback_data=ObserverCb(
            action="a", programme=programme.id, participant=mentee.id, page=page).pack())],
        [InlineKeyboardButton(text=_("Back to the list"), callback_data=ObserverCb(
            action="l", programme=programme.id, page=page).pack())],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


async def on_mentee(
    call: CallbackQuery, callback_data: ObserverCb, bot: Bot, state: FSMContext, repos: Repositories,
    i18n: I18n,
) -> None:
    """A mentee's screen for an observer (also leaves an unfinished note)."""
    found = await _observed(repos, call.from_user.id, callback_data.programme, callback_data.participant)
    if found is None or found[2] is None:
        await refuse(call, no_programme_access_text())
        return
    if await state.get_state() == NoteWriting.text.state:
        await state.clear()
    programme, observer, mentee = found
    await call.answer()
    await show_in_place(call, bot, *await _mentee_screen(
        repos, programme, observer, mentee, callback_data.page, i18n.current_locale
    ))


def note_prompt(name: str) -> str:
    """The question asking for a note."""
    return _("Write a note about {name} for the coordinators: their requests, what to take into account "
             "(one text message, up to {max} characters). /cancel — stop without saving.").format(
        name=name, max=NOTE_MAX)


async def on_add(
    call: CallbackQuery, callback_data: ObserverCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Ask an observer for the note."""
    found = await _observed(repos, call.from_user.id, callback_data.programme, callback_data.participant)
    if found is None or found[2] is None:
        await refuse(call, no_programme_access_text())
        return
    programme, _observer, mentee = found
    await state.set_state(NoteWriting.text)
    await state.set_data({"as": "observer", "programme": programme.id, "participant": mentee.id,
                          "page": callback_data.page})
    await call.answer()
    await bot.send_message(call.from_user.id, note_prompt(mentee.full_name))


async def start_coordinator_note(bot: Bot, state: FSMContext, user_id: int, cb: NoteCb, name: str) -> None:
    """Ask a coordinator for a note (access already checked by the caller; checked again on saving)."""
    await state.set_state(NoteWriting.text)
    await state.set_data({"as": "coordinator", "programme": cb.programme, "participant": cb.participant,
                          "role": cb.role.value})
    await bot.send_message(user_id, note_prompt(name))


async def _note_target(
    user_id: int, data: dict, settings: Settings, repos: Repositories
) -> tuple[Programme, Participant, Observer | None] | None:
    """The programme and person the note is about, checked again for the writer's role."""
    programme_id, participant_id = int(data.get("programme", 0)), int(data.get("participant", 0))
    if data.get("as") == "observer":
        found = await _observed(repos, user_id, programme_id, participant_id)
        return (found[0], found[2], found[1]) if found and found[2] else None
    programme = await managed_programme(user_id, programme_id, settings, repos)
    person = await repos.participants.get(participant_id) if programme else None
    if programme is None or person is None or person.programme_id != programme.id:
        return None
    return programme, person, None


async def on_note_text(
    message: Message, bot: Bot, state: FSMContext, settings: Settings, repos: Repositories
) -> None:
    """The note: text only, 1..2000 characters; saved, then "Saved" and the coordinators are told."""
    user_id = message.chat.id
    data = await state.get_data()
    target = await _note_target(user_id, data, settings, repos)
    if target is None:
        await state.clear()
        await message.answer(no_programme_access_text())
        return
    programme, person, observer = target
    if message.text is None:
        await message.answer(_("A note can only be text: stickers, photos and files are not saved. "
                               "Please write the note in a message, or /cancel."))
        return
    text = message.text.strip()
    if not text:
        await message.answer(_("The note is empty. Please write it in a message, or /cancel."))
        return
    if len(text) > NOTE_MAX:
        await message.answer(_("The note is {length} characters long; it can be at most {max}. Please "
                               "shorten it and send it again, or /cancel.").format(
            length=len(text), max=NOTE_MAX))
        return
    author = message.from_user.full_name[:100] if message.from_user else ""
    if observer is not None:
        author = observer.full_name
    role = "observer" if observer else "coordinator"
    await repos.observers.add_note(person.id, user_id, role, author, text)
    await state.clear()
    if observer is not None:
        page = int(data.get("page", 0))
        back = ObserverCb(action="m", programme=programme.id, participant=person.id, page=page)
    else:
        back = NoteCb(action="n", programme=programme.id, role=person.role, participant=person.id)
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=_("Back to {name}").format(name=person.full_name)[:60], callback_data=back.pack())]])
    await message.answer(_("Saved."), reply_markup=markup)
    if observer is not None:
        await _tell_coordinators(bot, repos, programme, observer, person)


async def _tell_coordinators(
    bot: Bot, repos: Repositories, programme: Programme, observer: Observer, person: Participant
) -> None:
    """A notice to the programme's coordinators that an observer added a note, with the card's button."""
    card = NoteCb(action="n", programme=programme.id, role=person.role, participant=person.id)
    for coordinator in await repos.organisations.coordinators(programme.organisation_id):
        await send_in_language(
            bot, repos, coordinator.user_id,
            lambda: _("New note in «{programme}»: {author} ({position}) wrote about {name}.").format(
                programme=programme.title, author=observer.full_name,
                position=position_label(observer.position), name=person.full_name,
            ),
            lambda: InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
                text=_("Open the notes"), callback_data=card.pack())]]),
        )


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
    await call.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
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
    r.message.register(on_mentees, Command("mentees"))
    r.callback_query.register(on_list, ObserverCb.filter(F.action == "l"))
    r.callback_query.register(on_mentee, ObserverCb.filter(F.action == "m"))
    r.callback_query.register(on_add, ObserverCb.filter(F.action == "a"))
    r.callback_query.register(on_withdraw, ObserverCb.filter(F.action.in_({"wa", "wy", "wn"})))
    r.message.register(on_note_text, NoteWriting.text, ~F.text.startswith("/"))
    return r
