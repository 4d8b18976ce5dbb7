"""A programme's survey results for its coordinators: response rates on screen, the spreadsheet and the charts
as files. What one side said about the other reaches coordinators only."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ProgrammeCb
from bot.config import Settings
from bot.reports import chart_png, results_xlsx
from dialogs.results import Answered, Summary, changes, summarise
from dialogs.schema import Registry
from handlers.access import programme_for_button, programme_screen
from storage.models import Programme, SurveyKind
from storage.repos import Repositories

ORDER = (SurveyKind.ASSESSMENT_BEFORE, SurveyKind.FEEDBACK, SurveyKind.SATISFACTION, SurveyKind.QUALITY,
         SurveyKind.ASSESSMENT_AFTER)


def kind_label(kind: SurveyKind) -> str:
    """A survey round's kind as the coordinator reads it."""
    labels = {
        SurveyKind.ASSESSMENT_BEFORE: _("Self-assessment before"),
        SurveyKind.FEEDBACK: _("Feedback"),
        SurveyKind.SATISFACTION: _("Satisfaction"),
        SurveyKind.QUALITY: _("Programme quality"),
        SurveyKind.ASSESSMENT_AFTER: _("Self-assessment after"),
    }
    return labels[kind]


async def gather(
    repos: Repositories, registry: Registry, programme: Programme
) -> dict[SurveyKind, tuple[int, list[Answered]]]:
    """Per kind of survey: how many were invited and the submitted answers, over all its rounds."""
    found: dict[SurveyKind, tuple[int, list[Answered]]] = {}
    for survey_round in await repos.surveys.of_programme(programme.id):
        invited, answered = found.get(survey_round.kind, (0, []))
        invited += len(await repos.surveys.invited(survey_round.id))
        for participant_id, questionnaire_id, answers in await repos.surveys.answers(survey_round.id):
            person = await repos.participants.get(participant_id)
            q = registry.get(questionnaire_id)
            if person is not None and q is not None:
                answered.append(Answered(person.id, person.full_name, person.role.value, person.form, q,
                                         answers))
        found[survey_round.kind] = (invited, answered)
    return found


async def _screen(
    repos: Repositories, registry: Registry, programme: Programme
) -> tuple[str, InlineKeyboardMarkup]:
    data = await gather(repos, registry, programme)
    lines = [_("Survey results of «{programme}»").format(programme=programme.title), ""]
    for kind in ORDER:
        if kind in data:
            invited, answered = data[kind]
            lines.append(_("{survey}: answered {answered} of {invited}").format(
                survey=kind_label(kind), answered=len(answered), invited=invited))
    if not data:
        lines.append(_("No survey has been sent yet: the self-assessment goes out when a pair starts its "
                       "work, the satisfaction and quality surveys after its final meeting."))
    kb = InlineKeyboardBuilder()
    if data:
        for label, action in ((_("Spreadsheet"), "results_xlsx"), (_("Charts"), "results_png")):
            kb.button(text=label, callback_data=ProgrammeCb(action=action, programme=programme.id))
    kb.button(text=_("Back to the programme"),
              callback_data=ProgrammeCb(action="open", programme=programme.id))
    kb.adjust(2, 1)
    return "\n".join(lines), kb.as_markup()


async def on_screen(call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings,
                    repos: Repositories, questionnaires: Registry) -> None:
    """«Survey results» on the programme card."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _screen(repos, questionnaires, programme))


def _summaries(data: dict[SurveyKind, tuple[int, list[Answered]]]) -> list[tuple[str, Summary]]:
    return [(kind_label(kind), summarise(*data[kind])) for kind in ORDER if kind in data]


async def on_file(call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings,
                  repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """The spreadsheet, or one chart per survey version with answers."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await call.answer()
    data = await gather(repos, questionnaires, programme)
    locale = i18n.current_locale
    if callback_data.action == "results_xlsx":
        before = data.get(SurveyKind.ASSESSMENT_BEFORE, (0, []))[1]
        after = data.get(SurveyKind.ASSESSMENT_AFTER, (0, []))[1]
        content = results_xlsx(programme.title, questionnaires, _summaries(data), changes(before, after),
                               locale)
        caption = _("Survey results of «{programme}».").format(programme=programme.title)
        await bot.send_document(call.from_user.id, BufferedInputFile(content, f"results-{programme.id}.xlsx"),
                                caption=caption)
        return
    sent = 0
    for kind in ORDER:
        if kind not in data:
            continue
        summary = summarise(*data[kind])
        versions = {a.questionnaire.id: a.questionnaire for a in data[kind][1]}
        for q in versions.values():
            png = chart_png(q, summary, locale)
            if png is not None:
                await bot.send_photo(call.from_user.id, BufferedInputFile(png, f"{q.id}.png"),
                                     caption=kind_label(kind))
                sent += 1
    if not sent:
        await bot.send_message(call.from_user.id, _("There are no answers on a 1–10 scale to chart yet."))


def router() -> Router:
    """The results screen and its files (each checks the person's access to the programme)."""
    r = Router(name="survey_results")
    r.callback_query.register(on_screen, ProgrammeCb.filter(F.action == "results"))
    r.callback_query.register(on_file, ProgrammeCb.filter(F.action.in_({"results_xlsx", "results_png"})))
    return r
