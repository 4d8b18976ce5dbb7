"""The preference survey after the group meeting: whom each participant would like as a partner.

A coordinator opens it once per programme from its screen (state, who has chosen, remind, close);
every active participant who submitted the questionnaire gets the people of their form to choose from
(up to three, in the order tapped), or is told that there is nobody to choose from yet; those who
submit while it is open get it then. Once closed it stays closed. Every tap checks
again that the participant is the person tapping, that the survey is open and that the candidate may be
chosen, so a forged or stale button changes nothing. The choice in progress is kept in the person's
FSM data (in the database); what was saved is in the preferences table.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import PreferenceCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label, role_label
from bot.outbox import Outbox
from handlers.access import (
    programme_screen,
    programme_to_change,
    refuse,
    show_in_place,
)
from handlers.invite_links import long_date
from handlers.notices import queued_in_language, send_in_language
from storage.db import utcnow
from storage.models import OutboxMessage, Participant, ParticipantStatus, Programme, Role
from storage.repos import Repositories
from storage.repos.preferences import MAX_CHOICES

DRAFT_KEY = "preference_drafts"
PREFERENCE_KIND = "preference"


def first_name(participant: Participant) -> str:
    """The first word of the name as the participant wrote it (no surname)."""
    parts = participant.full_name.split()
    return parts[0] if parts else participant.full_name


def shown_names(candidates: list[Participant]) -> dict[int, str]:
    """How each candidate is named on the buttons: the first name, with the surname's initial where two
    share a first name, and a number where even that is the same."""
    firsts = Counter(first_name(c) for c in candidates)
    names = {}
    for c in candidates:
        first, rest = first_name(c), c.full_name.split()[1:]
        names[c.id] = f"{first} {rest[0][0]}." if firsts[first] > 1 and rest else first
    repeated = Counter(names.values())
    seen: Counter[str] = Counter()
    for c in candidates:
        name = names[c.id]
        if repeated[name] > 1:
            seen[name] += 1
            names[c.id] = f"{name} ({seen[name]})"
    return names


def _profile(candidate: Participant, name: str) -> str:
    return _("{name} — {role}, {form}").format(
        name=name, role=role_label(candidate.role), form=form_label(candidate.form)
    )


def _text(programme: Programme, participant: Participant) -> str:
    if participant.role is Role.MENTEE:
        text = _("Preference survey of «{programme}».\n\nWhom would you like to have as your mentor? "
                 "Choose up to three: the first you tap is your first choice. Tap again to remove. "
                 "Then press «Save».")
    else:
        text = _("Preference survey of «{programme}».\n\nWhom would you like to have as your mentee? "
                 "Choose up to three: the first you tap is your first choice. Tap again to remove. "
                 "Then press «Save».")
    return text.format(programme=programme.title)


def _markup(
    participant: Participant, candidates: list[Participant], selected: list[int]
) -> InlineKeyboardMarkup:
    rows = []
    names = shown_names(candidates)
    for candidate in candidates:
        mark = f"{selected.index(candidate.id) + 1}. " if candidate.id in selected else "☐ "
        cb = PreferenceCb(action="t", participant=participant.id, chosen=candidate.id)
        label = mark + _profile(candidate, names[candidate.id])
        rows.append([InlineKeyboardButton(text=label, callback_data=cb.pack())])
    save = PreferenceCb(action="s", participant=participant.id)
    rows.append([InlineKeyboardButton(text=_("Save"), callback_data=save.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _no_candidates_text(programme: Programme) -> str:
    return _("The preference survey of «{programme}» is open, but there is nobody of your form to choose "
             "from yet, so you don't need to do anything. The coordinator will form the pairs from the "
             "questionnaires and tell you who your partner is.").format(programme=programme.title)


async def survey_message(
    repos: Repositories, i18n: I18n, programme: Programme, participant: Participant, dedupe: str,
    *, reminder: bool = False,
) -> OutboxMessage | None:
    """A participant's choice for the outbox (with buttons), or, with nobody to choose from, the word that
    there is nobody (None for a reminder)."""
    candidates = await repos.preferences.candidates(participant)
    if not candidates:
        if reminder:
            return None
        return await queued_in_language(
            repos, i18n, participant.user_id, lambda: _no_candidates_text(programme),
            kind=PREFERENCE_KIND, dedupe=dedupe, ref=programme.id,
        )
    chosen = await repos.preferences.choices(participant.id)

    def text() -> str:
        body = _text(programme, participant)
        return _("Reminder: you have not chosen yet.") + "\n\n" + body if reminder else body

    return await queued_in_language(repos, i18n, participant.user_id, text, kind=PREFERENCE_KIND,
                                    dedupe=dedupe, ref=programme.id,
                                    markup=lambda: _markup(participant, candidates, chosen))


async def offer_after_submit(bot: Bot, repos: Repositories, participant: Participant) -> None:
    """A participant who submits the questionnaire while the survey is open is asked to choose then
    (straight away: they are talking to the bot)."""
    programme = await repos.programmes.get(participant.programme_id)
    if programme is None or not await repos.preferences.is_open(programme.id):
        return
    candidates = await repos.preferences.candidates(participant)
    if not candidates:
        await send_in_language(bot, repos, participant.user_id, lambda: _no_candidates_text(programme))
        return
    chosen = await repos.preferences.choices(participant.id)
    await send_in_language(bot, repos, participant.user_id, lambda: _text(programme, participant),
                           lambda: _markup(participant, candidates, chosen))


async def _local_date(repos: Repositories, i18n: I18n, programme: Programme, moment: datetime | None) -> str:
    """A moment as a date in the organisation's time zone, in the reader's language."""
    org = await repos.organisations.get(programme.organisation_id)
    moment = moment or utcnow()
    return long_date(moment.astimezone(ZoneInfo(org.timezone if org else "UTC")).date(), i18n)


async def _screen(
    repos: Repositories, i18n: I18n, programme: Programme
) -> tuple[str, InlineKeyboardMarkup]:
    survey = await repos.preferences.survey(programme.id)
    if survey is None:
        state = _("Not opened yet. Open it after the group meeting: every participant who submitted the "
                  "questionnaire chooses up to three people of the other side of their form.")
    elif survey.is_open:
        opened = await _local_date(repos, i18n, programme, survey.opened_at)
        state = _("Open since {date}.").format(date=opened)
    else:
        state = _("Closed on {date}: the choices can no longer be changed.").format(
            date=await _local_date(repos, i18n, programme, survey.closed_at))
    progress = await repos.preferences.progress(programme.id)
    lines = [
        _("Mentees who chose: {answered} of {asked}").format(
            answered=progress[Role.MENTEE].answered, asked=progress[Role.MENTEE].asked),
        _("Mentors who chose: {answered} of {asked}").format(
            answered=progress[Role.MENTOR].answered, asked=progress[Role.MENTOR].asked),
    ]
    text = _("Preference survey of «{programme}»").format(programme=programme.title)
    text += "\n\n" + state + "\n" + "\n".join(lines)
    kb = InlineKeyboardBuilder()
    if survey is None:
        kb.button(text=_("Open the survey"),
                  callback_data=ProgrammeCb(action="prefs_ask_open", programme=programme.id))
    elif survey.is_open:
        kb.button(text=_("Remind those who have not chosen"),
                  callback_data=ProgrammeCb(action="prefs_remind", programme=programme.id))
        kb.button(text=_("Close the survey"),
                  callback_data=ProgrammeCb(action="prefs_ask_close", programme=programme.id))
    kb.button(text=_("« Programme"), callback_data=ProgrammeCb(action="open", programme=programme.id))
    kb.adjust(1)
    return text, kb.as_markup()


async def on_menu(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """The survey's screen: its state, who has chosen, and what can be done next."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _screen(repos, i18n, programme))


