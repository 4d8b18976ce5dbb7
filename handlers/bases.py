"""A programme's mentee and mentor bases: a paged, filtered list and each person's card."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date, format_datetime

from bot.callbacks import BasesCb, NoteCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label, role_label, state_label
from bot.states import NoteWriting
from dialogs.render import format_answer, pick
from dialogs.schema import Registry
from handlers.access import (
    managed_programme,
    no_programme_access_text,
    page_nav,
    programme_for_button,
    refuse,
    show_in_place,
)
from handlers.notices import questionnaire_status
from handlers.observer_notes import start_coordinator_note
from handlers.observers import fit, note_author, note_when, org_timezone
from handlers.readiness import readiness_button, readiness_lines
from storage.models import Consent, Participant, Programme, Role
from storage.repos import Repositories

PER_PAGE = 8
NOTES_PER_PAGE = 5
HISTORY_PER_PAGE = 25
# The state filters: "invited" (opened the link, not joined: a count only), then the derived states;
# "submitted" is in_pair ∪ without_pair.
STATES = ("invited", "parent_pending", "not_started", "in_progress", "submitted", "in_pair", "without_pair")
MESSAGE_LIMIT = 4096


def _filter_label(state: str, count: int) -> str:
    labels = {
        "": _("All ({count})"),
        "invited": _("Invited ({count})"),
        "parent_pending": _("Parent's consent pending ({count})"),
        "not_started": _("Questionnaire not started ({count})"),
        "in_progress": _("Questionnaire in progress ({count})"),
        "submitted": _("Questionnaire submitted ({count})"),
        "in_pair": _("In a pair ({count})"),
        "without_pair": _("Without a pair ({count})"),
    }
    return labels[state].format(count=count)


def _invited_text(role: Role, count: int) -> str:
    if role is Role.MENTEE:
        text = ngettext("{count} person opened the mentee link but has not agreed yet.",
                        "{count} people opened the mentee link but have not agreed yet.", count)
    else:
        text = ngettext("{count} person opened the mentor link but has not agreed yet.",
                        "{count} people opened the mentor link but have not agreed yet.", count)
    return text.format(count=count)


async def _filter_counts(repos: Repositories, programme: Programme, role: Role, form: str) -> dict[str, int]:
    """The count of every filter: two queries whatever the size of the base."""
    by_state = await repos.participants.state_counts(programme.id, role, form or None)
    counts = {state: by_state.get(state, 0) for state in STATES}
    counts[""] = sum(by_state.values())
    counts["submitted"] = counts["in_pair"] + counts["without_pair"]
    counts["invited"] = await repos.observers.invited_count(programme.id, role)
    return counts


def _button(text: str, cb: BasesCb, chosen: bool = False) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=("• " if chosen else "") + text, callback_data=cb.pack())


async def _list_view(
    repos: Repositories, programme: Programme, cb: BasesCb
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the base with the filters (a forged state, form or page falls back to the default)."""
    state = cb.state if cb.state in STATES else ""
    form = cb.form if cb.form in programme.forms else ""
    counts = await _filter_counts(repos, programme, cb.role, form)
    total = 0 if state == "invited" else counts[state]
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(cb.page, 0), pages - 1)
    rows = [] if state == "invited" else await repos.participants.of_programme(
        programme.id, cb.role, state or None, form or None, page * PER_PAGE, PER_PAGE
    )
    here = BasesCb(action="l", programme=programme.id, role=cb.role, state=state, form=form, page=page)

    def person(row: tuple[Participant, str]) -> InlineKeyboardButton:
        participant, row_state = row
        label = _("{name} — {status}").format(name=participant.full_name, status=state_label(row_state))
        return _button(label[:60], here.model_copy(update={"action": "c", "participant": participant.id}))

    keyboard = [[person(row)] for row in rows]
    nav = page_nav(page, page < pages - 1, lambda n: here.model_copy(update={"page": n}))
    if nav:
        keyboard.append(nav)
    filters = []
    for value in ("", *STATES):
        filters.append(_button(
            _filter_label(value, counts[value]), here.model_copy(update={"state": value, "page": 0}),
            value == state,
        ))
    keyboard += [filters[i:i + 2] for i in range(0, len(filters), 2)]
    if len(programme.forms) > 1:
        forms = [_button(_("All forms"), here.model_copy(update={"form": "", "page": 0}), form == "")]
        forms += [
            _button(form_label(f), here.model_copy(update={"form": f, "page": 0}), f == form)
            for f in programme.forms
        ]
        keyboard += [forms[i:i + 2] for i in range(0, len(forms), 2)]
    to_programme = ProgrammeCb(action="open", programme=programme.id).pack()
    keyboard.append([InlineKeyboardButton(text=_("Back to the programme"), callback_data=to_programme)])
    title = _("Mentees of «{programme}»") if cb.role is Role.MENTEE else _("Mentors of «{programme}»")
    title = title.format(programme=programme.title)
    shown = _("Shown: {count}, page {page} of {pages}.").format(count=total, page=page + 1, pages=pages)
    text = f"{title}\n{shown}" + ("" if total else "\n\n" + _("Nobody here yet."))
    if state == "invited":
        text = f"{title}\n{_invited_text(cb.role, counts['invited'])}"
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


