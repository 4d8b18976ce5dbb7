"""Late and stuck: a periodic look at every active pair that nudges mentors and tells coordinators.

`sweep(repos, i18n, clock)` runs every few minutes from the scheduler (`bot.app.create_scheduler`). For each
active pair of a programme in progress (the organisation's local date between its start and end dates):

- the next step not scheduled by its due date → the mentor is reminded once (with a «Schedule» button);
  still not scheduled two days after that reminder → the programme's coordinators are told once;
- a scheduled meeting not logged a day after its end → the mentor is asked once more (with the log
  buttons); not logged two days after its end → the coordinators are told once;
- no held meeting (or none since approval) for the programme's inactivity limit → the coordinators are
  told once per such period.

Everything goes to the outbox with a dedupe key naming the purpose, the pair or meeting and the person, so
running the sweep again, or after a restart, queues nothing twice. Nothing is due in quiet hours (the
message waits for their end) and nothing about a due step or inactivity while the organisation's day is
inside the programme's holidays (it waits until they end).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.callbacks import MeetingCb
from bot.clock import Clock
from bot.labels import step_label
from dialogs.meeting_plan import Done, MeetingSettings, due_by, in_holidays, next_step, out_of_quiet_hours
from handlers.meeting_notices import LOG_PROMPT, log_buttons, when_text
from handlers.notices import queued_in_language
from storage.models import Meeting, MeetingStatus, OutboxMessage, Pair, Participant, Programme
from storage.repos import Repositories
from storage.repos._convert import ts
from storage.repos.meetings import LATE_KIND

logger = logging.getLogger(__name__)

# LATE_KIND: the outbox kind of the sweep's messages (the mentor's log nudge is a LOG_PROMPT).
ESCALATE_SCHEDULE_AFTER = timedelta(days=2)  # after the mentor's reminder
NUDGE_LOG_AFTER = timedelta(days=1)  # after the meeting's end
ESCALATE_LOG_AFTER = timedelta(days=2)  # after the meeting's end
LOGGED = (MeetingStatus.HELD, MeetingStatus.NOT_HELD)


@dataclass
class SweepResult:
    """How many messages one sweep queued, by purpose."""

    schedule_nudges: int = 0
    schedule_escalations: int = 0
    log_nudges: int = 0
    log_escalations: int = 0
    inactivity_flags: int = 0
    failed_programmes: list[int] = field(default_factory=list)

    @property
    def queued(self) -> int:
        """All messages queued."""
        return (self.schedule_nudges + self.schedule_escalations + self.log_nudges + self.log_escalations
                + self.inactivity_flags)


@dataclass(frozen=True)
class PairState:
    """Where a pair stands in its sequence at a moment (shared by the sweep and the coordinator's screen)."""

    pair: Pair
    step: str | None  # the next step; None once the final meeting was held
    scheduled: Meeting | None  # its scheduled meeting, if any
    due: datetime | None  # when the next step should have been scheduled by (None if scheduled or done)
    logged: int  # how many meetings were logged: tells repeated regular steps apart
    quiet_since: datetime  # the last held meeting's start, or the approval

    def late_to_schedule(self, now: datetime) -> bool:
        """The next step is due and not scheduled in time."""
        return self.due is not None and now >= self.due

    def unlogged(self, now: datetime) -> Meeting | None:
        """The scheduled meeting, if it ended more than a day ago and is not logged."""
        m = self.scheduled
        if m is not None and now >= m.starts_at + timedelta(minutes=m.minutes) + NUDGE_LOG_AFTER:
            return m
        return None

    def inactive_periods(self, now: datetime, settings: MeetingSettings) -> int:
        """Whole inactivity limits passed without a held meeting (0 when active; always 0 once done)."""
        if self.step is None:
            return 0
        return (now - self.quiet_since) // timedelta(days=settings.inactivity_days)


async def pair_state(
    repos: Repositories, settings: MeetingSettings, programme: Programme, pair: Pair, now: datetime
) -> PairState:
    """The pair's next step, its scheduled meeting, when the step is due and since when it is quiet."""
    return state_of(settings, programme, pair, await repos.meetings.of_pair(pair.id), now)


def state_of(
    settings: MeetingSettings, programme: Programme, pair: Pair, meetings: Sequence[Meeting], now: datetime
) -> PairState:
    """`pair_state` from the pair's meetings, oldest first (only their step, start, length and status are
    read)."""
    logged = [m for m in meetings if m.status in LOGGED]
    done = [Done(m.step, m.status is MeetingStatus.HELD, m.starts_at) for m in logged]
    step = next_step(settings, done, programme.end_date)
    scheduled = next((m for m in meetings if m.status is MeetingStatus.SCHEDULED), None)
    held = [d.starts_at for d in done if d.held]
    quiet_since = max([pair.approved_at, *held])
    due = None
    if step is not None and scheduled is None:
        if step == "regular" and held:
            due = due_by(settings, step, max(held), now)
        else:
            # A step becomes due at approval or when the meeting before it ended.
            ends = [m.starts_at + timedelta(minutes=m.minutes) for m in logged]
            became_due = max([pair.approved_at, *ends])
            due = due_by(settings, step, became_due, now)
    return PairState(pair, step, scheduled, due, len(logged), quiet_since)


@dataclass(frozen=True)
class _Context:
    """What a programme's sweep needs about it."""

    repos: Repositories
    i18n: I18n
    programme: Programme
    timezone: str
    settings: MeetingSettings
    coordinators: tuple[int, ...]
    now: datetime
    send_at: datetime  # now, or the end of the quiet hours
    in_holidays: bool  # the local day of `send_at` is inside the programme's holidays


async def sweep(repos: Repositories, i18n: I18n, clock: Clock) -> SweepResult:
    """One look at every active pair of every programme in progress; what it queued."""
    result = SweepResult()
    now = clock.now()
    for programme_id in await repos.meetings.programmes_with_active_pairs():
        try:
            await _sweep_programme(repos, i18n, programme_id, now, result)
        except Exception:  # one broken programme must not stop the others
            logger.exception("sweep: programme %s failed", programme_id)
            result.failed_programmes.append(programme_id)
    if result.queued:
        logger.info("sweep queued %s messages: %s", result.queued, result)
    return result


async def _sweep_programme(
    repos: Repositories, i18n: I18n, programme_id: int, now: datetime, result: SweepResult
) -> None:
    programme = await repos.programmes.get(programme_id)
    org = await repos.organisations.get(programme.organisation_id) if programme else None
    if programme is None or org is None:
        return
    zone = ZoneInfo(org.timezone)
    if not programme.start_date <= now.astimezone(zone).date() <= programme.end_date:
        return
    settings = await repos.meetings.settings(programme.id)
    send_at = out_of_quiet_hours(now, settings, org.timezone)
    ctx = _Context(
        repos, i18n, programme, org.timezone, settings,
        tuple(c.user_id for c in await repos.organisations.coordinators(org.id)), now, send_at,
        in_holidays(send_at.astimezone(zone).date(), settings.holidays),
    )
    for pair in await repos.pairs.active(programme.id):
        mentor = await repos.participants.get(pair.mentor_id)
        if mentor is None:
            continue
        state = await pair_state(repos, settings, programme, pair, now)
        if not ctx.in_holidays:
            await _late_to_schedule(ctx, state, mentor, result)
            await _inactive(ctx, state, mentor, result)
        await _not_logged(ctx, state, mentor, result)


async def _queue(ctx: _Context, messages: list[OutboxMessage]) -> int:
    return await ctx.repos.outbox.enqueue([replace(m, not_before=ctx.send_at) for m in messages])


def _open_pair_markup(pair_id: int) -> InlineKeyboardMarkup:
    cb = MeetingCb(action="adm_pair", pair=pair_id)
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Open the pair"), callback_data=cb.pack())]])


async def _to_coordinators(
    ctx: _Context, key: str, text: Callable[[], str], pair_id: int
) -> list[OutboxMessage]:
    return [
        await queued_in_language(ctx.repos, ctx.i18n, user_id, text, kind=LATE_KIND,
                                 ref=pair_id, dedupe=f"{key}:c{user_id}",
                                 markup=lambda: _open_pair_markup(pair_id))
        for user_id in ctx.coordinators
    ]


async def _late_to_schedule(
    ctx: _Context, state: PairState, mentor: Participant, result: SweepResult
) -> None:
    if not state.late_to_schedule(ctx.now) or state.step is None:
        return
    step, pair, programme = state.step, state.pair, ctx.programme
    key = f"late:{pair.id}:{state.logged}:{step}"
    nudged = await ctx.repos.meetings.queued_at(key)
    if nudged is None:
        def markup() -> InlineKeyboardMarkup:
            cb = MeetingCb(action="schedule", pair=pair.id)
            return InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=_("Schedule"), callback_data=cb.pack())]])

        message = await queued_in_language(
            ctx.repos, ctx.i18n, mentor.user_id,
            lambda: _("It is time to schedule the {step} of «{programme}». Please choose a day and a time.")
            .format(step=step_label(step), programme=programme.title),
            kind=LATE_KIND, ref=pair.id, dedupe=key, markup=markup,
        )
        result.schedule_nudges += await _queue(ctx, [message])
    elif ctx.now >= nudged + ESCALATE_SCHEDULE_AFTER:
        def text() -> str:
            return _("«{programme}»: {mentor} has not scheduled the {step} of their pair; it was due by "
                     "{due}.").format(programme=programme.title, mentor=mentor.full_name,
                                      step=step_label(step), due=_when(state.due, ctx))

        result.schedule_escalations += await _queue(ctx, await _to_coordinators(ctx, key, text, pair.id))


