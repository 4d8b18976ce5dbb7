"""/mypairs for a mentor and /mymentor for a mentee: the partner, the next meeting or the step due next,
the history of meetings and the goals of the personalised programme with their latest progress.

Times are shown in the organisation's time zone. A mentor's card has the Schedule button when a step is due
and nothing is scheduled, and Held / Not held when a scheduled meeting has begun but is not logged yet.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from bot.callbacks import MeetingCb, button
from bot.clock import Clock
from bot.i18n import current_locale
from bot.labels import form_label, goal_status_label, not_held_label, step_label
from dialogs.meeting_plan import Done, next_step
from handlers.meeting_notices import when_text
from storage.models import Meeting, MeetingStatus, Pair, Programme, Role
from storage.repos import Repositories

HISTORY_SHOWN = 10
Card = tuple[str, InlineKeyboardMarkup | None]




async def _timezone(repos: Repositories, programme: Programme) -> str:
    org = await repos.organisations.get(programme.organisation_id)
    return org.timezone if org else "Europe/Moscow"


async def goals_text(repos: Repositories, pair_id: int) -> str:
    """The personalised programme's goals with their latest progress."""
    goals = await repos.meetings.goals(pair_id)
    if not goals:
        return _("Personalised programme: the goals are agreed at the planning meeting.")
    return _("Personalised programme:") + "\n" + "\n".join(
        f"{n}. {text} — {goal_status_label(status)}" for n, (_id, text, status) in enumerate(goals, 1))


def _meeting_line(meeting: Meeting, tz: str) -> str:
    return _("Next meeting: the {step}, {when}, {place}.").format(
        step=step_label(meeting.step), when=when_text(meeting.starts_at, tz, current_locale()),
        place=meeting.place)


def _history_line(meeting: Meeting, tz: str) -> str:
    day = format_datetime(meeting.starts_at, "d MMMM", tzinfo=ZoneInfo(tz), locale=current_locale())
    if meeting.status is MeetingStatus.HELD:
        outcome = _("held, {minutes} min").format(minutes=meeting.held_minutes or meeting.minutes)
    elif meeting.status is MeetingStatus.NOT_HELD:
        outcome = _("not held: {reason}").format(reason=not_held_label(meeting.not_held_reason or "other"))
    else:
        outcome = _("cancelled")
    return f"• {day} — {step_label(meeting.step)} — {outcome}"


def _history_text(meetings: list[Meeting], tz: str) -> str:
    past = [m for m in meetings if m.status is not MeetingStatus.SCHEDULED]
    if not past:
        return _("History: no meetings yet.")
    lines = [_history_line(m, tz) for m in past[-HISTORY_SHOWN:]]
    if len(past) > HISTORY_SHOWN:
        lines.insert(0, _("… and {count} earlier").format(count=len(past) - HISTORY_SHOWN))
    return _("History:") + "\n" + "\n".join(lines)


async def _group_finals_text(repos: Repositories, programme: Programme, tz: str) -> str | None:
    finals = [m for m in await repos.meetings.group_finals(programme.id)
              if m.status is MeetingStatus.SCHEDULED]
    if not finals:
        return None
    return "\n".join(_("The {step}: {when}, {place}.").format(
        step=step_label(m.step), when=when_text(m.starts_at, tz, current_locale()), place=m.place)
        for m in finals)


async def _due_step(repos: Repositories, programme: Programme, meetings: list[Meeting]) -> str | None:
    settings = await repos.meetings.settings(programme.id)
    done = [Done(m.step, m.status is MeetingStatus.HELD, m.starts_at) for m in meetings
            if m.status in (MeetingStatus.HELD, MeetingStatus.NOT_HELD)]
    return next_step(settings, done, programme.end_date)