def _consent_line(consent: Consent, locale: str, timezone: ZoneInfo) -> str:
    kind = _("own consent") if consent.kind == "self" else _("parent's consent")
    decisions = {"given": _("given"), "refused": _("refused"), "withdrawn": _("withdrawn")}
    return _("{kind}: {decision}, {date}, text version {version}").format(
        kind=kind, decision=decisions.get(consent.decision, consent.decision),
        date=format_date(consent.created_at.astimezone(timezone).date(), format="long", locale=locale),
        version=consent.text_version,
    )


async def _card_text(
    repos: Repositories, questionnaires: Registry, programme: Programme, participant: Participant,
    locale: str,
) -> str:
    """Everything the programme knows about a person, in the coordinator's language."""
    org = await repos.organisations.get(programme.organisation_id)
    timezone = ZoneInfo(org.timezone if org else "Europe/Moscow")
    joined = participant.created_at.astimezone(timezone).date()
    lines = [
        _("{name}\nRole: {role}\nForm of mentoring: {form}\nMinor: {minor}\nJoined: {date}").format(
            name=participant.full_name, role=role_label(participant.role),
            form=form_label(participant.form), minor=_("Yes") if participant.is_minor else _("No"),
            date=format_date(joined, format="long", locale=locale),
        ),
        "",
        _("Consents:"),
    ]
    lines += [_consent_line(c, locale, timezone) for c in await repos.participants.consents(participant.id)]
    if participant.role is Role.MENTOR:
        lines += ["", _("Readiness:"), *readiness_lines(await repos.readiness.get(participant.id), locale)]
    lines += ["", _("Questionnaire: {status}").format(status=await questionnaire_status(repos, participant))]
    for response in await repos.responses.of_participant(participant.id):
        q = questionnaires.get(response.questionnaire_id)
        for question in q.questions if q else ():
            if question.id in response.answers:
                answer = format_answer(question, response.answers[question.id], locale)
                lines.append(f"{pick(question.text, locale)}\n— {answer}")
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"


