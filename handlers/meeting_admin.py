"""The coordinator's meetings screen of a programme: what needs them (pairs late to schedule, meetings not
logged, inactive pairs, re-pair requests, the next group final), each pair's meetings with the mentees'
ratings, and the programme's meeting settings and school holidays.

Every button carries the programme (or the pair) and is checked again on the server
(`programme_for_button`), so another school's coordinator, a forged or a stale button changes nothing.
MeetingCb actions: adm_* (screens), set_* (settings), hol_* (holidays); `value` is "programme/…".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import cast

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb, ProgrammeCb, row
from bot.clock import Clock
from bot.config import Settings
from bot.labels import activity_label, goal_status_label, not_held_label, step_label
from bot.states import MeetingAdmin
from dialogs.meeting_plan import STEPS, MeetingSettings
from handlers import sweeps
from handlers.access import (
    managed_programme,
    no_programme_access_text,
    page_nav,
    page_number,
    page_of,
    programme_for_button,
    programme_to_change,
    refuse,
    show_in_place,
)
from handlers.meeting_notices import when_text
from handlers.programme_dates import DateProblem, parse_date
from storage.models import Meeting, MeetingStatus, Pair, Programme
from storage.repos import Repositories

LISTS = ("late", "unlogged", "inactive", "repair", "all")
CADENCES = ("7", "14", "30")
REMINDERS = ("1440.60", "1440", "1440.120", "120.15", "60")
QUIET = ("2100-0800", "2200-0700", "2000-0900")
SEP = "/"  # between the parts of a button's value (":" separates the callback's fields)
WITHIN = ("3", "7", "14")
INACTIVITY = ("14", "21", "30")
OPTIONAL_STEPS = ("trial", "planning")  # the organisational, regular and final meetings always stay
HOLIDAY_SHAPE = re.compile(r"^(\d{1,2}\.\d{1,2}\.\d{4})(?:\s*[-–—]\s*|\s+)?(\d{1,2}\.\d{1,2}\.\d{4})?$")
HOLIDAYS_MAX_DAYS = 120
NOTES_SHOWN = 300
MEETINGS_PER_PAGE = 8
ADMIN_ACTIONS = frozenset({"adm_home", "adm_list", "adm_pair"})
SETTINGS_ACTIONS = frozenset({"set_home", "set_menu", "set_val"})
HOLIDAY_ACTIONS = frozenset({"hol_list", "hol_add", "hol_del"})

Screen = tuple[str, InlineKeyboardMarkup]


def _cb(action: str, programme_id: int, *rest: object, pair: int = 0) -> str:
    return MeetingCb(action=action, pair=pair, value=SEP.join(str(x) for x in (programme_id, *rest))).pack()


def _parts(value: str) -> tuple[int, list[str]]:
    """The programme id and the rest carried by a button's value (0 when forged)."""
    head, *rest = value.split(SEP)
    return (int(head) if head.isdigit() and len(head) < 10 else 0), rest


# --- labels ------------------------------------------------------------------------------------------------


def cadence_label(days: int) -> str:
    """Weekly, fortnightly or monthly."""
    return {7: _("weekly"), 14: _("fortnightly"), 30: _("monthly")}.get(days, str(days))