async def _next_part(
    repos: Repositories, programme: Programme, pair: Pair, meetings: list[Meeting], tz: str, clock: Clock
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The next meeting (with Held / Not held once it has begun) or the step due with Schedule."""
    scheduled = next((m for m in meetings if m.status is MeetingStatus.SCHEDULED), None)
    if scheduled is not None:
        if scheduled.starts_at > clock.now():
            return _meeting_line(scheduled, tz), []
        text = _("Not logged yet: the {step}, {when}.").format(
            step=step_label(scheduled.step), when=when_text(scheduled.starts_at, tz, current_locale()))
        return text, [[
            button(_("Held"), MeetingCb(action="log_held", meeting=scheduled.id, version=scheduled.version)),
            button(_("Not held"), MeetingCb(action="log_not_held", meeting=scheduled.id,
                                             version=scheduled.version))]]
    step = await _due_step(repos, programme, meetings)
    if step is None:
        return _("The programme is complete: the final meeting is held."), []
    return (_("Next step: the {step}, not scheduled yet.").format(step=step_label(step)),
            [[button(_("Schedule the {step}").format(step=step_label(step)),
                      MeetingCb(action="schedule", pair=pair.id))]])


async def pair_card(
    repos: Repositories, programme: Programme, pair: Pair, form: str, clock: Clock
) -> Card:
    """A mentor's card of one pair or group."""
    tz = await _timezone(repos, programme)
    mentees = [m for i in pair.mentee_ids if (m := await repos.participants.get(i)) is not None]
    meetings = await repos.meetings.of_pair(pair.id)
    next_text, rows = await _next_part(repos, programme, pair, meetings, tz, clock)
    parts = [
        _("«{programme}», {form}. Your mentees: {names}.").format(
            programme=programme.title, form=form_label(form), names=", ".join(m.full_name for m in mentees)),
        next_text,
    ]
    if (finals := await _group_finals_text(repos, programme, tz)) is not None:
        parts.append(finals)
    parts += [_history_text(meetings, tz), await goals_text(repos, pair.id)]
    return "\n\n".join(parts), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def mentor_card(repos: Repositories, programme: Programme, pair: Pair, clock: Clock) -> str | None:
    """A mentee's view: the mentor, the next meeting, the group final, the goals."""
    mentor = await repos.participants.get(pair.mentor_id)
    if mentor is None:
        return None
    tz = await _timezone(repos, programme)
    scheduled = await repos.meetings.scheduled_of_pair(pair.id)
    parts = [
        _("«{programme}»: your mentor is {mentor}.").format(programme=programme.title,
                                                           mentor=mentor.full_name),
        _meeting_line(scheduled, tz) if scheduled is not None and scheduled.starts_at > clock.now()
        else _("No meeting is scheduled yet: your mentor will invite you, and the bot will tell you."),
    ]
    if (finals := await _group_finals_text(repos, programme, tz)) is not None:
        parts.append(finals)
    parts.append(await goals_text(repos, pair.id))
    return "\n\n".join(parts)


async def on_my_pairs(message: Message, repos: Repositories, clock: Clock) -> None:
    """A mentor's approved pairs and groups, one card each."""
    cards: list[Card] = []
    for participant in await repos.participants.of_user(message.chat.id):
        if participant.role is not Role.MENTOR:
            continue
        pair = await repos.pairs.of_participant(participant.id)
        programme = await repos.programmes.get(participant.programme_id)
        if pair is not None and programme is not None:
            cards.append(await pair_card(repos, programme, pair, participant.form, clock))
    if not cards:
        cards = [(_("You have no approved mentoring pairs yet. The coordinator approves the pairs after "
                    "matching; the bot will tell you."), None)]
    for text, markup in cards:
        await message.answer(text, reply_markup=markup)


async def on_my_mentor(message: Message, repos: Repositories, clock: Clock) -> None:
    """A mentee's mentor in each programme, with the next meeting and the goals."""
    blocks = []
    for participant in await repos.participants.of_user(message.chat.id):
        if participant.role is not Role.MENTEE:
            continue
        pair = await repos.pairs.of_participant(participant.id)
        programme = await repos.programmes.get(participant.programme_id)
        if pair is not None and programme is not None \
                and (card := await mentor_card(repos, programme, pair, clock)) is not None:
            blocks.append(card)
    if not blocks:
        blocks = [_("You have no mentor yet. The coordinator forms the pairs after everyone has answered "
                    "the questionnaire; the bot will tell you who your mentor is.")]
    await message.answer("\n\n".join(blocks))


def router() -> Router:
    """/mypairs and /mymentor."""
    r = Router(name="my_pairs")
    r.message.register(on_my_pairs, Command("mypairs"))
    r.message.register(on_my_mentor, Command("mymentor"))
    return r