async def on_list(
    call: CallbackQuery, callback_data: BasesCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """A page of the mentees or mentors of a programme the person manages."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await call.answer()
    await show_in_place(call, bot, *await _list_view(repos, programme, callback_data))


async def _person(
    user_id: int, programme_id: int, participant_id: int, role: Role, settings: Settings, repos: Repositories
) -> tuple[Programme, Participant] | None:
    """The programme and the person, if the user manages the programme and it is its person of the role."""
    programme = await managed_programme(user_id, programme_id, settings, repos)
    participant = await repos.participants.get(participant_id) if programme else None
    if (
        programme is None or participant is None or participant.programme_id != programme.id
        or participant.role is not role
    ):
        return None
    return programme, participant


async def on_card(
    call: CallbackQuery, callback_data: BasesCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, questionnaires: Registry, i18n: I18n,
) -> None:
    """A person's card, only for a person of a programme the coordinator manages."""
    cb = callback_data
    found = await _person(call.from_user.id, cb.programme, cb.participant, cb.role, settings, repos)
    if found is None:
        await refuse(call, no_programme_access_text())
        return
    programme, participant = found
    if await state.get_state() == NoteWriting.text.state:
        await state.clear()
    text = await _card_text(repos, questionnaires, programme, participant, i18n.current_locale)
    back = callback_data.model_copy(update={"action": "l", "participant": 0})
    notes = NoteCb(action="n", programme=programme.id, role=participant.role, participant=participant.id)
    count = await repos.observers.count_notes(participant.id)
    keyboard = [
        [_button(_("Notes ({count})").format(count=count), notes),
         _button(_("History"), notes.model_copy(update={"action": "h"}))],
        [_button(_("Back to the list"), back)],
    ]
    if participant.role is Role.MENTOR:
        keyboard.insert(0, [readiness_button(programme.id, participant.id)])
    markup = InlineKeyboardMarkup(inline_keyboard=keyboard)
    await call.answer()
    await show_in_place(call, bot, text, markup)


def _to_card(programme: Programme, participant: Participant) -> list[InlineKeyboardButton]:
    card = BasesCb(action="c", programme=programme.id, role=participant.role, participant=participant.id)
    return [_button(_("Back to the card"), card)]


async def _notes_view(
    repos: Repositories, programme: Programme, participant: Participant, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the notes about a person, newest first, with author, role or position and date."""
    total = await repos.observers.count_notes(participant.id)
    pages = max(1, -(-total // NOTES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    notes = await repos.observers.notes(participant.id, offset=page * NOTES_PER_PAGE, limit=NOTES_PER_PAGE)
    timezone = await org_timezone(repos, programme)
    head = _("Notes about {name}: {count}, newest first. Page {page} of {pages}.").format(
        name=participant.full_name, count=total, page=page + 1, pages=pages
    )
    if not total:
        head += "\n\n" + _("No notes yet. Observers (class teachers, psychologists, social pedagogues) and "
                            "coordinators can add them.")
    blocks = [f"{note_when(n, timezone, locale)} — {note_author(n)}\n{n.text}" for n in notes]
    text = fit(head, blocks, lambda count: ngettext(
        "…and {count} more note on this page: it is too long to show whole.",
        "…and {count} more notes on this page: it is too long to show whole.", count).format(count=count))
    here = NoteCb(action="n", programme=programme.id, role=participant.role, participant=participant.id)
    keyboard = [[_button(_("Add a note"), here.model_copy(update={"action": "a"}))]]
    nav = page_nav(page, page < pages - 1, lambda n: here.model_copy(update={"page": n}))
    if nav:
        keyboard.append(nav)
    keyboard.append(_to_card(programme, participant))
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


def _event_text(kind: str, detail: str) -> str:
    """One event of a person's history."""
    if kind == "preferences":
        count = int(detail or 0)
        return ngettext("chose {count} preferred partner", "chose {count} preferred partners", count).format(
            count=count)
    if kind == "note":
        if not detail:
            return _("note added by an observer who has withdrawn")
        return _("note added by {author}").format(author=detail)
    texts = {
        "joined": _("joined the programme"),
        "consent_given": _("gave consent to personal-data processing"),
        "parent_given": _("parent / legal representative confirmed consent"),
        "parent_refused": _("parent / legal representative refused consent"),
        "questionnaire_started": _("started the questionnaire"),
        "questionnaire_submitted": _("submitted the questionnaire"),
        "interview": _("interview recorded as held"),
        "agreement": _("written agreement to the extra duties recorded"),
        "readiness_ready": _("readiness recorded: ready to be matched"),
        "readiness_not_ready": _("readiness recorded: not ready"),
        "proposed": _("matching proposed a pair with {name}"),
        "accepted": _("the proposal of a pair with {name} was accepted"),
        "rejected": _("the proposal of a pair with {name} was rejected"),
        "pair_approved": _("pair approved"),
        "pair_ended": _("pair ended"),
    }
    return texts.get(kind, kind).format(name=detail)


async def _history_view(
    repos: Repositories, programme: Programme, participant: Participant, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of what happened to a person, oldest first, in the organisation's time zone."""
    events = await repos.participants.history(participant.id)
    pages = max(1, -(-len(events) // HISTORY_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    zone = ZoneInfo(await org_timezone(repos, programme))
    shown = events[page * HISTORY_PER_PAGE:(page + 1) * HISTORY_PER_PAGE]
    head = _("History of {name}. Page {page} of {pages}.").format(
        name=participant.full_name, page=page + 1, pages=pages
    )
    lines = [
        _("{when} — {event}").format(
            when=format_datetime(at, format="short", tzinfo=zone, locale=locale),
            event=_event_text(kind, detail)[:300],
        )
        for at, kind, detail in shown
    ]
    text = head + "\n\n" + ("\n".join(lines) if lines else _("Nothing recorded yet."))
    if len(text) > MESSAGE_LIMIT:  # names are short, so only in theory: cut safely
        text = text[:MESSAGE_LIMIT - 1] + "…"
    here = NoteCb(action="h", programme=programme.id, role=participant.role, participant=participant.id)
    keyboard = []
    nav = page_nav(page, page < pages - 1, lambda n: here.model_copy(update={"page": n}))
    if nav:
        keyboard.append(nav)
    keyboard.append(_to_card(programme, participant))
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


async def on_notes(
    call: CallbackQuery, callback_data: NoteCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """The notes (n) or the history (h) of a person of a programme the coordinator manages, or adding a
    note (a)."""
    cb = callback_data
    found = await _person(call.from_user.id, cb.programme, cb.participant, cb.role, settings, repos)
    if found is None:
        await refuse(call, no_programme_access_text())
        return
    programme, participant = found
    await call.answer()
    if callback_data.action == "a":
        await start_coordinator_note(bot, state, call.from_user.id, callback_data, participant.full_name)
        return
    if await state.get_state() == NoteWriting.text.state:
        await state.clear()
    view = _history_view if callback_data.action == "h" else _notes_view
    await show_in_place(call, bot, *await view(
        repos, programme, participant, callback_data.page, i18n.current_locale
    ))


def router() -> Router:
    """The buttons of the bases (each checks the person's access to the programme)."""
    r = Router(name="bases")
    r.callback_query.register(on_list, BasesCb.filter(F.action == "l"))
    r.callback_query.register(on_card, BasesCb.filter(F.action == "c"))
    r.callback_query.register(on_notes, NoteCb.filter(F.action.in_({"n", "a", "h"})))
    return r