async def _not_logged(ctx: _Context, state: PairState, mentor: Participant, result: SweepResult) -> None:
    meeting = state.unlogged(ctx.now)
    if meeting is None:
        return
    programme = ctx.programme
    key = f"late-log:{meeting.id}:v{meeting.version}"
    nudged = await ctx.repos.meetings.queued_at(key)
    if nudged is None:
        message = await queued_in_language(
            ctx.repos, ctx.i18n, mentor.user_id,
            lambda: _("The {step} of «{programme}» ({when}) is not logged yet. How did it go?").format(
                step=step_label(meeting.step), programme=programme.title, when=_when(meeting.starts_at, ctx)),
            kind=LOG_PROMPT, ref=meeting.id, dedupe=key, markup=lambda: log_buttons(meeting),
        )
        result.log_nudges += await _queue(ctx, [message])
        return
    end = meeting.starts_at + timedelta(minutes=meeting.minutes)
    if ctx.now >= max(end + ESCALATE_LOG_AFTER, nudged + ESCALATE_LOG_AFTER - NUDGE_LOG_AFTER):
        def text() -> str:
            return _("«{programme}»: {mentor} has not logged the {step} of {when}.").format(
                programme=programme.title, mentor=mentor.full_name, step=step_label(meeting.step),
                when=_when(meeting.starts_at, ctx))

        result.log_escalations += await _queue(ctx, await _to_coordinators(ctx, key, text, state.pair.id))


async def _inactive(ctx: _Context, state: PairState, mentor: Participant, result: SweepResult) -> None:
    periods = state.inactive_periods(ctx.now, ctx.settings)
    if periods < 1:
        return
    days = (ctx.now - state.quiet_since).days
    programme = ctx.programme

    def text() -> str:
        return ngettext(
            "«{programme}»: the pair of {mentor} has had no held meeting for {days} day.",
            "«{programme}»: the pair of {mentor} has had no held meeting for {days} days.", days,
        ).format(programme=programme.title, mentor=mentor.full_name, days=days)

    key = f"inactive:{state.pair.id}:{ts(state.quiet_since)}:{periods}"
    result.inactivity_flags += await _queue(ctx, await _to_coordinators(ctx, key, text, state.pair.id))


def _when(moment: datetime | None, ctx: _Context) -> str:
    """A moment in the organisation's time zone, in the language being written in."""
    if moment is None:
        return ""
    return when_text(moment, ctx.timezone, get_i18n().current_locale)
