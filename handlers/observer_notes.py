"""An observer's mentees and notes: /mentees → a programme → its mentees → the observer's own notes →
"Add a note"; and the typed note itself, for observers and for coordinators writing on a person's card.
Every button and every typed note checks again that the person observes (or manages) the programme and
that the mentee is one of its mentees, so a forged or stale button shows and changes nothing.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.callbacks import NoteCb, ObserverCb
from bot.config import Settings
from bot.labels import form_label
from bot.states import NoteWriting
from handlers.access import (
    managed_programme,
    no_programme_access_text,
    page_nav,
    refuse,
    show_in_place,
)
from handlers.notices import send_in_language
from handlers.observers import fit, note_when, org_timezone, position_label
from storage.models import Observer, Participant, ParticipantStatus, Programme, Role
from storage.repos import Repositories

NOTE_MAX = 2000
PER_PAGE = 8


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
    text = fit(head, blocks, lambda count: ngettext(
        "…and {count} earlier note.", "…and {count} earlier notes.", count).format(count=count))
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


def router() -> Router:
    """An observer's mentee screens, then the typed notes."""
    r = Router(name="observer_notes")
    r.message.register(on_mentees, Command("mentees"))
    r.callback_query.register(on_list, ObserverCb.filter(F.action == "l"))
    r.callback_query.register(on_mentee, ObserverCb.filter(F.action == "m"))
    r.callback_query.register(on_add, ObserverCb.filter(F.action == "a"))
    r.message.register(on_note_text, NoteWriting.text, ~F.text.startswith("/"))
    return r
