"""A programme's mentee and mentor bases: a paged, filtered list and each person's card."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.callbacks import BasesCb, ProgrammeCb
from bot.config import Settings
from bot.labels import form_label, role_label, state_label
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
from handlers.readiness import readiness_button, readiness_lines
from storage.models import Consent, Participant, Programme, Role
from storage.repos import Repositories

PER_PAGE = 8
STATES = ("parent_pending", "not_started", "in_progress", "submitted")
MESSAGE_LIMIT = 4096




def _filter_label(state: str, count: int) -> str:
    labels = {
        "": _("All ({count})"),
        "parent_pending": _("Parent's consent pending ({count})"),
        "not_started": _("Questionnaire not started ({count})"),
        "in_progress": _("Questionnaire in progress ({count})"),
        "submitted": _("Questionnaire submitted ({count})"),
    }
    return labels[state].format(count=count)


def _button(text: str, cb: BasesCb, chosen: bool = False) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=("• " if chosen else "") + text, callback_data=cb.pack())


async def _list_view(
    repos: Repositories, programme: Programme, cb: BasesCb
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the base with the filters (a forged state, form or page falls back to the default)."""
    state = cb.state if cb.state in STATES else ""
    form = cb.form if cb.form in programme.forms else ""
    total = await repos.participants.count_of_programme(programme.id, cb.role, state or None, form or None)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(cb.page, 0), pages - 1)
    rows = await repos.participants.of_programme(
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
        count = await repos.participants.count_of_programme(
            programme.id, cb.role, value or None, form or None
        )
        filters.append(_button(
            _filter_label(value, count), here.model_copy(update={"state": value, "page": 0}), value == state
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


async def on_card(
    call: CallbackQuery, callback_data: BasesCb, bot: Bot, settings: Settings, repos: Repositories,
    questionnaires: Registry, i18n: I18n,
) -> None:
    """A person's card, only for a person of a programme the coordinator manages."""
    programme = await managed_programme(call.from_user.id, callback_data.programme, settings, repos)
    participant = await repos.participants.get(callback_data.participant) if programme else None
    if (
        programme is None or participant is None or participant.programme_id != programme.id
        or participant.role is not callback_data.role
    ):
        await refuse(call, no_programme_access_text())
        return
    text = await _card_text(repos, questionnaires, programme, participant, i18n.current_locale)
    back = callback_data.model_copy(update={"action": "l", "participant": 0})
    keyboard = [[_button(_("Back to the list"), back)]]
    if participant.role is Role.MENTOR:
        keyboard.insert(0, [readiness_button(programme.id, participant.id)])
    markup = InlineKeyboardMarkup(inline_keyboard=keyboard)
    await call.answer()
    await show_in_place(call, bot, text, markup)


def router() -> Router:
    """The buttons of the bases (each checks the person's access to the programme)."""
    r = Router(name="bases")
    r.callback_query.register(on_list, BasesCb.filter(F.action == "l"))
    r.callback_query.register(on_card, BasesCb.filter(F.action == "c"))
    return r
