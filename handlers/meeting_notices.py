"""What a meeting sends, composed for the outbox in each recipient's language: the notice with an .ics file,
the reminders before it (never in quiet hours), the prompt to log it, and the word that it was cancelled.

`compose_*` functions return the messages; `MeetingRepo` writes them in the transaction that changes the
meeting, so the meeting and its reminders never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime
from icalendar import Calendar, Event

from bot.callbacks import MeetingCb
from bot.clock import Clock
from bot.i18n import current_locale
from bot.labels import step_label
from dialogs.meeting_plan import MeetingSettings, log_prompt_time, reminder_times
from handlers.notices import language_of, queued_in_language
from storage.models import Meeting, MeetingStatus, OutboxMessage, Participant, Programme
from storage.repos import Repositories

NOTICE, REMINDER, LOG_PROMPT = "meeting", "reminder", "log_prompt"


@dataclass(frozen=True)
class Audience:
    """Who a meeting concerns: the mentor(s) who lead it, the mentees, the parents to tell (Telegram ids)."""

    programme: Programme
    timezone: str
    settings: MeetingSettings
    mentors: tuple[Participant, ...]
    mentees: tuple[Participant, ...]
    parents: tuple[int, ...]


async def audience(repos: Repositories, meeting: Meeting) -> Audience:
    """The people of a pair's meeting, or of every active pair of the programme for the group final."""
    programme = await repos.programmes.get(meeting.programme_id)
    assert programme is not None
    org = await repos.organisations.get(programme.organisation_id)
    settings = await repos.meetings.settings(programme.id)
    if meeting.pair_id is not None:
        pair = await repos.pairs.get(meeting.pair_id)
        pairs = [pair] if pair is not None else []
    else:
        pairs = await repos.pairs.active(programme.id)
    mentors, mentees, parents = [], [], []
    for pair in pairs:
        if (mentor := await repos.participants.get(pair.mentor_id)) is not None:
            mentors.append(mentor)
        for mentee_id in pair.mentee_ids:
            if (mentee := await repos.participants.get(mentee_id)) is None:
                continue
            mentees.append(mentee)
            if settings.notify_parents and mentee.is_minor:
                parents += [g for g in await repos.participants.guardians(mentee.id) if g not in parents]
    return Audience(programme, org.timezone if org else "Europe/Moscow", settings, tuple(mentors),
                    tuple(mentees), tuple(parents))


def when_text(moment: datetime, timezone: str, locale: str) -> str:
    """«Monday 7 September, 15:30» in the organisation's time zone and the reader's language."""
    return format_datetime(moment, "EEEE d MMMM, HH:mm", tzinfo=ZoneInfo(timezone), locale=locale)


