"""A programme's survey settings, reached from «Survey results»: the feedback during the work (a period of
months within the programme's dates and a frequency) and the parameters the self-assessment asks.

Everything is a button of `ProgrammeCb(action="svset", value=...)`; every tap re-checks the coordinator's
access to the programme and the value against the programme (a stale or forged value changes nothing).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.callbacks import ProgrammeCb
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import current_locale
from bot.labels import param_label
from dialogs.schema import Kind, Registry
from handlers.access import programme_for_button, programme_to_change, refuse, show_in_place
from storage.models import Programme
from storage.repos import Repositories
from storage.repos.surveys import SurveySettings

ACTION = "svset"
FREQUENCIES = ("off", "2w", "4w", "month")


def frequency_label(every: str) -> str:
    """A feedback frequency as the coordinator reads it."""
    return {
        "off": _("Off"), "2w": _("Every 2 weeks"), "4w": _("Every 4 weeks"), "month": _("Monthly"),
    }[every]


def assessment_params(registry: Registry) -> list[str]:
    """Every parameter of the assessment surveys, in the files' order."""
    found: list[str] = []
    for q in registry.by_id.values():
        if q.kind is Kind.ASSESSMENT and "~" not in q.id:
            found += [p for p in q.params() if p not in found]
    return found


def months(programme: Programme) -> list[date]:
    """The first days of the months the programme runs in."""
    found, day = [], programme.start_date.replace(day=1)
    while day <= programme.end_date:
        found.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return found


def _month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _month(day: date) -> str:
    return format_date(day, format="LLLL yyyy", locale=current_locale())


def _cb(programme: Programme, value: str = "") -> str:
    return ProgrammeCb(action=ACTION, programme=programme.id, value=value).pack()


def _button(text: str, programme: Programme, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=_cb(programme, value))


def _screen(
    programme: Programme, found: SurveySettings, registry: Registry
) -> tuple[str, InlineKeyboardMarkup]:
    chosen = found.assess_params
    params = assessment_params(registry)
    lines = [_("Survey settings of «{programme}»").format(programme=programme.title), ""]
    if found.feedback_every == "off" or found.feedback_from is None or found.feedback_to is None:
        lines.append(_("Feedback during the work: off."))
    else:
        lines.append(_("Feedback during the work: {every}, from {start} to {end}. Mentors and mentees of the "
                       "active pairs get a short survey; only coordinators see the answers.").format(
            every=frequency_label(found.feedback_every).lower(), start=_month(found.feedback_from),
            end=_month(found.feedback_to)))
    asked = [param_label(p) for p in params if chosen is None or p in chosen]
    lines.append(_("Self-assessment asks about: {params}.").format(params=", ".join(asked)))
    every = [_button(("✅ " if found.feedback_every == e else "") + frequency_label(e), programme, f"f={e}")
             for e in FREQUENCIES]
    rows = [every[:2], every[2:]]
    if found.feedback_every != "off":
        rows.append([_button(_("From…"), programme, "pick=from"), _button(_("To…"), programme, "pick=to")])
    for param in params:
        mark = "☑️ " if chosen is None or param in chosen else "⬜ "
        rows.append([_button(mark + param_label(param), programme, f"p={param}")])
    back = ProgrammeCb(action="results", programme=programme.id).pack()
    rows.append([InlineKeyboardButton(text=_("Back to survey results"), callback_data=back)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _month_picker(programme: Programme, end: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _("Feedback from which month?") if end == "from" else _("Feedback until which month?")
    buttons = [InlineKeyboardButton(text=_month(m), callback_data=_cb(programme, f"{end}={m:%Y-%m}"))
               for m in months(programme)]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(text=_("« Back"), callback_data=_cb(programme))])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _changed(
    programme: Programme, found: SurveySettings, value: str, registry: Registry
) -> SurveySettings | str:
    """The settings after a tap, or the reason it was refused."""
    key, _sep, arg = value.partition("=")
    periods = months(programme)
    if key == "f" and arg in FREQUENCIES:
        start = found.feedback_from or periods[0]
        return replace(found, feedback_every=arg, feedback_from=start,
                       feedback_to=found.feedback_to or _month_end(periods[-1]))
    if key in ("from", "to"):
        month = next((m for m in periods if f"{m:%Y-%m}" == arg), None)
        if month is None:
            return _("This button is out of date.")
        start = month if key == "from" else (found.feedback_from or periods[0])
        end = _month_end(month) if key == "to" else (found.feedback_to or _month_end(periods[-1]))
        if start > end:
            return _("The period must end after it starts.")
        return replace(found, feedback_from=start, feedback_to=end)
    params = assessment_params(registry)
    if key == "p" and arg in params:
        chosen = [p for p in params if found.assess_params is None or p in found.assess_params]
        if arg in chosen:
            chosen = [p for p in chosen if p != arg]
        else:
            chosen = [p for p in params if p in (*chosen, arg)]
        if not chosen:
            return _("Keep at least one parameter.")
        return replace(found, assess_params=None if len(chosen) == len(params) else tuple(chosen))
    return _("This button is out of date.")


async def on_settings(call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings,
                      repos: Repositories, questionnaires: Registry, clock: Clock) -> None:
    """The screen, a month picker, or a change saved then shown (a closed programme's only shown)."""
    check = programme_to_change if callback_data.value else programme_for_button
    programme = await check(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    found = await repos.surveys.settings(programme.id)
    value = callback_data.value
    if value in ("pick=from", "pick=to"):
        await call.answer()
        await show_in_place(call, bot, *_month_picker(programme, value[5:]))
        return
    if value:
        changed = _changed(programme, found, value, questionnaires)
        if isinstance(changed, str):
            await refuse(call, changed)
            return
        await repos.surveys.save_settings(changed, call.from_user.id, clock.now())
        found = changed
        await call.answer(_("Saved."))
    else:
        await call.answer()
    await show_in_place(call, bot, *_screen(programme, found, questionnaires))


def router() -> Router:
    """The survey settings screen (each tap checks the person's access to the programme)."""
    r = Router(name="survey_settings")
    r.callback_query.register(on_settings, ProgrammeCb.filter(F.action == ACTION))
    return r
