"""The preference survey after the group meeting: whom each participant would like as a partner.

A coordinator opens it once per programme; every active participant who submitted the questionnaire
gets the people of their form to choose from (up to three, in the order tapped). Every tap checks
again that the participant is the person tapping, that the survey is open and that the candidate may be
chosen, so a forged or stale button changes nothing. The choice in progress is kept in the person's
FSM data (in the database); what was saved is in the preferences table.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import PreferenceCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label, role_label
from handlers.access import (
    programme_for_button,
    refuse,
    show_in_place,
)
from handlers.notices import send_in_language
from storage.models import Participant, ParticipantStatus, Programme, Role
from storage.repos import Repositories
from storage.repos.preferences import MAX_CHOICES

DRAFT_KEY = "preference_drafts"


def first_name(participant: Participant) -> str:
    """The first word of the name as the participant wrote it (no surname)."""
    parts = participant.full_name.split()
    return parts[0] if parts else participant.full_name


def _profile(candidate: Participant) -> str:
    return _("{name} — {role}, {form}").format(
        name=first_name(candidate), role=role_label(candidate.role), form=form_label(candidate.form)
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
    for candidate in candidates:
        mark = f"{selected.index(candidate.id) + 1}. " if candidate.id in selected else "☐ "
        cb = PreferenceCb(action="t", participant=participant.id, chosen=candidate.id)
        rows.append([InlineKeyboardButton(text=mark + _profile(candidate), callback_data=cb.pack())])
    save = PreferenceCb(action="s", participant=participant.id)
    rows.append([InlineKeyboardButton(text=_("Save"), callback_data=save.pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def on_open_survey(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """Open the programme's survey once and send every respondent their choice."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    if not await repos.preferences.open(programme.id, call.from_user.id):
        await refuse(call, _("The preference survey of this programme is already open."))
        return
    await call.answer()
    sent = 0
    for participant in await repos.preferences.respondents(programme.id):
        candidates = await repos.preferences.candidates(participant)
        if not candidates:
            continue
        chosen = await repos.preferences.choices(participant.id)
        await send_in_language(
            bot, repos, participant.user_id,
            lambda p=participant: _text(programme, p),  # type: ignore[misc]
            lambda p=participant, c=candidates, s=chosen: _markup(p, c, s),  # type: ignore[misc]
        )
        sent += 1
    await bot.send_message(
        call.from_user.id,
        _("The preference survey of «{programme}» is open. Participants who received the choice: "
          "{count}.").format(programme=programme.title, count=sent),
    )


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
    names = ", ".join(f"{rank}. {first_name(by_id[i])}" for rank, i in enumerate(selected, 1)) or "—"
    await bot.send_message(
        call.from_user.id,
        _("Saved. Your choice: {choice}. You can change it while the survey is open.").format(choice=names),
    )


def router() -> Router:
    """The coordinator's button that opens the survey, then the participants' taps."""
    r = Router(name="preferences")
    r.callback_query.register(on_open_survey, ProgrammeCb.filter(F.action == "prefs"))
    r.callback_query.register(on_toggle, PreferenceCb.filter(F.action == "t"))
    r.callback_query.register(on_save, PreferenceCb.filter(F.action == "s"))
    return r