def ics_file(meeting: Meeting, programme: Programme, summary: str) -> bytes:
    """The meeting as an iCalendar event (a moved meeting is a new SEQUENCE of the same UID)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Nastavnik//mentoring meetings//EN")
    calendar.add("version", "2.0")
    cancelled = meeting.status is MeetingStatus.CANCELLED
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@nastavnik")
    event.add("sequence", meeting.version)
    event.add("dtstamp", meeting.starts_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.minutes))
    event.add("summary", summary)
    event.add("location", meeting.place)
    event.add("description", programme.title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()




def _move_button(meeting: Meeting) -> InlineKeyboardMarkup:
    cb = MeetingCb(action="ask_move", meeting=meeting.id, version=meeting.version)
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Ask to move it"), callback_data=cb.pack())]])


async def compose_scheduled(
    repos: Repositories, i18n: I18n, clock: Clock, meeting: Meeting, *, moved: bool = False
) -> list[OutboxMessage]:
    """The notice (with the .ics) to the mentees and parents, the reminders to everyone, the log prompt."""
    people = await audience(repos, meeting)
    tz, programme = people.timezone, people.programme
    out: list[OutboxMessage] = []

    def notice() -> str:
        text = (_("The {step} of «{programme}» is moved: {when}, {place}.") if moved
                else _("The {step} of «{programme}» is scheduled: {when}, {place}."))
        return text.format(step=step_label(meeting.step), programme=programme.title,
                           when=when_text(meeting.starts_at, tz, current_locale()), place=meeting.place)

    told = [m.user_id for m in people.mentees] + list(people.parents)
    if meeting.pair_id is None:
        told = [m.user_id for m in people.mentors] + told  # the coordinator schedules the group final
    for user_id in told:
        message = await queued_in_language(
            repos, i18n, user_id, notice, kind=NOTICE, ref=meeting.id,
            dedupe=f"meeting:{meeting.id}:v{meeting.version}:{user_id}",
            markup=(lambda: _move_button(meeting)) if user_id in {m.user_id for m in people.mentees}
            and meeting.pair_id is not None else None,
        )
        with i18n.context(), i18n.use_locale(await language_of(repos, i18n, user_id)):
            data = ics_file(meeting, programme, step_label(meeting.step) + " — " + programme.title)
        out.append(replace(message, file_name=f"meeting-{meeting.id}.ics", file_data=data))
    out += await _reminders(repos, i18n, clock, meeting, people)
    if meeting.pair_id is not None:
        out += await _log_prompt(repos, i18n, meeting, people)
    return out


async def _reminders(
    repos: Repositories, i18n: I18n, clock: Clock, meeting: Meeting, people: Audience
) -> list[OutboxMessage]:
    tz = people.timezone
    users = [m.user_id for m in (*people.mentors, *people.mentees)] + list(people.parents)
    out = []
    for minutes, at in reminder_times(meeting.starts_at, people.settings, tz, clock.now()):
        for user_id in users:
            def text(minutes: int = minutes) -> str:
                hours = minutes // 60
                soon = (_("in {hours} h").format(hours=hours) if minutes % 60 == 0
                        else _("in {minutes} min").format(minutes=minutes))
                return _("Reminder: the {step} of «{programme}» is {soon}: {when}, {place}.").format(
                    step=step_label(meeting.step), programme=people.programme.title, soon=soon,
                    when=when_text(meeting.starts_at, tz, current_locale()), place=meeting.place)

            message = await queued_in_language(
                repos, i18n, user_id, text, kind=REMINDER, ref=meeting.id,
                dedupe=f"rem:{meeting.id}:v{meeting.version}:{user_id}:{minutes}",
            )
            out.append(replace(message, not_before=at, expires_at=meeting.starts_at))
    return out


def log_buttons(meeting: Meeting) -> InlineKeyboardMarkup:
    """Held / Not held / It was moved, for this version of the meeting (the mentor's log prompt)."""

    def cb(action: str) -> str:
        return MeetingCb(action=action, meeting=meeting.id, version=meeting.version).pack()

    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("Held"), callback_data=cb("log_held")),
         InlineKeyboardButton(text=_("Not held"), callback_data=cb("log_not_held"))],
        [InlineKeyboardButton(text=_("It was moved"), callback_data=cb("move"))],
    ])


async def _log_prompt(
    repos: Repositories, i18n: I18n, meeting: Meeting, people: Audience
) -> list[OutboxMessage]:
    at = log_prompt_time(meeting.starts_at, meeting.minutes, people.settings, people.timezone)
    out = []
    for mentor in people.mentors:
        message = await queued_in_language(
            repos, i18n, mentor.user_id,
            lambda: _("How did the {step} of «{programme}» ({when}) go?").format(
                step=step_label(meeting.step), programme=people.programme.title,
                when=when_text(meeting.starts_at, people.timezone, current_locale())),
            kind=LOG_PROMPT, ref=meeting.id, dedupe=f"log:{meeting.id}:v{meeting.version}",
            markup=lambda: log_buttons(meeting),
        )
        out.append(replace(message, not_before=at))
    return out


async def compose_cancelled(repos: Repositories, i18n: I18n, meeting: Meeting) -> list[OutboxMessage]:
    """The word to the mentees (and parents; for the group final, everyone) that a meeting is cancelled."""
    people = await audience(repos, meeting)
    told = [m.user_id for m in people.mentees] + list(people.parents)
    if meeting.pair_id is None:
        told = [m.user_id for m in people.mentors] + told
    return [
        await queued_in_language(
            repos, i18n, user_id,
            lambda: _("The {step} of «{programme}» on {when} is cancelled.").format(
                step=step_label(meeting.step), programme=people.programme.title,
                when=when_text(meeting.starts_at, people.timezone, current_locale())),
            kind=NOTICE, ref=meeting.id, dedupe=f"meeting-cancelled:{meeting.id}:{user_id}",
        )
        for user_id in told
    ]