def _before(minutes: int) -> str:
    if minutes % 60 == 0:
        return _("{hours} h").format(hours=minutes // 60)
    return _("{minutes} min").format(minutes=minutes)


def reminders_label(minutes: tuple[int, ...]) -> str:
    """«24 h + 1 h» before a meeting."""
    return " + ".join(_before(m) for m in sorted(minutes, reverse=True)) or _("none")


def quiet_label(settings: MeetingSettings) -> str:
    """«21:00–08:00»."""
    return f"{settings.quiet_start:%H:%M}–{settings.quiet_end:%H:%M}"


def days_label(days: int) -> str:
    """«7 days»."""
    return ngettext("{days} day", "{days} days", days).format(days=days)


def _status_label(status: MeetingStatus) -> str:
    return {
        MeetingStatus.SCHEDULED: _("scheduled"),
        MeetingStatus.HELD: _("held"),
        MeetingStatus.NOT_HELD: _("not held"),
        MeetingStatus.CANCELLED: _("cancelled"),
    }[status]


def _fit_label(answer: str) -> str:
    labels = {"good": _("a good fit"), "unsure": _("not sure yet"), "bad": _("not a good fit")}
    return labels.get(answer, answer)


# --- what needs the coordinator ----------------------------------------------------------------------------


async def _timezone(repos: Repositories, programme: Programme) -> str:
    org = await repos.organisations.get(programme.organisation_id)
    return org.timezone if org else "Europe/Moscow"


Names = dict[int, str]  # participant id → name


async def _names_of(repos: Repositories, pairs: Sequence[Pair]) -> Names:
    """The names of the pairs' mentors and mentees, in one query."""
    return await repos.participants.names([i for pair in pairs for i in (pair.mentor_id, *pair.mentee_ids)])


def _pair_names(names: Names, pair: Pair) -> tuple[str, str]:
    mentees = [names[m] for m in pair.mentee_ids if m in names]
    return names.get(pair.mentor_id, "—"), ", ".join(mentees) or "—"


async def _states(repos: Repositories, programme: Programme, settings: MeetingSettings,
                  now: datetime) -> list[sweeps.PairState]:
    """Where each active pair of the programme stands, in two queries whatever the number of pairs."""
    meetings = await repos.meetings.of_active_pairs([programme.id])
    return [sweeps.state_of(settings, programme, pair, cast(list[Meeting], meetings.get(pair.id, [])), now)
            for pair in await repos.pairs.active(programme.id)]


def _selected(kind: str, states: list[sweeps.PairState], settings: MeetingSettings, now: datetime,
              repair: set[int]) -> list[sweeps.PairState]:
    if kind == "late":
        return [s for s in states if s.late_to_schedule(now)]
    if kind == "unlogged":
        return [s for s in states if s.unlogged(now) is not None]
    if kind == "inactive":
        return [s for s in states if s.inactive_periods(now, settings) >= 1]
    if kind == "repair":
        return [s for s in states if s.pair.id in repair]
    return states


def _list_title(kind: str) -> str:
    return {
        "late": _("Late to schedule"),
        "unlogged": _("Meetings not logged"),
        "inactive": _("Inactive pairs"),
        "repair": _("Re-pair requests"),
        "all": _("All pairs and groups"),
    }[kind]


async def overview(repos: Repositories, i18n: I18n, clock: Clock, programme: Programme) -> Screen:
    """The meetings screen: counts of what needs the coordinator, the next group final, the buttons."""
    now = clock.now()
    settings = await repos.meetings.settings(programme.id)
    states = await _states(repos, programme, settings, now)
    repair = {pair_id for pair_id, _p, _at in await repos.meetings.bad_fits(programme.id)}
    tz = await _timezone(repos, programme)
    finals = [m for m in await repos.meetings.group_finals(programme.id)
              if m.status is MeetingStatus.SCHEDULED and m.starts_at >= now]
    final = (when_text(finals[0].starts_at, tz, i18n.current_locale) if finals else _("not scheduled"))
    counts = {kind: len(_selected(kind, states, settings, now, repair)) for kind in LISTS}
    text = _(
        "Meetings of «{programme}»\n\nPairs and groups: {all}\nLate to schedule: {late}\n"
        "Meetings not logged a day after: {unlogged}\nInactive for {days}: {inactive}\n"
        "Re-pair requests: {repair}\nNext group final meeting: {final}"
    ).format(programme=programme.title, days=days_label(settings.inactivity_days), final=final, **counts)
    rows = [row(f"{_list_title(kind)} ({counts[kind]})", _cb("adm_list", programme.id, kind, 0))
            for kind in LISTS]
    rows.append(row(_("Settings"), _cb("set_home", programme.id)))
    rows.append(row(_("Back to the programme"),
                        ProgrammeCb(action="open", programme=programme.id).pack()))
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _line(i18n: I18n, tz: str, names: Names, state: sweeps.PairState, kind: str, now: datetime) -> str:
    mentor, mentees = _pair_names(names, state.pair)
    detail = ""
    unlogged = state.unlogged(now)
    if kind == "unlogged" and unlogged is not None:
        detail = _("{step} of {when}").format(step=step_label(unlogged.step),
                                               when=when_text(unlogged.starts_at, tz, i18n.current_locale))
    elif state.due is not None and state.step is not None:
        detail = _("{step} due by {when}").format(step=step_label(state.step),
                                                  when=when_text(state.due, tz, i18n.current_locale))
    elif state.scheduled is not None:
        when = when_text(state.scheduled.starts_at, tz, i18n.current_locale)
        detail = _("{step} on {when}").format(step=step_label(state.scheduled.step), when=when)
    elif state.step is None:
        detail = _("the final meeting was held")
    return f"{mentor} — {mentees}: {detail}"


async def list_screen(repos: Repositories, i18n: I18n, clock: Clock, programme: Programme, kind: str,
                      page: int) -> Screen:
    """One of the lists, paged, a button per pair."""
    now = clock.now()
    settings = await repos.meetings.settings(programme.id)
    repair = {pair_id for pair_id, _p, _at in await repos.meetings.bad_fits(programme.id)}
    states = _selected(kind, await _states(repos, programme, settings, now), settings, now, repair)
    shown, page, more = page_of(states, page)
    tz = await _timezone(repos, programme)
    names = await _names_of(repos, [state.pair for state in shown])
    lines = [f"{_list_title(kind)} — «{programme.title}»", ""]
    if not states:
        lines.append(_("Nobody here."))
    rows = []
    for n, state in enumerate(shown, page * 20 + 1):
        lines.append(f"{n}. " + _line(i18n, tz, names, state, kind, now))
        mentor, _mentees = _pair_names(names, state.pair)
        data = _cb("adm_pair", programme.id, kind, pair=state.pair.id)
        rows.append(row(f"{n}. {mentor}"[:60], data))
    nav = page_nav(page, more,
                   lambda p: MeetingCb(action="adm_list", value=f"{programme.id}{SEP}{kind}{SEP}{p}"))
    if nav:
        rows.append(nav)
    rows.append(row(_("Back to meetings"), _cb("adm_home", programme.id)))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


# --- a pair's view -----------------------------------------------------------------------------------------


async def _meeting_lines(repos: Repositories, i18n: I18n, tz: str, meeting: Meeting) -> list[str]:
    parts = [_status_label(meeting.status)]
    if meeting.held_minutes:
        parts.append(_("{minutes} min").format(minutes=meeting.held_minutes))
    if meeting.activities:
        parts.append(", ".join(activity_label(a) for a in meeting.activities))
    if meeting.not_held_reason:
        parts.append(not_held_label(meeting.not_held_reason))
    lines = [f"• {when_text(meeting.starts_at, tz, i18n.current_locale)} — {step_label(meeting.step)}: "
             + "; ".join(parts)]
    if meeting.notes:
        lines.append("  " + _("Notes: {notes}").format(notes=meeting.notes[:NOTES_SHOWN]))
    for participant_id, usefulness, comment in await repos.meetings.feedback(meeting.id):
        mentee = await repos.participants.get(participant_id)
        rating = _("{name} rated it {score}/5").format(name=mentee.full_name if mentee else "—",
                                                       score=usefulness)
        lines.append("  " + rating + (f": «{comment[:NOTES_SHOWN]}»" if comment else ""))
    return lines


async def pair_screen(repos: Repositories, i18n: I18n, clock: Clock, programme: Programme, pair: Pair,
                      back: str, page: int) -> Screen:
    """A pair's meetings (newest first, paged), the mentees' ratings, the fit check and the goals."""
    now = clock.now()
    tz = await _timezone(repos, programme)
    settings = await repos.meetings.settings(programme.id)
    oldest_first = await repos.meetings.of_pair(pair.id)
    state = sweeps.state_of(settings, programme, pair, oldest_first, now)
    names = await _names_of(repos, [pair])
    mentor, mentees = _pair_names(names, pair)
    lines = [_("Pair: {mentor} — {mentees}").format(mentor=mentor, mentees=mentees)]
    lines.append(_line(i18n, tz, names, state, "all", now))
    meetings = list(reversed(oldest_first))
    shown, page, more = page_of(meetings, page, MEETINGS_PER_PAGE)
    lines += ["", _("Meetings:") if meetings else _("No meetings yet.")]
    for meeting in shown:
        lines += await _meeting_lines(repos, i18n, tz, meeting)
    fits = await repos.meetings.fit_answers(pair.id)
    if fits:
        lines += ["", _("Fit check (seen only by coordinators):")]
        for participant_id, answer in fits.items():
            person = await repos.participants.get(participant_id)
            lines.append(f"• {person.full_name if person else '—'}: {_fit_label(answer)}")
    goals = await repos.meetings.goals(pair.id)
    if goals:
        lines += ["", _("Goals:")]
        lines += [f"• {text} — {goal_status_label(status)}" for _id, text, status in goals]
    back_kind = back if back in LISTS else "all"
    rows = []
    nav = page_nav(page, more, lambda p: MeetingCb(action="adm_pair", pair=pair.id,
                                                   value=f"{programme.id}{SEP}{back_kind}{SEP}{p}"))
    if nav:
        rows.append(nav)
    rows.append(row(_("Back to the list"), _cb("adm_list", programme.id, back_kind, 0)))
    rows.append(row(_("Back to meetings"), _cb("adm_home", programme.id)))
    return "\n".join(lines)[:4000], InlineKeyboardMarkup(inline_keyboard=rows)


# --- settings ----------------------------------------------------------------------------------------------


def _choices(key: str) -> tuple[str, ...]:
    return {"cad": CADENCES, "rem": REMINDERS, "qh": QUIET, "due": WITHIN, "ina": INACTIVITY,
            "par": ("1", "0"), "seq": OPTIONAL_STEPS}.get(key, ())


def _choice_label(key: str, choice: str, settings: MeetingSettings) -> str:
    if key == "cad":
        label = cadence_label(int(choice))
        return ("● " if settings.cadence_days == int(choice) else "") + label
    if key == "rem":
        minutes = tuple(int(m) for m in choice.split("."))
        return ("● " if set(minutes) == set(settings.reminder_minutes) else "") + reminders_label(minutes)
    if key == "qh":
        current = f"{settings.quiet_start:%H%M}-{settings.quiet_end:%H%M}"
        start, end = (f"{t[:2]}:{t[2:]}" for t in choice.split("-"))
        return ("● " if current == choice else "") + f"{start}–{end}"
    if key in ("due", "ina"):
        current = settings.schedule_within_days if key == "due" else settings.inactivity_days
        return ("● " if current == int(choice) else "") + days_label(int(choice))
    if key == "par":
        on = choice == "1"
        return ("● " if settings.notify_parents == on else "") + (_("Yes") if on else _("No"))
    return ("☑ " if choice in settings.steps else "☐ ") + step_label(choice)


def _applied(settings: MeetingSettings, key: str, choice: str) -> MeetingSettings | None:
    """The settings with one choice applied; None when the choice is not one offered."""
    if choice not in _choices(key):
        return None
    if key == "cad":
        return replace(settings, cadence_days=int(choice))
    if key == "rem":
        return replace(settings, reminder_minutes=tuple(int(m) for m in choice.split(".")))
    if key == "qh":
        start, end = (time(int(t[:2]), int(t[2:])) for t in choice.split("-"))
        return replace(settings, quiet_start=start, quiet_end=end)
    if key == "due":
        return replace(settings, schedule_within_days=int(choice))
    if key == "ina":
        return replace(settings, inactivity_days=int(choice))
    if key == "par":
        return replace(settings, notify_parents=choice == "1")
    steps = tuple(s for s in STEPS if (s in settings.steps) != (s == choice))
    return replace(settings, steps=steps)


def _key_title(key: str) -> str:
    return {
        "cad": _("How often regular meetings are held"),
        "rem": _("Reminders before a meeting"),
        "qh": _("Quiet hours (no messages), organisation's time"),
        "due": _("Days the mentor has to schedule a due meeting"),
        "ina": _("Days without a held meeting before a pair is flagged"),
        "par": _("Tell minors' parents about meetings"),
        "seq": _("The sequence: the organisational, regular and final meetings always stay"),
    }[key]


async def settings_screen(repos: Repositories, programme: Programme) -> Screen:
    """The programme's meeting settings, a button per setting."""
    s = await repos.meetings.settings(programme.id)
    sequence = " → ".join(step_label(step) for step in s.steps)
    text = _(
        "Meeting settings of «{programme}»\n\nSequence: {sequence}\nRegular meetings: {cadence}\n"
        "Reminders before a meeting: {reminders}\nQuiet hours: {quiet}\nTo schedule a due meeting: {due}\n"
        "Flag a pair after: {inactivity} without a held meeting\nTell minors' parents: {parents}\n"
        "School holidays: {holidays}"
    ).format(programme=programme.title, sequence=sequence, cadence=cadence_label(s.cadence_days),
             reminders=reminders_label(s.reminder_minutes), quiet=quiet_label(s),
             due=days_label(s.schedule_within_days),
             inactivity=days_label(s.inactivity_days), parents=_("Yes") if s.notify_parents else _("No"),
             holidays=len(s.holidays))
    rows = [row(_key_title(key), _cb("set_menu", programme.id, key))
            for key in ("seq", "cad", "rem", "qh", "due", "ina", "par")]
    rows.append(row(_("School holidays ({count})").format(count=len(s.holidays)),
                        _cb("hol_list", programme.id)))
    rows.append(row(_("Back to meetings"), _cb("adm_home", programme.id)))
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def choice_screen(repos: Repositories, programme: Programme, key: str) -> Screen:
    """The choices of one setting, the current one marked."""
    settings = await repos.meetings.settings(programme.id)
    rows = [row(_choice_label(key, choice, settings), _cb("set_val", programme.id, key, choice))
            for choice in _choices(key)]
    rows.append(row(_("Back to settings"), _cb("set_home", programme.id)))
    return _key_title(key), InlineKeyboardMarkup(inline_keyboard=rows)


async def holidays_screen(repos: Repositories, i18n: I18n, programme: Programme) -> Screen:
    """The programme's holidays, each with a remove button, and «Add holidays»."""
    holidays = await repos.meetings.holidays(programme.id)
    lines = [_("School holidays of «{programme}»: no reminder about a due meeting is sent inside them.")
             .format(programme=programme.title), ""]
    rows = []
    for holiday_id, first, last in holidays:
        period = f"{first:%d.%m.%Y}–{last:%d.%m.%Y}"
        lines.append("• " + period)
        rows.append(row(_("Remove {period}").format(period=period),
                            _cb("hol_del", programme.id, holiday_id)))
    if not holidays:
        lines.append(_("None yet."))
    rows.append(row(_("Add holidays"), _cb("hol_add", programme.id)))
    rows.append(row(_("Back to settings"), _cb("set_home", programme.id)))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def holidays_question() -> str:
    """What the coordinator is asked when adding holidays."""
    return _("Write the first and the last day of the holidays, for example 26.10.2026–03.11.2026 "
             "(one date for a single day).")


def parse_holidays(text: str | None, programme: Programme) -> tuple[date, date]:
    """The first and last day typed, checked; DateProblem with the reason otherwise."""
    match = HOLIDAY_SHAPE.match((text or "").strip())
    if match is None:
        raise DateProblem(_("Please write two dates as DD.MM.YYYY, for example 26.10.2026–03.11.2026."))
    first = parse_date(match.group(1))
    last = parse_date(match.group(2)) if match.group(2) else first
    if last < first:
        raise DateProblem(_("The holidays end before they start."))
    if first < programme.start_date or last > programme.end_date:
        raise DateProblem(_("The holidays must fall within the programme's dates, {start}–{end}.").format(
            start=f"{programme.start_date:%d.%m.%Y}", end=f"{programme.end_date:%d.%m.%Y}"))
    if (last - first).days + 1 > HOLIDAYS_MAX_DAYS:
        raise DateProblem(_("Holidays can be at most {days} days long.").format(days=HOLIDAYS_MAX_DAYS))
    return first, last


# --- handlers ----------------------------------------------------------------------------------------------


async def on_meetings(call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings,
                      repos: Repositories, i18n: I18n, clock: Clock) -> None:
    """The meetings screen from the programme card."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is not None:
        await call.answer()
        await show_in_place(call, bot, *await overview(repos, i18n, clock, programme))


async def on_admin(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                   settings: Settings, repos: Repositories, i18n: I18n, clock: Clock) -> None:
    """adm_home, adm_list, adm_pair: the screens that show what needs the coordinator."""
    programme_id, rest = _parts(callback_data.value)
    pair = None
    if callback_data.action == "adm_pair":
        pair = await repos.pairs.get(callback_data.pair)
        programme_id = pair.programme_id if pair else 0
    programme = await programme_for_button(call, programme_id, settings, repos)
    if programme is None:
        return
    if await state.get_state() == MeetingAdmin.holidays.state:
        await state.clear()
    kind = rest[0] if rest and rest[0] in LISTS else "all"
    page = page_number(rest[1]) if len(rest) > 1 else 0
    if callback_data.action == "adm_pair" and pair is not None:
        screen = await pair_screen(repos, i18n, clock, programme, pair, kind, page)
    elif callback_data.action == "adm_list":
        screen = await list_screen(repos, i18n, clock, programme, kind, page)
    else:
        screen = await overview(repos, i18n, clock, programme)
    await call.answer()
    await show_in_place(call, bot, *screen)


async def on_settings(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                      settings: Settings, repos: Repositories, i18n: I18n) -> None:
    """set_home, set_menu, set_val: the settings screen, one setting's choices, a choice saved."""
    programme_id, rest = _parts(callback_data.value)
    programme = await programme_to_change(call, programme_id, settings, repos)
    if programme is None:
        return
    if await state.get_state() == MeetingAdmin.holidays.state:
        await state.clear()
    key = rest[0] if rest and _choices(rest[0]) else ""
    if callback_data.action == "set_val" and key:
        current = await repos.meetings.settings(programme.id)
        new = _applied(current, key, rest[1] if len(rest) > 1 else "")
        if new is None:
            await refuse(call, _("This button is out of date. Send /start to see where you are."))
            return
        await repos.meetings.save_settings(new, call.from_user.id)
        await call.answer(_("Saved."))
        await show_in_place(call, bot, *(await choice_screen(repos, programme, key)
                                         if key == "seq" else await settings_screen(repos, programme)))
        return
    await call.answer()
    if callback_data.action == "set_menu" and key:
        await show_in_place(call, bot, *await choice_screen(repos, programme, key))
    else:
        await show_in_place(call, bot, *await settings_screen(repos, programme))


async def on_holidays(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                      settings: Settings, repos: Repositories, i18n: I18n) -> None:
    """hol_list, hol_add, hol_del: the holidays, the question to add some, a removal."""
    programme_id, rest = _parts(callback_data.value)
    programme = await programme_to_change(call, programme_id, settings, repos)
    if programme is None:
        return
    if callback_data.action == "hol_add":
        await state.set_state(MeetingAdmin.holidays)
        await state.set_data({"programme": programme.id})
        await call.answer()
        cancel = InlineKeyboardMarkup(inline_keyboard=[row(_("Cancel"), _cb("hol_list", programme.id))])
        await bot.send_message(call.from_user.id, holidays_question(), reply_markup=cancel)
        return
    if await state.get_state() == MeetingAdmin.holidays.state:
        await state.clear()
    if callback_data.action == "hol_del":
        holiday_id = int(rest[0]) if rest and rest[0].isdigit() and len(rest[0]) < 10 else 0
        removed = await repos.meetings.remove_holiday(programme.id, holiday_id)
        await call.answer(_("Removed.") if removed else _("These holidays were already removed."))
    else:
        await call.answer()
    await show_in_place(call, bot, *await holidays_screen(repos, i18n, programme))


async def on_holidays_typed(message: Message, state: FSMContext, settings: Settings, repos: Repositories,
                            i18n: I18n) -> None:
    """The holidays typed: checked, saved, then the list."""
    data = await state.get_data()
    user_id = message.from_user.id if message.from_user else message.chat.id
    programme = await managed_programme(user_id, int(data.get("programme", 0)), settings, repos)
    if programme is None:
        await state.clear()
        await message.answer(no_programme_access_text())
        return
    cancel = InlineKeyboardMarkup(inline_keyboard=[row(_("Cancel"), _cb("hol_list", programme.id))])
    if message.text is None:
        await message.answer(_("Please write the dates in a text message.") + "\n\n" + holidays_question(),
                             reply_markup=cancel)
        return
    try:
        first, last = parse_holidays(message.text, programme)
    except DateProblem as problem:
        await message.answer(f"{problem}\n\n{holidays_question()}", reply_markup=cancel)
        return
    await repos.meetings.add_holiday(programme.id, first, last)
    await state.clear()
    text, markup = await holidays_screen(repos, i18n, programme)
    await message.answer(_("Saved.") + "\n\n" + text, reply_markup=markup)


def router() -> Router:
    """The coordinator's meetings screen and settings."""
    r = Router(name="meeting_admin")
    r.callback_query.register(on_meetings, ProgrammeCb.filter(F.action == "meetings"))
    for handler, actions in ((on_admin, ADMIN_ACTIONS), (on_settings, SETTINGS_ACTIONS),
                             (on_holidays, HOLIDAY_ACTIONS)):
        r.callback_query.register(handler, MeetingCb.filter(F.action.in_(actions)))
    r.message.register(on_holidays_typed, StateFilter(MeetingAdmin.holidays))
    return r
