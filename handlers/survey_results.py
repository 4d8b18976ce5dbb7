"""A programme's survey results for its coordinators: response rates on screen, the spreadsheet and the charts
as files. What one side said about the other reaches coordinators only."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ProgrammeCb, SurveyDeptCb
from bot.config import Settings
from bot.reports import chart_png, department_xlsx, results_xlsx
from dialogs.results import Answered, Change, Summary, changes, summarise
from dialogs.schema import Registry
from handlers.access import (
    can_manage,
    coordinators_only_text,
    managed_organisations,
    programme_for_button,
    programme_screen,
    refuse,
)
from storage.models import Organisation, Programme, SurveyKind
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
    kb.button(text=_("Survey settings"), callback_data=ProgrammeCb(action="svset", programme=programme.id))
    kb.button(text=_("Back to the programme"),
              callback_data=ProgrammeCb(action="open", programme=programme.id))
    kb.adjust(*([2] if data else []), 1, 1)
    return "\n".join(lines), kb.as_markup()


async def on_screen(call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings,
                    repos: Repositories, questionnaires: Registry) -> None:
    """«Survey results» on the programme card."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _screen(repos, questionnaires, programme))


def _before_after(data: dict[SurveyKind, tuple[int, list[Answered]]]) -> list[Change]:
    before = data.get(SurveyKind.ASSESSMENT_BEFORE, (0, []))[1]
    return changes(before, data.get(SurveyKind.ASSESSMENT_AFTER, (0, []))[1])


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
        content = results_xlsx(programme.title, questionnaires, _summaries(data), _before_after(data), locale)
        caption = _("Survey results of «{programme}».").format(programme=programme.title)
        await bot.send_document(call.from_user.id, BufferedInputFile(content, f"results-{programme.id}.xlsx"),
                                caption=caption)
        return
    await _send_charts(bot, call.from_user.id, data, locale)


async def _send_charts(bot: Bot, chat_id: int, data: dict[SurveyKind, tuple[int, list[Answered]]],
                       locale: str) -> None:
    """One chart per survey version with answers on a 1–10 scale."""
    sent = 0
    for kind in ORDER:
        if kind not in data:
            continue
        summary = summarise(*data[kind])
        versions = {a.questionnaire.id: a.questionnaire for a in data[kind][1]}
        for q in versions.values():
            png = chart_png(q, summary, locale)
            if png is not None:
                await bot.send_photo(chat_id, BufferedInputFile(png, f"{q.id}.png"), caption=kind_label(kind))
                sent += 1
    if not sent:
        await bot.send_message(chat_id, _("There are no answers on a 1–10 scale to chart yet."))


def _merged(parts: list[dict[SurveyKind, tuple[int, list[Answered]]]]) -> dict[SurveyKind, Any]:
    """Several programmes' results together (invited added up, the answers joined)."""
    found: dict[SurveyKind, tuple[int, list[Answered]]] = {}
    for data in parts:
        for kind, (invited, answered) in data.items():
            total, everyone = found.get(kind, (0, []))
            found[kind] = (total + invited, everyone + answered)
    return found


async def _departments(user_id: int, settings: Settings, repos: Repositories) -> list[Organisation]:
    """The organisations the person manages that have schools under them."""
    return [org for org in await managed_organisations(user_id, settings, repos)
            if await repos.organisations.children(org.id)]


async def on_command(message: Message, settings: Settings, repos: Repositories) -> None:
    """`/results`: the programmes the coordinator manages, and «All schools» of each department."""
    user_id = message.from_user.id if message.from_user else 0
    orgs = await managed_organisations(user_id, settings, repos)
    if not orgs:
        await message.answer(coordinators_only_text())
        return
    kb = InlineKeyboardBuilder()
    for dept in await _departments(user_id, settings, repos):
        kb.button(text=_("All schools of {department}").format(department=dept.name),
                  callback_data=SurveyDeptCb(action="open", org=dept.id))
    for org in orgs:
        for programme in await repos.programmes.of_organisation(org.id):
            kb.button(text=f"{org.name}: {programme.title}",
                      callback_data=ProgrammeCb(action="results", programme=programme.id))
    kb.adjust(1)
    await message.answer(_("Survey results: choose a programme or a department."),
                         reply_markup=kb.as_markup())


async def _department_data(
    repos: Repositories, registry: Registry, dept: Organisation
) -> list[tuple[Organisation, list[tuple[Programme, dict[SurveyKind, tuple[int, list[Answered]]]]]]]:
    found = []
    for school in await repos.organisations.children(dept.id):
        programmes = [(p, await gather(repos, registry, p)) for p in await repos.programmes.of_organisation(
            school.id)]
        found.append((school, programmes))
    return found


async def on_department(call: CallbackQuery, callback_data: SurveyDeptCb, bot: Bot, settings: Settings,
                        repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """«All schools»: the screen with its buttons, the spreadsheet (a sheet per school and the overall
    ones) or the overall charts. Only for those who manage the department."""
    dept = await repos.organisations.get(callback_data.org)
    if dept is None or not await can_manage(call.from_user.id, dept.id, settings, repos):
        await refuse(call, _("You don't have access to this organisation."))
        return
    await call.answer()
    schools = await _department_data(repos, questionnaires, dept)
    overall = _merged([data for _school, programmes in schools for _p, data in programmes])
    locale = i18n.current_locale
    if callback_data.action == "xlsx":
        per_school = [(school.name, [(p.title, _summaries(data)) for p, data in programmes])
                      for school, programmes in schools]
        content = department_xlsx(dept.name, questionnaires, _summaries(overall), _before_after(overall),
                                  per_school, locale)
        await bot.send_document(call.from_user.id, BufferedInputFile(content, f"results-all-{dept.id}.xlsx"),
                                caption=_("Survey results of all schools of {department}.").format(
                                    department=dept.name))
        return
    if callback_data.action == "png":
        await _send_charts(bot, call.from_user.id, overall, locale)
        return
    lines = [_("Survey results of all schools of {department}").format(department=dept.name), ""]
    for kind in ORDER:
        if kind in overall:
            invited, answered = overall[kind]
            lines.append(_("{survey}: answered {answered} of {invited}").format(
                survey=kind_label(kind), answered=len(answered), invited=invited))
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Spreadsheet"), callback_data=SurveyDeptCb(action="xlsx", org=dept.id))
    kb.button(text=_("Charts"), callback_data=SurveyDeptCb(action="png", org=dept.id))
    await bot.send_message(call.from_user.id, "\n".join(lines), reply_markup=kb.as_markup())


def router() -> Router:
    """The results screen and its files (each checks the person's access to the programme)."""
    r = Router(name="survey_results")
    r.message.register(on_command, Command("results"))
    r.callback_query.register(on_department, SurveyDeptCb.filter())
    r.callback_query.register(on_screen, ProgrammeCb.filter(F.action == "results"))
    r.callback_query.register(on_file, ProgrammeCb.filter(F.action.in_({"results_xlsx", "results_png"})))
    return r