async def on_ask(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """Confirm before the survey is opened or closed."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    opening = callback_data.action == "prefs_ask_open"
    if opening:
        text = _("Open the preference survey of «{programme}»? Every participant who submitted the "
                 "questionnaire gets a message to choose up to three people; those who submit later get "
                 "it then.")
    else:
        text = _("Close the preference survey of «{programme}»? After that nobody can change their "
                 "choice, and the survey cannot be opened again.")
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, open") if opening else _("Yes, close"),
              callback_data=ProgrammeCb(action="prefs" if opening else "prefs_close", programme=programme.id))
    kb.button(text=_("No, back"), callback_data=ProgrammeCb(action="prefs_menu", programme=programme.id))
    kb.adjust(1)
    await call.answer()
    await show_in_place(call, bot, text.format(programme=programme.title), kb.as_markup())


async def _refuse_opening(call: CallbackQuery, repos: Repositories, i18n: I18n, programme: Programme) -> None:
    survey = await repos.preferences.survey(programme.id)
    if survey is not None and not survey.is_open:
        closed = await _local_date(repos, i18n, programme, survey.closed_at)
        await refuse(call, _("The preference survey of this programme was closed on {date}; it cannot be "
                             "opened again.").format(date=closed))
        return
    await refuse(call, _("The preference survey of this programme is already open."))


async def on_open_survey(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n, outbox: Outbox,
) -> None:
    """Open the programme's survey once; every respondent's choice is queued in the same transaction."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    messages = [
        m for p in await repos.preferences.respondents(programme.id)
        if (m := await survey_message(repos, i18n, programme, p, f"pref:{programme.id}:{p.id}")) is not None
    ]
    if not await repos.preferences.open(programme.id, call.from_user.id, messages):
        await _refuse_opening(call, repos, i18n, programme)
        return
    outbox.wake()
    await call.answer()
    sent = sum(m.markup is not None for m in messages)
    nobody = len(messages) - sent
    await show_in_place(call, bot, *await _screen(repos, i18n, programme))
    text = _("The preference survey of «{programme}» is open. Participants who get the choice: "
             "{count}.").format(programme=programme.title, count=sent)
    if nobody:
        text += "\n" + _("Told that there is nobody of their form to choose from yet: {count}.").format(
            count=nobody)
    await bot.send_message(call.from_user.id, text)


