"""The mentor logs a meeting right after it.

Logging starts from the log prompt's Held / Not held buttons (`MeetingCb` "log_held" / "log_not_held", only
the pair's mentor, only the meeting's current version). The draft lives in FSM data (kept in the database,
so a restart loses nothing): held → duration → what was done → a note → the goals (planning meeting) → a
review with the progress on the goals (regular and final meetings) → Save; not held → the reason → saved.
`repos.meetings.log` writes the log and its follow-ups (composed by `handlers.meeting_feedback`: feedback
requests, the fit check) in one transaction; a second Save finds the meeting logged and changes nothing.
After saving, the mentor reads the next step. `router()` is the entry point for logging, feedback and the
fit check.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb, button
from bot.clock import Clock
from bot.i18n import current_locale
from bot.labels import (
    ACTIVITIES,
    NOT_HELD_REASONS,
    activity_label,
    goal_status_label,
    not_held_label,
    step_label,
)
from bot.outbox import Outbox
from bot.states import MeetingLogging
from dialogs.meeting_plan import Done, next_step
from handlers import meeting_feedback
from handlers.access import refuse, show_in_place
from handlers.meeting_access import member, not_command
from handlers.meeting_feedback import follow_ups
from handlers.meeting_notices import when_text
from storage.models import Meeting, MeetingStatus, Pair
from storage.repos import Repositories
from storage.repos.meetings import GOAL_STATUSES, StaleMeeting

DURATIONS = (30, 45, 60, 90)
MINUTES_MIN, MINUTES_MAX = 5, 480
NOTE_LENGTH = 1000
GOAL_LENGTH = 200
GOALS_MAX = 5
REASON_LENGTH = 500
DRAFT = "meeting_log"
# Which buttons each stage of the draft accepts (Cancel is accepted at every stage).
STAGE_ACTIONS = {
    "minutes": {"log_min"},
    "activities": {"log_act", "log_actdone"},
    "note": {"log_skipnote"},
    "goals": set(),
    "review": {"log_gp", "log_save"},
    "reason": {"log_reason"},
}


# --- small helpers -------------------------------------------------------------------------------------


def _cb(action: str, draft: dict[str, Any], value: str = "") -> str:
    return MeetingCb(action=action, meeting=draft["meeting"], version=draft["version"], value=value).pack()


def _cancel_row(draft: dict[str, Any]) -> list[InlineKeyboardButton]:
    return [button(_("Cancel"), _cb("log_cancel", draft))]


async def _timezone(repos: Repositories, programme_id: int) -> str:
    programme = await repos.programmes.get(programme_id)
    org = await repos.organisations.get(programme.organisation_id) if programme else None
    return org.timezone if org else "Europe/Moscow"


def _stale_meeting_text(meeting: Meeting) -> str:
    if meeting.status is MeetingStatus.CANCELLED:
        return _("This meeting was cancelled: there is nothing to log.")
    return _("This meeting is already logged.")


# --- starting a log ------------------------------------------------------------------------------------


async def _meeting_to_log(
    call: CallbackQuery, cb: MeetingCb, repos: Repositories, clock: Clock
) -> tuple[Meeting, Pair] | None:
    """The meeting of the button if the tapping person is its mentor and it can be logged now."""
    meeting = await repos.meetings.get(cb.meeting)
    pair = await repos.pairs.get(meeting.pair_id) if meeting and meeting.pair_id is not None else None
    if meeting is None or pair is None:
        await refuse(call, _("This meeting no longer exists."))
        return None
    if await member(repos, pair, call.from_user.id, mentor=True) is None:
        await refuse(call, _("Only the mentor of this pair logs its meetings."))
        return None
    if meeting.status is not MeetingStatus.SCHEDULED:
        await refuse(call, _stale_meeting_text(meeting))
        return None
    if meeting.version != cb.version:
        await refuse(call, _("This meeting was moved after this message was sent: use the newest message "
                             "about it."))
        return None
    if meeting.starts_at > clock.now():
        await refuse(call, _("This meeting has not taken place yet: log it after it."))
        return None
    return meeting, pair


async def on_log_start(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories,
    clock: Clock,
) -> None:
    """Held or Not held under the log prompt: a new draft."""
    found = await _meeting_to_log(call, callback_data, repos, clock)
    if found is None:
        return
    meeting, _pair = found
    held = callback_data.action == "log_held"
    draft = {"meeting": meeting.id, "version": meeting.version, "held": held, "step": meeting.step,
             "pair": meeting.pair_id, "minutes": None, "activities": [], "notes": None, "goals": [],
             "progress": {}, "reason": None, "stage": "minutes" if held else "reason"}
    await state.set_state(MeetingLogging.minutes if held else MeetingLogging.buttons)
    await state.set_data({DRAFT: draft})
    await call.answer()
    screen = _duration_screen(draft) if held else _reason_screen(draft)
    await bot.send_message(call.from_user.id, await _title_line(repos, meeting) + "\n\n" + screen[0],
                           reply_markup=screen[1])


async def _title_line(repos: Repositories, meeting: Meeting) -> str:
    tz = await _timezone(repos, meeting.programme_id)
    return _("Log of the {step} ({when})").format(step=step_label(meeting.step),
                                                  when=when_text(meeting.starts_at, tz, current_locale()))


async def _draft_for(
    call: CallbackQuery, cb: MeetingCb, state: FSMContext, repos: Repositories
) -> dict[str, Any] | None:
    """The open draft this button belongs to, at a stage that accepts it; otherwise the person is told."""
    draft = (await state.get_data()).get(DRAFT)
    if not draft or draft["meeting"] != cb.meeting or draft["version"] != cb.version:
        meeting = await repos.meetings.get(cb.meeting)
        if meeting is not None and meeting.status is not MeetingStatus.SCHEDULED:
            await refuse(call, _stale_meeting_text(meeting))
        else:
            await refuse(call, _("This log is no longer open. Tap Held or Not held under the meeting "
                                 "again."))
        return None
    if cb.action != "log_cancel" and cb.action not in STAGE_ACTIONS[draft["stage"]]:
        await refuse(call, _("This button is from an earlier step: use the newest message."))
        return None
    return draft


async def _advance(state: FSMContext, draft: dict[str, Any], stage: str) -> None:
    draft["stage"] = stage
    states = {"minutes": MeetingLogging.minutes, "note": MeetingLogging.note, "goals": MeetingLogging.goals}
    await state.set_state(states.get(stage, MeetingLogging.buttons))
    await state.update_data({DRAFT: draft})


# --- held: duration, activities, note, goals, review ---------------------------------------------------


def _duration_screen(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    text = _("How long did the meeting last? Tap a button or send the number of minutes ({low} to {high}).")
    row = [button(_("{minutes} min").format(minutes=m), _cb("log_min", draft, str(m))) for m in DURATIONS]
    return (text.format(low=MINUTES_MIN, high=MINUTES_MAX),
            InlineKeyboardMarkup(inline_keyboard=[row, _cancel_row(draft)]))


def _activities_screen(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[button(("☑ " if a in draft["activities"] else "☐ ") + activity_label(a),
                     _cb("log_act", draft, a))] for a in ACTIVITIES]
    rows.append([button(_("Done"), _cb("log_actdone", draft))])
    rows.append(_cancel_row(draft))
    return (_("What was done at the meeting? Pick everything that fits, then tap Done."),
            InlineKeyboardMarkup(inline_keyboard=rows))


def _note_screen(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    return (_("Write a short note about the meeting (up to {limit} characters), or tap Skip.").format(
        limit=NOTE_LENGTH),
        InlineKeyboardMarkup(inline_keyboard=[[button(_("Skip"), _cb("log_skipnote", draft))],
                                              _cancel_row(draft)]))


def _goals_screen(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    return (_("This was the planning meeting: send the goals of the personalised programme, one per line "
              "(1 to {most} goals, each up to {limit} characters).").format(
                most=GOALS_MAX, limit=GOAL_LENGTH),
            InlineKeyboardMarkup(inline_keyboard=[_cancel_row(draft)]))


async def _review_screen(
    repos: Repositories, draft: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("Check the log and tap Save."),
             _("Held, {minutes} min.").format(minutes=draft["minutes"]),
             _("What was done: {activities}.").format(
                 activities=", ".join(activity_label(a) for a in draft["activities"]))]
    if draft["notes"]:
        lines.append(_("Note: {note}").format(note=draft["notes"]))
    if draft["goals"]:
        lines.append(_("Goals of the personalised programme:") + "\n"
                     + "\n".join(f"{n}. {g}" for n, g in enumerate(draft["goals"], 1)))
    rows: list[list[InlineKeyboardButton]] = []
    goals = await _goals_to_mark(repos, draft)
    if goals:
        marks = []
        for n, (goal_id, text, _status) in enumerate(goals, 1):
            chosen = draft["progress"][str(goal_id)]
            marks.append(f"{n}. {text} — {goal_status_label(chosen)}")
            rows.append([button(("✅ " if status == chosen else "") + f"{n}: {goal_status_label(status)}",
                                 _cb("log_gp", draft, f"{goal_id}.{i}"))
                         for i, status in enumerate(GOAL_STATUSES)])
        lines.append(_("Progress on the goals (tap to change):") + "\n" + "\n".join(marks))
    rows.append([button(_("Save"), _cb("log_save", draft))])
    rows.append(_cancel_row(draft))
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _goals_to_mark(repos: Repositories, draft: dict[str, Any]) -> list[tuple[int, str, str]]:
    """The pair's goals whose progress is marked at this meeting (regular and final meetings)."""
    if draft["step"] not in ("regular", "final"):
        return []
    goals = await repos.meetings.goals(draft["pair"])
    for goal_id, _text, status in goals:
        draft["progress"].setdefault(str(goal_id), status)
    return goals


