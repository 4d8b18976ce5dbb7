"""Scheduling meetings from a phone, the draft flow: a mentor schedules the pair's next step or moves a
scheduled meeting; a coordinator schedules the group final meeting of all pairs (its screen lives here too: it
is one more way into the same draft). The screens, the draft's buttons, typed answers and saving.

The draft (day, time, duration, place) lives in FSM data, so it survives restarts; every button of a draft
carries its token, so a calendar or summary of an earlier draft is out of date. Access is checked again when
the draft is saved: only the pair's mentor (or, for the group final, the programme's coordinator) saves it.
The meeting and every message it sends (notices, .ics, reminders, the log prompt) are written in one
transaction by `repos.meetings`, before the bot says "saved".

`router()` is the one entry point of the meeting handlers: it includes `handlers.meeting_cancel` (cancelling a
meeting) and `handlers.move_requests` (a mentee asks to move it); who may change a meeting, and what these
modules share, is in `handlers.meeting_access`.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.callbacks import MeetingCb, ProgrammeCb, button
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import current_locale
from bot.labels import step_label
from bot.outbox import Outbox
from bot.states import Scheduling
from dialogs.meeting_plan import GROUP_FINAL, Done, local_moment, next_step
from handlers import meeting_cancel, move_requests
from handlers.access import (
    managed_programme,
    programme_for_button,
    programme_to_change,
    refuse,
    show_in_place,
)
from handlers.calendar_kb import Bounds, calendar_markup, parse_day, parse_month
from handlers.meeting_access import (
    changeable,
    led_pair,
    may_change,
    meeting_markup,
    not_yours_text,
    timezone,
)
from handlers.meeting_notices import compose_scheduled, ics_file, when_text
from storage.models import Meeting, MeetingStatus, OutboxMessage, Pair, Participant, Programme
from storage.repos import Repositories
from storage.repos.meetings import StaleMeeting

SLOTS = ("15:00", "15:30", "16:00", "16:30", "17:00")
DURATIONS = (30, 45, 60, 90)
PLACE_MAX = 200
ROOM_MAX = 100
TIME_RE = re.compile(r"^(\d{1,2})(?:\s*[:.\-hч ]?\s*(\d{2}))?$", re.IGNORECASE)
LINK_RE = re.compile(r"^(https?://)?[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?$", re.IGNORECASE)

Screen = tuple[str, InlineKeyboardMarkup]
Draft = dict[str, Any]


def _stale_text() -> str:
    return _("This button is out of date: the scheduling it belongs to was finished or stopped.")


async def _names(repos: Repositories, pair: Pair) -> str:
    names = await repos.participants.names(pair.mentee_ids)
    return ", ".join(names[i] for i in pair.mentee_ids if i in names)


# ----------------------------------------------------------------- the draft's screens


def _cb(draft: Draft, action: str, payload: str = "") -> MeetingCb:
    value = f"{draft['token']}-{payload}" if payload else draft["token"]
    return MeetingCb(action=action, value=value)


def _cancel_row(draft: Draft) -> list[InlineKeyboardButton]:
    return [button(_("Cancel"), _cb(draft, "sch_drop"))]


async def _bounds(repos: Repositories, clock: Clock, programme: Programme) -> tuple[Bounds, str]:
    tz = await timezone(repos, programme)
    settings = await repos.meetings.settings(programme.id)
    today = clock.now().astimezone(ZoneInfo(tz)).date()
    return Bounds(today, programme.start_date, programme.end_date, settings.holidays), tz


def _day_text(draft: Draft) -> str:
    return format_date(date.fromisoformat(draft["day"]), "EEEE d MMMM", locale=current_locale())


def _date_screen(draft: Draft, bounds: Bounds, month: date | None = None) -> Screen:
    locale = current_locale()
    markup = calendar_markup(
        month or bounds.first_month(), bounds, locale,
        day_cb=lambda day: _cb(draft, "cal_day", day.strftime("%Y%m%d")).pack(),
        month_cb=lambda first: _cb(draft, "cal_month", first.strftime("%Y%m")).pack(),
        noop_cb=MeetingCb(action="cal_nop").pack(),
        extra_rows=[_cancel_row(draft)],
    )
    hint = _("Choose the day. Days marked ·like this· have passed, are outside the programme's dates or in "
             "the school holidays.")
    return f"{draft['heading']}\n\n{hint}", markup


def _time_screen(draft: Draft, slots: list[str]) -> Screen:
    text = _("{heading}\nDay: {day}\n\nChoose the time or type it, e.g. 15:30 (the organisation's local "
             "time):").format(heading=draft["heading"], day=_day_text(draft))
    rows = [[button(s, _cb(draft, "sch_time", s.replace(":", ""))) for s in slots[i:i + 3]]
            for i in range(0, len(slots), 3)]
    rows.append([button(_("Other time"), _cb(draft, "sch_other")),
                 button(_("Another day"), _cb(draft, "sch_change"))])
    return text, InlineKeyboardMarkup(inline_keyboard=[*rows, _cancel_row(draft)])


def _minutes_screen(draft: Draft) -> Screen:
    text = _("{heading}\nDay: {day}, {time}\n\nHow long will it take?").format(
        heading=draft["heading"], day=_day_text(draft), time=draft["time"])
    row = [button(_("{minutes} min").format(minutes=m), _cb(draft, "sch_min", str(m))) for m in DURATIONS]
    return text, InlineKeyboardMarkup(inline_keyboard=[row, _cancel_row(draft)])


def _place_screen(draft: Draft) -> Screen:
    text = _("{heading}\nDay: {day}, {time}, {minutes} min\n\nWhere? Choose, or type the place (up to {max} "
             "characters):").format(heading=draft["heading"], day=_day_text(draft), time=draft["time"],
                                    minutes=draft["minutes"], max=PLACE_MAX)
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [button(_("At school"), _cb(draft, "sch_school")), button(_("Online"), _cb(draft, "sch_online"))],
        _cancel_row(draft),
    ])


def _room_screen(draft: Draft) -> Screen:
    text = _("Which room? Type it, e.g. «room 12», or tap Skip.")
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Skip"), _cb(draft, "sch_skip"))], _cancel_row(draft)])


def _link_screen(draft: Draft) -> Screen:
    text = _("Send the link to the online meeting, e.g. https://telemost.yandex.ru/j/123.")
    return text, InlineKeyboardMarkup(inline_keyboard=[_cancel_row(draft)])


def _summary_screen(draft: Draft, tz: str) -> Screen:
    starts = local_moment(date.fromisoformat(draft["day"]), time.fromisoformat(draft["time"]), tz)
    place = (_("online: {link}") if draft["online"] else "{link}").format(link=draft["place"])
    text = _("{heading}\n\nWhen: {when}\nDuration: {minutes} min\nWhere: {place}\n\nSave it and tell "
             "everyone?").format(heading=draft["heading"], when=when_text(starts, tz, current_locale()),
                                 minutes=draft["minutes"], place=place)
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Confirm"), _cb(draft, "sch_ok"))],
        [button(_("Change"), _cb(draft, "sch_change")), button(_("Cancel"), _cb(draft, "sch_drop"))],
    ])


async def _screen(state: FSMContext, repos: Repositories, clock: Clock) -> Screen | None:
    """The screen of the step the draft is at (None without a draft)."""
    draft = await state.get_data()
    current = await state.get_state()
    programme = await repos.programmes.get(int(draft.get("programme", 0)))
    if programme is None or "token" not in draft:
        return None
    bounds, tz = await _bounds(repos, clock, programme)
    if current == Scheduling.time.state:
        return _time_screen(draft, _slots(draft, tz, clock))
    if current == Scheduling.minutes.state:
        return _minutes_screen(draft)
    if current == Scheduling.place.state:
        return _place_screen(draft)
    if current == Scheduling.room.state:
        return _room_screen(draft)
    if current == Scheduling.link.state:
        return _link_screen(draft)
    if current == Scheduling.confirm.state:
        return _summary_screen(draft, tz)
    return _date_screen(draft, bounds)


async def _show(call: CallbackQuery, bot: Bot, state: FSMContext, repos: Repositories, clock: Clock) -> None:
    screen = await _screen(state, repos, clock)
    await call.answer()
    if screen is not None:
        await show_in_place(call, bot, *screen)


async def _reply(message: Message, state: FSMContext, repos: Repositories, clock: Clock,
                 problem: str | None = None) -> None:
    screen = await _screen(state, repos, clock)
    if screen is None:
        await state.clear()
        await message.answer(_("This scheduling was stopped. Nothing was saved."))
        return
    text, markup = screen
    await message.answer(f"{problem}\n\n{text}" if problem else text, reply_markup=markup)


def _moment(draft: Draft, tz: str, at: str | None = None) -> datetime:
    return local_moment(date.fromisoformat(draft["day"]), time.fromisoformat(at or draft["time"]), tz)


def _slots(draft: Draft, tz: str, clock: Clock) -> list[str]:
    return [s for s in SLOTS if _moment(draft, tz, s) > clock.now()]


# ----------------------------------------------------------------- starting a draft


async def _start(call: CallbackQuery, bot: Bot, state: FSMContext, repos: Repositories, clock: Clock,
                 draft: Draft) -> None:
    """A new draft at the calendar, in a new message (the pressed one stays as it was)."""
    draft["token"] = secrets.token_hex(3)
    await state.set_state(Scheduling.date)
    await state.set_data(draft)
    screen = await _screen(state, repos, clock)
    await call.answer()
    if screen is not None:
        await bot.send_message(call.from_user.id, screen[0], reply_markup=screen[1])


async def _pair_to_schedule(call: CallbackQuery, callback_data: MeetingCb,
                            repos: Repositories) -> tuple[Pair, Participant] | None:
    """The pair the button names (or, from the approval message, the mentor's pair of that programme)."""
    pair_id = callback_data.pair
    if pair_id == 0 and callback_data.value.isdigit() and len(callback_data.value) < 12:
        mentor = await repos.participants.find(int(callback_data.value), call.from_user.id)
        pair = await repos.pairs.of_participant(mentor.id) if mentor else None
        pair_id = pair.id if pair is not None and pair.mentor_id == mentor.id else 0  # type: ignore[union-attr]
    return await led_pair(repos, call.from_user.id, pair_id) if pair_id else None


async def on_schedule(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                      repos: Repositories, clock: Clock) -> None:
    """The mentor's "Schedule the … meeting": the pair's next step, or what is already scheduled."""
    led = await _pair_to_schedule(call, callback_data, repos)
    if led is None:
        await refuse(call, not_yours_text())
        return
    pair, _mentor = led
    programme = await repos.programmes.get(pair.programme_id)
    assert programme is not None
    tz = await timezone(repos, programme)
    if (scheduled := await repos.meetings.scheduled_of_pair(pair.id)) is not None:
        await call.answer()
        text = _("The {step} is already scheduled: {when}, {place}.").format(
            step=step_label(scheduled.step), when=when_text(scheduled.starts_at, tz, current_locale()),
            place=scheduled.place)
        await bot.send_message(call.from_user.id, text, reply_markup=meeting_markup(scheduled))
        return
    settings = await repos.meetings.settings(programme.id)
    logged = [m for m in await repos.meetings.of_pair(pair.id)
              if m.status in (MeetingStatus.HELD, MeetingStatus.NOT_HELD)]
    done = [Done(m.step, m.status is MeetingStatus.HELD, m.starts_at) for m in logged]
    step = next_step(settings, done, programme.end_date)
    if step is None:
        await refuse(call, _("All the meetings of this pair have been held."))
        return
    heading = _("The {step} with {names}.").format(step=step_label(step), names=await _names(repos, pair))
    await _start(call, bot, state, repos, clock, {
        "kind": "pair", "programme": programme.id, "pair": pair.id, "step": step, "heading": heading})


async def on_move(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                  settings: Settings, repos: Repositories, clock: Clock) -> None:
    """Move a scheduled meeting: the day, time, duration and place again."""
    meeting = await changeable(call, callback_data, settings, repos)
    if meeting is None:
        return
    programme = await repos.programmes.get(meeting.programme_id)
    assert programme is not None
    tz = await timezone(repos, programme)
    heading = _("Moving the {step} (now: {when}, {place}).").format(
        step=step_label(meeting.step), when=when_text(meeting.starts_at, tz, current_locale()),
        place=meeting.place)
    await _start(call, bot, state, repos, clock, {
        "kind": "move", "programme": programme.id, "pair": meeting.pair_id or 0, "meeting": meeting.id,
        "version": meeting.version, "step": meeting.step, "heading": heading})


# ----------------------------------------------------------------- the draft's buttons


async def _draft(
    call: CallbackQuery, callback_data: MeetingCb, state: FSMContext
) -> tuple[Draft, str] | None:
    """The draft the button belongs to and the button's payload; a stale button gets an alert."""
    token, _sep, payload = callback_data.value.partition("-")
    current = await state.get_state()
    draft = await state.get_data()
    if current is None or not current.startswith("Scheduling:") or draft.get("token") != token:
        await refuse(call, _stale_text())
        return None
    return draft, payload


async def _goto(state: FSMContext, step: Any, **changes: Any) -> None:
    await state.update_data(**changes)
    await state.set_state(step)


async def on_noop(call: CallbackQuery) -> None:
    """A calendar's title, weekday names and empty cells."""
    await call.answer()


async def on_month(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                   repos: Repositories, clock: Clock) -> None:
    """« » on the calendar."""
    found = await _draft(call, callback_data, state)
    month = parse_month(found[1]) if found else None
    programme = await repos.programmes.get(int(found[0]["programme"])) if found else None
    if found is None or month is None or programme is None:
        if found is not None:
            await refuse(call, _stale_text())
        return
    bounds, _tz = await _bounds(repos, clock, programme)
    await state.set_state(Scheduling.date)
    await call.answer()
    await show_in_place(call, bot, *_date_screen(found[0], bounds, month))


async def on_day(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                 repos: Repositories, clock: Clock) -> None:
    """A day on the calendar: refused with the reason, or on to the time."""
    found = await _draft(call, callback_data, state)
    if found is None:
        return
    draft, payload = found
    day = parse_day(payload)
    programme = await repos.programmes.get(int(draft["programme"]))
    if day is None or programme is None:
        await refuse(call, _stale_text())
        return
    bounds, _tz = await _bounds(repos, clock, programme)
    if (reason := bounds.refusal(day)) is not None:
        await call.answer(reason, show_alert=True)
        return
    await _goto(state, Scheduling.time, day=day.isoformat())
    await _show(call, bot, state, repos, clock)


def parse_time(text: str) -> time | None:
    """«15:30», «15.30», «1530», «9:05», «15» as a time of day (None when it is not one)."""
    match = TIME_RE.match(text.strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


async def _set_time(state: FSMContext, repos: Repositories, clock: Clock, at: time) -> str | None:
    """Take the time of day for the draft's day; the problem if it is not acceptable."""
    draft = await state.get_data()
    programme = await repos.programmes.get(int(draft["programme"]))
    if programme is None or "day" not in draft:
        return _stale_text()
    tz = await timezone(repos, programme)
    if _moment(draft, tz, at.strftime("%H:%M")) <= clock.now():
        return _("This time has already passed. Choose a later time or another day.")
    await _goto(state, Scheduling.minutes, time=at.strftime("%H:%M"))
    return None


async def on_slot(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                  repos: Repositories, clock: Clock) -> None:
    """A time slot."""
    found = await _draft(call, callback_data, state)
    if found is None:
        return
    at = parse_time(found[1])
    problem = await _set_time(state, repos, clock, at) if at is not None else _stale_text()
    if problem is not None:
        await call.answer(problem, show_alert=True)
        return
    await _show(call, bot, state, repos, clock)


async def on_other_time(call: CallbackQuery, callback_data: MeetingCb, state: FSMContext) -> None:
    """"Other time": the time is typed."""
    if await _draft(call, callback_data, state) is None:
        return
    await state.set_state(Scheduling.time)
    await call.answer(_("Type the time, e.g. 15:30, 15.30 or 1530."), show_alert=True)


async def on_minutes(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                     repos: Repositories, clock: Clock) -> None:
    """The duration."""
    found = await _draft(call, callback_data, state)
    if found is None:
        return
    if not found[1].isdigit() or int(found[1]) not in DURATIONS or "time" not in found[0]:
        await refuse(call, _stale_text())
        return
    await _goto(state, Scheduling.place, minutes=int(found[1]))
    await _show(call, bot, state, repos, clock)


async def on_place_choice(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                          repos: Repositories, clock: Clock) -> None:
    """At school (then the room) or online (then the link)."""
    found = await _draft(call, callback_data, state)
    if found is None:
        return
    if "minutes" not in found[0]:
        await refuse(call, _stale_text())
        return
    await state.set_state(Scheduling.room if callback_data.action == "sch_school" else Scheduling.link)
    await _show(call, bot, state, repos, clock)


async def on_skip_room(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                       repos: Repositories, clock: Clock) -> None:
    """At school, no room given."""
    if await _draft(call, callback_data, state) is None:
        return
    await _goto(state, Scheduling.confirm, place=_("at school"), online=False)
    await _show(call, bot, state, repos, clock)


async def on_change(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                    repos: Repositories, clock: Clock) -> None:
    """Back to the calendar; what was chosen is chosen again."""
    if await _draft(call, callback_data, state) is None:
        return
    await state.set_state(Scheduling.date)
    await _show(call, bot, state, repos, clock)


async def on_drop(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext) -> None:
    """Stop the draft; nothing is saved."""
    if await _draft(call, callback_data, state) is None:
        return
    await state.clear()
    await call.answer()
    await show_in_place(call, bot, _("Stopped: nothing was scheduled or changed."), None)


# ----------------------------------------------------------------- typed answers


async def on_typed(message: Message, state: FSMContext, repos: Repositories, clock: Clock) -> None:
    """A message during scheduling: the time, the room, the link or the place where typed; else a hint."""
    current = await state.get_state()
    text = (message.text or "").strip()
    if message.text is None and current in _TYPED:
        await _reply(message, state, repos, clock, _("Please type it as a text message."))
        return
    handler = _TYPED.get(current or "")
    problem = await handler(state, repos, clock, text) if handler else _("Please use the buttons below.")
    await _reply(message, state, repos, clock, problem)


async def _typed_time(state: FSMContext, repos: Repositories, clock: Clock, text: str) -> str | None:
    at = parse_time(text)
    if at is None:
        return _("I didn't understand the time. Type it like 15:30, 15.30 or 1530.")
    return await _set_time(state, repos, clock, at)


async def _typed_room(state: FSMContext, repos: Repositories, clock: Clock, text: str) -> str | None:
    if not text or len(text) > ROOM_MAX:
        return _("The room can be up to {max} characters long.").format(max=ROOM_MAX)
    await _goto(state, Scheduling.confirm, place=_("at school, {room}").format(room=text), online=False)
    return None


async def _typed_link(state: FSMContext, repos: Repositories, clock: Clock, text: str) -> str | None:
    if len(text) > PLACE_MAX or LINK_RE.match(text) is None:
        return _("This doesn't look like a link. Send it like https://telemost.yandex.ru/j/123.")
    link = text if text.lower().startswith(("http://", "https://")) else f"https://{text}"
    await _goto(state, Scheduling.confirm, place=link, online=True)
    return None


async def _typed_place(state: FSMContext, repos: Repositories, clock: Clock, text: str) -> str | None:
    if not text or len(text) > PLACE_MAX:
        return _("The place can be up to {max} characters long; this text has {length}.").format(
            max=PLACE_MAX, length=len(text))
    await _goto(state, Scheduling.confirm, place=text, online=False)
    return None


_TYPED = {
    Scheduling.time.state: _typed_time,
    Scheduling.room.state: _typed_room,
    Scheduling.link.state: _typed_link,
    Scheduling.place.state: _typed_place,
}


# ----------------------------------------------------------------- saving


async def _save(draft: Draft, user_id: int, starts: datetime, settings: Settings, repos: Repositories,
                i18n: I18n, clock: Clock) -> Meeting | None:
    """Write the meeting and its messages; None when the person may no longer do it."""
    kind, place, online, minutes = draft["kind"], draft["place"], bool(draft["online"]), int(draft["minutes"])

    async def compose(meeting: Meeting) -> list[OutboxMessage]:
        return await compose_scheduled(repos, i18n, clock, meeting, moved=kind == "move")

    if kind == "move":
        meeting = await repos.meetings.get(int(draft["meeting"]))
        if meeting is None or not await may_change(user_id, meeting, settings, repos):
            return None
        return await repos.meetings.move(meeting.id, int(draft["version"]), starts, minutes, place, online,
                                         compose)
    programme_id = int(draft["programme"])
    if kind == "pair":
        led = await led_pair(repos, user_id, int(draft["pair"]))
        if led is None or led[0].programme_id != programme_id:
            return None
        return await repos.meetings.schedule(programme_id, led[0].id, draft["step"], starts, minutes, place,
                                             online, user_id, compose)
    if await managed_programme(user_id, programme_id, settings, repos) is None:
        return None
    if any(m.status is MeetingStatus.SCHEDULED for m in await repos.meetings.group_finals(programme_id)):
        raise StaleMeeting
    return await repos.meetings.schedule(programme_id, None, GROUP_FINAL, starts, minutes, place, online,
                                         user_id, compose)


def _saved_text(meeting: Meeting, tz: str, moved: bool) -> str:
    when = when_text(meeting.starts_at, tz, current_locale())
    if meeting.pair_id is None:
        who = _("Every mentor and mentee of the active pairs is told, with a calendar file, and reminded "
                "before it.")
    else:
        who = _("Your mentees are told, with a calendar file; you and they are reminded before it, and "
                "afterwards the bot asks you how it went.")
    text = _("Moved: the {step}, {when}, {place}.") if moved else _("Saved: the {step}, {when}, {place}.")
    return text.format(step=step_label(meeting.step), when=when, place=meeting.place) + "\n" + who


async def on_confirm(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                     settings: Settings, repos: Repositories, i18n: I18n, clock: Clock,
                     outbox: Outbox) -> None:
    """Save the draft: the meeting with its notices and reminders, then the confirmation and the .ics."""
    found = await _draft(call, callback_data, state)
    if found is None:
        return
    draft = found[0]
    programme = await repos.programmes.get(int(draft["programme"]))
    if await state.get_state() != Scheduling.confirm.state or programme is None:
        await refuse(call, _stale_text())
        return
    tz = await timezone(repos, programme)
    starts = _moment(draft, tz)
    if starts <= clock.now():
        await _goto(state, Scheduling.time)
        await call.answer(_("This time has already passed. Choose a later time or another day."),
                          show_alert=True)
        await show_in_place(call, bot, *_time_screen(await state.get_data(), _slots(draft, tz, clock)))
        return
    try:
        meeting = await _save(draft, call.from_user.id, starts, settings, repos, i18n, clock)
    except StaleMeeting:
        await state.clear()
        await refuse(call, _("Nothing was saved: this meeting was scheduled, moved or cancelled meanwhile."))
        return
    await state.clear()
    if meeting is None:
        await refuse(call, not_yours_text())
        return
    outbox.wake()
    await call.answer()
    await show_in_place(call, bot, _saved_text(meeting, tz, draft["kind"] == "move"),
                        meeting_markup(meeting))
    data = ics_file(meeting, programme, f"{step_label(meeting.step)} — {programme.title}")
    await bot.send_document(call.from_user.id, BufferedInputFile(data, filename=f"meeting-{meeting.id}.ics"),
                            caption=_("The meeting for your calendar."))


# ----------------------------------------------------------------- the group final meeting


async def _group_final_screen(repos: Repositories, programme: Programme) -> Screen:
    tz = await timezone(repos, programme)
    finals = await repos.meetings.group_finals(programme.id)
    pairs = await repos.pairs.active(programme.id)
    rows: list[list[InlineKeyboardButton]] = []
    lines = [_("The group final meeting of all pairs of «{programme}».").format(programme=programme.title)]
    for meeting in finals:
        when = when_text(meeting.starts_at, tz, current_locale())
        if meeting.status is MeetingStatus.SCHEDULED:
            lines.append(_("Scheduled: {when}, {place}.").format(when=when, place=meeting.place))
            rows += meeting_markup(meeting).inline_keyboard
        else:
            lines.append(_("Held: {when}, {place}.").format(when=when, place=meeting.place))
    if not any(m.status is MeetingStatus.SCHEDULED for m in finals):
        if pairs:
            rows.append([button(_("Schedule the group final meeting"),
                                 MeetingCb(action="gf_new", value=str(programme.id)))])
        else:
            lines.append(_("There are no active pairs yet: it can be scheduled once pairs are approved."))
    rows.append([button(_("Back to the programme"), ProgrammeCb(action="open", programme=programme.id))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def on_group_final(call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, settings: Settings,
                         repos: Repositories) -> None:
    """The programme card's "Group final meeting": what is scheduled, or the button to schedule it."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await call.answer()
    await show_in_place(call, bot, *await _group_final_screen(repos, programme))


async def on_group_final_new(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                             settings: Settings, repos: Repositories, clock: Clock) -> None:
    """Schedule the group final meeting: the same steps as a pair's meeting."""
    value = callback_data.value
    programme_id = int(value) if value.isdigit() and len(value) < 12 else 0
    programme = await programme_to_change(call, programme_id, settings, repos)
    if programme is None:
        return
    finals = await repos.meetings.group_finals(programme.id)
    if any(m.status is MeetingStatus.SCHEDULED for m in finals) or not await repos.pairs.active(programme.id):
        await call.answer()
        await show_in_place(call, bot, *await _group_final_screen(repos, programme))
        return
    heading = _("The {step} of «{programme}».").format(step=step_label(GROUP_FINAL),
                                                       programme=programme.title)
    await _start(call, bot, state, repos, clock, {
        "kind": "group_final", "programme": programme.id, "step": GROUP_FINAL, "heading": heading})


def router() -> Router:
    """The meeting handlers, tried in this order: the draft's buttons (schedule, move, the calendar …
    confirm), cancelling, a mentee's request to move, the group final meeting; for messages, the mentee's
    typed request before the draft's typed answers. Their filters do not overlap (callback actions, FSM
    states); the order is the one they had when all of them were registered on one router."""
    r = Router(name="scheduling")
    drafts = Router(name="scheduling_drafts")
    cb = drafts.callback_query.register
    cb(on_schedule, MeetingCb.filter(F.action == "schedule"))
    cb(on_move, MeetingCb.filter(F.action == "move"))
    cb(on_noop, MeetingCb.filter(F.action == "cal_nop"))
    cb(on_month, MeetingCb.filter(F.action == "cal_month"))
    cb(on_day, MeetingCb.filter(F.action == "cal_day"))
    cb(on_slot, MeetingCb.filter(F.action == "sch_time"))
    cb(on_other_time, MeetingCb.filter(F.action == "sch_other"))
    cb(on_minutes, MeetingCb.filter(F.action == "sch_min"))
    cb(on_place_choice, MeetingCb.filter(F.action.in_({"sch_school", "sch_online"})))
    cb(on_skip_room, MeetingCb.filter(F.action == "sch_skip"))
    cb(on_change, MeetingCb.filter(F.action == "sch_change"))
    cb(on_drop, MeetingCb.filter(F.action == "sch_drop"))
    cb(on_confirm, MeetingCb.filter(F.action == "sch_ok"))
    final = Router(name="group_final")
    final.callback_query.register(on_group_final, ProgrammeCb.filter(F.action == "group_final"))
    final.callback_query.register(on_group_final_new, MeetingCb.filter(F.action == "gf_new"))
    typed = Router(name="scheduling_typed")
    typed.message.register(on_typed, StateFilter(Scheduling))
    r.include_routers(drafts, meeting_cancel.router(), move_requests.router(), final, typed)
    return r