async def on_close(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Close the survey: the choices stay as saved."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    if not await repos.preferences.close(programme.id):
        await refuse(call, _("The preference survey of this programme is not open."))
        return
    await call.answer(_("The preference survey is closed."))
    await show_in_place(call, bot, *await _screen(repos, i18n, programme))


async def on_remind(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n, outbox: Outbox,
) -> None:
    """Queue the choice again for everyone asked who has not saved one."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    if not await repos.preferences.is_open(programme.id):
        await refuse(call, _("The preference survey of this programme is not open."))
        return
    messages = [
        m for p in await repos.preferences.not_answered(programme.id)
        if (m := await survey_message(
            repos, i18n, programme, p, f"pref-remind:{programme.id}:{p.id}:{call.id}", reminder=True
        )) is not None
    ]
    sent = await repos.outbox.enqueue(messages)
    outbox.wake()
    if sent:
        text = ngettext("Reminder queued for {count} participant.",
                        "Reminder queued for {count} participants.", sent).format(count=sent)
    else:
        text = _("Everyone who was asked has already chosen: nobody to remind.")
    await call.answer(text, show_alert=True)
    await show_in_place(call, bot, *await _screen(repos, i18n, programme))


async def _own(
    call: CallbackQuery, callback_data: PreferenceCb, repos: Repositories
) -> tuple[Programme, Participant, list[Participant]] | None:
    """The programme, the participant and their candidates, if the tap is the participant's own and the
    survey is open; otherwise they are told why and None is returned."""
    participant = await repos.participants.get(callback_data.participant)
    if (
        participant is None or participant.user_id != call.from_user.id
        or participant.status is not ParticipantStatus.ACTIVE
    ):
        await refuse(call, _("This choice is not yours."))
        return None
    programme = await repos.programmes.get(participant.programme_id)
    if programme is None or not await repos.preferences.is_open(programme.id):
        await refuse(call, _("The preference survey is closed: the choice can no longer be changed."))
        return None
    return programme, participant, await repos.preferences.candidates(participant)


async def _draft(state: FSMContext, repos: Repositories, participant: Participant) -> list[int]:
    drafts = (await state.get_data()).get(DRAFT_KEY, {})
    draft = drafts.get(str(participant.id))
    if isinstance(draft, list):
        return [int(i) for i in draft]
    return await repos.preferences.choices(participant.id)


async def _keep_draft(state: FSMContext, participant: Participant, selected: list[int]) -> None:
    drafts = dict((await state.get_data()).get(DRAFT_KEY, {}))
    drafts[str(participant.id)] = selected
    await state.update_data({DRAFT_KEY: drafts})


async def on_toggle(
    call: CallbackQuery, callback_data: PreferenceCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Choose a candidate (next rank) or remove them."""
    found = await _own(call, callback_data, repos)
    if found is None:
        return
    programme, participant, candidates = found
    allowed = {c.id for c in candidates}
    if callback_data.chosen not in allowed:
        await refuse(call, _("This person cannot be chosen in the survey."))
        return
    selected = [i for i in await _draft(state, repos, participant) if i in allowed]
    if callback_data.chosen in selected:
        selected.remove(callback_data.chosen)
    elif len(selected) >= MAX_CHOICES:
        await refuse(call, _("You can choose up to three people. Tap a chosen person to remove them "
                             "first."))
        return
    else:
        selected.append(callback_data.chosen)
    await _keep_draft(state, participant, selected)
    await call.answer()
    await show_in_place(call, bot, _text(programme, participant), _markup(participant, candidates, selected))


async def on_save(
    call: CallbackQuery, callback_data: PreferenceCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Write the choice to the database, then say so."""
    found = await _own(call, callback_data, repos)
    if found is None:
        return
    _programme, participant, candidates = found
    by_id = {c.id: c for c in candidates}
    selected = [i for i in await _draft(state, repos, participant) if i in by_id][:MAX_CHOICES]
    await repos.preferences.set_choices(participant.id, selected)
    await _keep_draft(state, participant, selected)
    await call.answer()
    shown = shown_names(candidates)
    names = ", ".join(f"{rank}. {shown[i]}" for rank, i in enumerate(selected, 1)) or "—"
    await bot.send_message(
        call.from_user.id,
        _("Saved. Your choice: {choice}. You can change it while the survey is open.").format(choice=names),
    )


def router() -> Router:
    """The coordinator's survey screen and its buttons, then the participants' taps."""
    r = Router(name="preferences")
    r.callback_query.register(on_menu, ProgrammeCb.filter(F.action == "prefs_menu"))
    r.callback_query.register(on_ask, ProgrammeCb.filter(F.action.in_({"prefs_ask_open", "prefs_ask_close"})))
    r.callback_query.register(on_open_survey, ProgrammeCb.filter(F.action == "prefs"))
    r.callback_query.register(on_close, ProgrammeCb.filter(F.action == "prefs_close"))
    r.callback_query.register(on_remind, ProgrammeCb.filter(F.action == "prefs_remind"))
    r.callback_query.register(on_toggle, PreferenceCb.filter(F.action == "t"))
    r.callback_query.register(on_save, PreferenceCb.filter(F.action == "s"))
    return r