async def on_minutes_button(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """A duration button."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    if not callback_data.value.isdigit() or int(callback_data.value) not in DURATIONS:
        await refuse(call, _("This button is out of date. Send /start to see where you are."))
        return
    draft["minutes"] = int(callback_data.value)
    await _advance(state, draft, "activities")
    await call.answer()
    await show_in_place(call, bot, *_activities_screen(draft))


async def on_minutes_typed(message: Message, state: FSMContext) -> None:
    """The duration typed as a number of minutes."""
    draft = (await state.get_data()).get(DRAFT)
    text = (message.text or "").strip()
    if draft is None:
        await state.clear()
        await message.answer(_("This log is no longer open. Tap Held or Not held under the meeting again."))
        return
    if not text.isdigit() or not MINUTES_MIN <= int(text) <= MINUTES_MAX:
        await message.answer(_("Send the number of minutes as a number from {low} to {high}, for example "
                               "40, or tap a button above.").format(low=MINUTES_MIN, high=MINUTES_MAX))
        return
    draft["minutes"] = int(text)
    await _advance(state, draft, "activities")
    text, markup = _activities_screen(draft)
    await message.answer(text, reply_markup=markup)


async def on_activity(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Pick or unpick an activity."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    if callback_data.value not in ACTIVITIES:
        await refuse(call, _("This button is out of date. Send /start to see where you are."))
        return
    picked = draft["activities"]
    if callback_data.value in picked:
        picked.remove(callback_data.value)
    else:
        picked.append(callback_data.value)
    draft["activities"] = [a for a in ACTIVITIES if a in picked]
    await state.update_data({DRAFT: draft})
    await call.answer()
    await show_in_place(call, bot, *_activities_screen(draft))


async def on_activities_done(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Done with the activities: the note is asked."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    if not draft["activities"]:
        await refuse(call, _("Pick at least one thing that was done, then tap Done."))
        return
    await _advance(state, draft, "note")
    await call.answer()
    await show_in_place(call, bot, *_note_screen(draft))


async def _after_note(state: FSMContext, repos: Repositories, draft: dict[str, Any]
                      ) -> tuple[str, InlineKeyboardMarkup]:
    """The goals at the planning meeting, else the review."""
    if draft["step"] == "planning":
        await _advance(state, draft, "goals")
        return _goals_screen(draft)
    screen = await _review_screen(repos, draft)
    await _advance(state, draft, "review")
    return screen


async def on_note_skipped(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """No note."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    draft["notes"] = None
    await call.answer()
    await show_in_place(call, bot, *await _after_note(state, repos, draft))


async def on_note_typed(message: Message, state: FSMContext, repos: Repositories) -> None:
    """The note as text."""
    draft = (await state.get_data()).get(DRAFT)
    if draft is None:
        await state.clear()
        await message.answer(_("This log is no longer open. Tap Held or Not held under the meeting again."))
        return
    text = (message.text or "").strip()
    if not text or len(text) > NOTE_LENGTH:
        await message.answer(_("Send the note as a text message of up to {limit} characters, or tap Skip "
                               "above.").format(limit=NOTE_LENGTH))
        return
    draft["notes"] = text
    text, markup = await _after_note(state, repos, draft)
    await message.answer(text, reply_markup=markup)


def _parse_goals(text: str) -> tuple[list[str], str | None]:
    goals = [line.strip() for line in text.splitlines() if line.strip()]
    if not 1 <= len(goals) <= GOALS_MAX or any(len(g) > GOAL_LENGTH for g in goals):
        return [], _("Send 1 to {most} goals as text, one per line, each up to {limit} characters.").format(
            most=GOALS_MAX, limit=GOAL_LENGTH)
    return goals, None


async def on_goals_typed(message: Message, state: FSMContext, repos: Repositories) -> None:
    """The planning meeting's goals, one per line."""
    draft = (await state.get_data()).get(DRAFT)
    if draft is None:
        await state.clear()
        await message.answer(_("This log is no longer open. Tap Held or Not held under the meeting again."))
        return
    goals, problem = _parse_goals(message.text or "")
    if problem is not None:
        await message.answer(problem)
        return
    draft["goals"] = goals
    text, markup = await _review_screen(repos, draft)
    await _advance(state, draft, "review")
    await message.answer(text, reply_markup=markup)


async def on_goal_progress(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Mark a goal's progress on the review screen."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    goal, _dot, index = callback_data.value.partition(".")
    if goal not in draft["progress"] or index not in {str(i) for i in range(len(GOAL_STATUSES))}:
        await refuse(call, _("This button is out of date. Send /start to see where you are."))
        return
    draft["progress"][goal] = GOAL_STATUSES[int(index)]
    await state.update_data({DRAFT: draft})
    await call.answer()
    await show_in_place(call, bot, *await _review_screen(repos, draft))


# --- not held ------------------------------------------------------------------------------------------


def _reason_screen(draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[button(not_held_label(r), _cb("log_reason", draft, r))] for r in NOT_HELD_REASONS]
    rows.append(_cancel_row(draft))
    return _("Why was the meeting not held?"), InlineKeyboardMarkup(inline_keyboard=rows)


async def on_reason(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories,
    i18n: I18n, outbox: Outbox,
) -> None:
    """A reason button: saved at once; "Other" asks for the reason as text."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    if callback_data.value not in NOT_HELD_REASONS:
        await refuse(call, _("This button is out of date. Send /start to see where you are."))
        return
    if callback_data.value == "other":
        draft["stage"] = "reason"
        await state.set_state(MeetingLogging.reason)
        await call.answer()
        ask = _("Write the reason in a few words (up to {limit} characters).").format(limit=REASON_LENGTH)
        await show_in_place(call, bot, ask, InlineKeyboardMarkup(inline_keyboard=[_cancel_row(draft)]))
        return
    draft["reason"] = callback_data.value
    text, markup = await _save(state, repos, i18n, draft)
    await call.answer()
    await show_in_place(call, bot, text, markup)
    outbox.wake()  # the follow-ups go once the mentor has read "Saved"


async def on_reason_typed(
    message: Message, state: FSMContext, repos: Repositories, i18n: I18n, outbox: Outbox
) -> None:
    """The reason as text: saved."""
    draft = (await state.get_data()).get(DRAFT)
    if draft is None:
        await state.clear()
        await message.answer(_("This log is no longer open. Tap Held or Not held under the meeting again."))
        return
    text = (message.text or "").strip()
    if not text or len(text) > REASON_LENGTH:
        await message.answer(_("Send the reason as a text message of up to {limit} characters.").format(
            limit=REASON_LENGTH))
        return
    draft["reason"] = text
    reply, markup = await _save(state, repos, i18n, draft)
    await message.answer(reply, reply_markup=markup)
    outbox.wake()  # the follow-ups go once the mentor has read "Saved"


# --- saving --------------------------------------------------------------------------------------------


async def on_save(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories,
    i18n: I18n, outbox: Outbox,
) -> None:
    """Save the held meeting's log."""
    draft = await _draft_for(call, callback_data, state, repos)
    if draft is None:
        return
    text, markup = await _save(state, repos, i18n, draft)
    await call.answer()
    await show_in_place(call, bot, text, markup)
    outbox.wake()  # the follow-ups (feedback requests, the fit check) go once the mentor has read "Saved"


async def on_cancel(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """Stop logging: nothing is saved."""
    if await _draft_for(call, callback_data, state, repos) is None:
        return
    await state.clear()
    await call.answer()
    await show_in_place(call, bot, _("Logging stopped, nothing was saved. Tap Held or Not held under the "
                                     "meeting when you are ready."), None)


async def _save(
    state: FSMContext, repos: Repositories, i18n: I18n, draft: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Write the log with its follow-ups (queued; the caller wakes the outbox once the mentor has the reply);
    what the mentor reads next."""
    held = draft["held"]
    try:
        meeting = await repos.meetings.log(
            draft["meeting"], draft["version"], held=held, minutes=draft["minutes"],
            activities=draft["activities"], notes=draft["notes"], reason=draft["reason"],
            goals=draft["goals"], progress={int(k): v for k, v in draft["progress"].items()},
            compose=lambda m: follow_ups(repos, i18n, m),
        )
    except StaleMeeting:
        await state.clear()
        current = await repos.meetings.get(draft["meeting"])
        if current is not None and current.status is MeetingStatus.SCHEDULED:
            return _("This meeting was moved meanwhile: nothing was saved. Log it after its new time."), None
        return (_stale_meeting_text(current) if current else _("This meeting no longer exists.")), None
    await state.clear()
    saved = (_("Saved: the meeting was held.") if held else _(
        "Saved: the meeting was not held ({reason}).").format(reason=not_held_label(draft["reason"])))
    text, markup = await next_step_text(repos, meeting)
    return saved + "\n\n" + text, markup


async def next_step_text(repos: Repositories, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup | None]:
    """What the pair's mentor does next after a logged meeting, with the Schedule button."""
    programme = await repos.programmes.get(meeting.programme_id)
    assert programme is not None and meeting.pair_id is not None
    settings = await repos.meetings.settings(programme.id)
    done = [Done(m.step, m.status is MeetingStatus.HELD, m.starts_at)
            for m in await repos.meetings.of_pair(meeting.pair_id)
            if m.status in (MeetingStatus.HELD, MeetingStatus.NOT_HELD)]
    step = next_step(settings, done, programme.end_date)
    if step is None:
        return _("The final meeting is logged: the programme is complete for your pair. Thank you!"), None
    text = (_("Next: the {step}. Schedule it when you have agreed on a time.") if meeting.status is
            MeetingStatus.HELD else _("Schedule the {step} again when you have agreed on a time."))
    schedule = button(_("Schedule the {step}").format(step=step_label(step)),
                      MeetingCb(action="schedule", pair=meeting.pair_id).pack())
    return text.format(step=step_label(step)), InlineKeyboardMarkup(inline_keyboard=[[schedule]])


# --- typed messages where buttons are expected ---------------------------------------------------------


async def on_buttons_expected(message: Message) -> None:
    """A message while the bot waits for a tap."""
    await message.answer(_("Tap a button in the message above, or /cancel to stop."))


def router() -> Router:
    """Logging, then feedback and the fit check (`handlers.meeting_feedback`), then the reply to a typed
    message where the log waits for a tap: tried in this order."""
    r = Router(name="meeting_log")
    r.callback_query.register(on_log_start, MeetingCb.filter(F.action.in_({"log_held", "log_not_held"})))
    r.callback_query.register(on_minutes_button, MeetingCb.filter(F.action == "log_min"))
    r.callback_query.register(on_activity, MeetingCb.filter(F.action == "log_act"))
    r.callback_query.register(on_activities_done, MeetingCb.filter(F.action == "log_actdone"))
    r.callback_query.register(on_note_skipped, MeetingCb.filter(F.action == "log_skipnote"))
    r.callback_query.register(on_goal_progress, MeetingCb.filter(F.action == "log_gp"))
    r.callback_query.register(on_reason, MeetingCb.filter(F.action == "log_reason"))
    r.callback_query.register(on_save, MeetingCb.filter(F.action == "log_save"))
    r.callback_query.register(on_cancel, MeetingCb.filter(F.action == "log_cancel"))
    r.message.register(on_minutes_typed, MeetingLogging.minutes, not_command)
    r.message.register(on_note_typed, MeetingLogging.note, not_command)
    r.message.register(on_goals_typed, MeetingLogging.goals, not_command)
    r.message.register(on_reason_typed, MeetingLogging.reason, not_command)
    r.include_router(meeting_feedback.router())
    waiting = Router(name="meeting_log-buttons")  # a router's own handlers come before its included ones
    waiting.message.register(on_buttons_expected, MeetingLogging.buttons, not_command)
    r.include_router(waiting)
    return r
