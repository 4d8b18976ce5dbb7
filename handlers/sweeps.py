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

A run reads everything in a handful of queries per `SWEEP_CHUNK` programmes (never per pair): the programmes
with their organisations, settings and coordinators, the active pairs, their meetings, the mentors, which of
the dedupe keys the pairs' states call for are already queued, and the readers' languages; a pair's state is
the pure `state_of`, and only the messages not queued yet are composed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb
from bot.clock import Clock
from bot.i18n import current_locale
from bot.labels import step_label
from dialogs.meeting_plan import Done, MeetingSettings, due_by, in_holidays, next_step, out_of_quiet_hours
from handlers.meeting_notices import LOG_PROMPT, log_buttons, when_text
from handlers.notices import queued_in_language, with_users_read
from storage.models import Meeting, MeetingStatus, Pair, Participant, Programme
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


def state_of(
    settings: MeetingSettings, programme: Programme, pair: Pair, meetings: Sequence[Meeting], now: datetime
) -> PairState:
    """The pair's next step, its scheduled meeting, when the step is due and since when it is quiet, from
    the pair's meetings, oldest first (only their step, start, length and status are read)."""
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


SWEEP_CHUNK = 50  # programmes whose pairs, meetings and mentors are read at once (bounds the memory taken)


@dataclass(frozen=True)
class _Context:
    """What a programme's sweep needs about it."""

    programme: Programme
    timezone: str
    settings: MeetingSettings
    coordinators: tuple[int, ...]
    now: datetime
    send_at: datetime  # now, or the end of the quiet hours
    in_holidays: bool  # the local day of `send_at` is inside the programme's holidays


@dataclass(frozen=True)
class _Out:
    """A message to compose (in its reader's language) and queue, and what it counts as."""

    purpose: str  # the `SweepResult` field it counts in
    user_id: int
    kind: str
    ref: int
    dedupe: str
    text: Callable[[], str]
    markup: Callable[[], InlineKeyboardMarkup]


async def sweep(repos: Repositories, i18n: I18n, clock: Clock) -> SweepResult:
    """One look at every active pair of every programme in progress; what it queued. Everything is read in
    a handful of queries per `SWEEP_CHUNK` programmes, whatever the number of pairs; messages whose dedupe key
    is already in the outbox are not composed again."""
    result = SweepResult()
    now = clock.now()
    ids = await repos.meetings.programmes_with_active_pairs()
    for start in range(0, len(ids), SWEEP_CHUNK):
        chunk = ids[start:start + SWEEP_CHUNK]
        try:
            await _sweep_chunk(repos, i18n, chunk, now, result)
        except Exception:  # a read failed (reads come before any write): each programme of the chunk alone
            logger.exception("sweep: programmes %s failed together; sweeping them one by one", chunk)
            for programme_id in chunk:
                try:
                    await _sweep_chunk(repos, i18n, [programme_id], now, result)
                except Exception:
                    logger.exception("sweep: programme %s failed", programme_id)
                    if programme_id not in result.failed_programmes:
                        result.failed_programmes.append(programme_id)
    if result.queued:
        logger.info("sweep queued %s messages: %s", result.queued, result)
    return result


async def _contexts(
    repos: Repositories, programme_ids: Sequence[int], now: datetime, result: SweepResult
) -> list[_Context]:
    """The programmes in progress (the organisation's local date between their dates), in order."""
    programmes = await repos.digests.programmes(programme_ids)
    orgs = await repos.digests.organisations(sorted({p.organisation_id for p in programmes.values()}))
    current: list[tuple[Programme, str]] = []
    for programme_id in programme_ids:
        programme = programmes.get(programme_id)
        org = orgs.get(programme.organisation_id) if programme else None
        if programme is None or org is None:
            continue
        try:
            if programme.start_date <= now.astimezone(ZoneInfo(org.timezone)).date() <= programme.end_date:
                current.append((programme, org.timezone))
        except Exception:  # one broken programme must not stop the others
            logger.exception("sweep: programme %s failed", programme_id)
            result.failed_programmes.append(programme_id)
    settings = await repos.meetings.settings_of([p.id for p, _tz in current])
    coordinators = await repos.digests.coordinators_of(sorted({p.organisation_id for p, _tz in current}))
    contexts = []
    for programme, timezone in current:
        try:
            send_at = out_of_quiet_hours(now, settings[programme.id], timezone)
            contexts.append(_Context(
                programme, timezone, settings[programme.id],
                tuple(coordinators.get(programme.organisation_id, ())), now, send_at,
                in_holidays(send_at.astimezone(ZoneInfo(timezone)).date(), settings[programme.id].holidays),
            ))
        except Exception:
            logger.exception("sweep: programme %s failed", programme.id)
            result.failed_programmes.append(programme.id)
    return contexts


async def _sweep_chunk(
    repos: Repositories, i18n: I18n, programme_ids: Sequence[int], now: datetime, result: SweepResult
) -> None:
    contexts = await _contexts(repos, programme_ids, now, result)
    ids = [ctx.programme.id for ctx in contexts]
    pairs = sorted(await repos.digests.active_pairs(ids), key=lambda p: (p.mentor_id, p.id))  # as `active`
    meetings = await repos.meetings.of_active_pairs(ids)
    mentors = await repos.participants.many(pair.mentor_id for pair in pairs)
    by_programme: dict[int, list[Pair]] = {pid: [] for pid in ids}
    for pair in pairs:
        by_programme[pair.programme_id].append(pair)
    states: dict[int, list[tuple[PairState, Participant]]] = {}
    for ctx in contexts:
        try:
            states[ctx.programme.id] = [
                (state_of(ctx.settings, ctx.programme, pair, cast(list[Meeting], meetings.get(pair.id, [])),
                          now), mentors[pair.mentor_id])
                for pair in by_programme[ctx.programme.id] if pair.mentor_id in mentors
            ]
        except Exception:
            logger.exception("sweep: programme %s failed", ctx.programme.id)
            result.failed_programmes.append(ctx.programme.id)
    contexts = [ctx for ctx in contexts if ctx.programme.id in states]
    queued = await repos.meetings.queued_at_many(
        [key for ctx in contexts for state, _mentor in states[ctx.programme.id] for key in _keys(ctx, state)])
    plans: list[tuple[_Context, list[_Out]]] = []
    for ctx in contexts:
        try:
            plans.append((ctx, [out for state, mentor in states[ctx.programme.id]
                                for out in _plan(ctx, state, mentor, queued)]))
        except Exception:
            logger.exception("sweep: programme %s failed", ctx.programme.id)
            result.failed_programmes.append(ctx.programme.id)
    readers = sorted({out.user_id for _ctx, outs in plans for out in outs})
    known = with_users_read(repos, await repos.digests.users(readers))
    for ctx, outs in plans:
        if not outs:
            continue
        try:
            await _write(repos, i18n, known, ctx, outs, result)
        except Exception:
            logger.exception("sweep: programme %s failed", ctx.programme.id)
            result.failed_programmes.append(ctx.programme.id)


async def _write(
    repos: Repositories, i18n: I18n, known: Repositories, ctx: _Context, outs: list[_Out], result: SweepResult
) -> None:
    """Compose a programme's messages, each in its reader's language, and queue them in one transaction."""
    messages = [
        (out.purpose, replace(await queued_in_language(
            known, i18n, out.user_id, out.text, kind=out.kind, ref=out.ref, dedupe=out.dedupe,
            markup=out.markup), not_before=ctx.send_at))
        for out in outs
    ]
    counts: dict[str, int] = {}
    async with repos.db.transaction() as conn:
        for purpose, message in messages:
            counts[purpose] = counts.get(purpose, 0) + await repos.outbox.enqueue([message], conn)
    for purpose, n in counts.items():
        setattr(result, purpose, getattr(result, purpose) + n)


# --- what a pair's state asks for: dedupe keys, then the messages not queued yet ---------------------------


def _late_key(state: PairState) -> str:
    return f"late:{state.pair.id}:{state.logged}:{state.step}"


def _log_key(meeting: Meeting) -> str:
    return f"late-log:{meeting.id}:v{meeting.version}"


def _inactive_key(state: PairState, periods: int) -> str:
    return f"inactive:{state.pair.id}:{ts(state.quiet_since)}:{periods}"


def _to_coordinator(key: str, user_id: int) -> str:
    return f"{key}:c{user_id}"


def _is_late(ctx: _Context, state: PairState) -> bool:
    return not ctx.in_holidays and state.late_to_schedule(ctx.now) and state.step is not None


def _keys(ctx: _Context, state: PairState) -> list[str]:
    """Every dedupe key the pair's messages could have now: the nudges and what follows them."""
    keys = []
    if _is_late(ctx, state):
        keys.append(_late_key(state))
        keys += [_to_coordinator(_late_key(state), c) for c in ctx.coordinators]
    periods = state.inactive_periods(ctx.now, ctx.settings)
    if not ctx.in_holidays and periods >= 1:
        keys += [_to_coordinator(_inactive_key(state, periods), c) for c in ctx.coordinators]
    meeting = state.unlogged(ctx.now)
    if meeting is not None:
        keys.append(_log_key(meeting))
        keys += [_to_coordinator(_log_key(meeting), c) for c in ctx.coordinators]
    return keys


def _plan(ctx: _Context, state: PairState, mentor: Participant, queued: dict[str, datetime]) -> list[_Out]:
    """The pair's messages due now and not queued yet (`queued`: dedupe key → when it was due to go)."""
    outs = []
    if not ctx.in_holidays:
        outs += _late_to_schedule(ctx, state, mentor, queued)
        outs += _inactive(ctx, state, mentor, queued)
    return outs + _not_logged(ctx, state, mentor, queued)


def _open_pair_markup(pair_id: int) -> InlineKeyboardMarkup:
    cb = MeetingCb(action="adm_pair", pair=pair_id)
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Open the pair"), callback_data=cb.pack())]])


def _to_coordinators(
    ctx: _Context, purpose: str, key: str, text: Callable[[], str], pair_id: int, queued: dict[str, datetime]
) -> list[_Out]:
    return [
        _Out(purpose, user_id, LATE_KIND, pair_id, _to_coordinator(key, user_id), text,
             lambda: _open_pair_markup(pair_id))
        for user_id in ctx.coordinators if _to_coordinator(key, user_id) not in queued
    ]


def _late_to_schedule(
    ctx: _Context, state: PairState, mentor: Participant, queued: dict[str, datetime]
) -> list[_Out]:
    if not state.late_to_schedule(ctx.now) or state.step is None:
        return []
    step, pair, programme = state.step, state.pair, ctx.programme
    key = _late_key(state)
    nudged = queued.get(key)
    if nudged is None:
        def markup() -> InlineKeyboardMarkup:
            cb = MeetingCb(action="schedule", pair=pair.id)
            return InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=_("Schedule"), callback_data=cb.pack())]])

        return [_Out(
            "schedule_nudges", mentor.user_id, LATE_KIND, pair.id, key,
            lambda: _("It is time to schedule the {step} of «{programme}». Please choose a day and a time.")
            .format(step=step_label(step), programme=programme.title),
            markup,
        )]
    if ctx.now >= nudged + ESCALATE_SCHEDULE_AFTER:
        def text() -> str:
            return _("«{programme}»: {mentor} has not scheduled the {step} of their pair; it was due by "
                     "{due}.").format(programme=programme.title, mentor=mentor.full_name,
                                      step=step_label(step), due=_when(state.due, ctx))

        return _to_coordinators(ctx, "schedule_escalations", key, text, pair.id, queued)
    return []


def _not_logged(
    ctx: _Context, state: PairState, mentor: Participant, queued: dict[str, datetime]
) -> list[_Out]:
    meeting = state.unlogged(ctx.now)
    if meeting is None:
        return []
    programme = ctx.programme
    key = _log_key(meeting)
    nudged = queued.get(key)
    if nudged is None:
        return [_Out(
            "log_nudges", mentor.user_id, LOG_PROMPT, meeting.id, key,
            lambda: _("The {step} of «{programme}» ({when}) is not logged yet. How did it go?").format(
                step=step_label(meeting.step), programme=programme.title, when=_when(meeting.starts_at, ctx)),
            lambda: log_buttons(meeting),
        )]
    end = meeting.starts_at + timedelta(minutes=meeting.minutes)
    if ctx.now >= max(end + ESCALATE_LOG_AFTER, nudged + ESCALATE_LOG_AFTER - NUDGE_LOG_AFTER):
        def text() -> str:
            return _("«{programme}»: {mentor} has not logged the {step} of {when}.").format(
                programme=programme.title, mentor=mentor.full_name, step=step_label(meeting.step),
                when=_when(meeting.starts_at, ctx))

        return _to_coordinators(ctx, "log_escalations", key, text, state.pair.id, queued)
    return []


def _inactive(
    ctx: _Context, state: PairState, mentor: Participant, queued: dict[str, datetime]
) -> list[_Out]:
    periods = state.inactive_periods(ctx.now, ctx.settings)
    if periods < 1:
        return []
    days = (ctx.now - state.quiet_since).days
    programme = ctx.programme

    def text() -> str:
        return ngettext(
            "«{programme}»: the pair of {mentor} has had no held meeting for {days} day.",
            "«{programme}»: the pair of {mentor} has had no held meeting for {days} days.", days,
        ).format(programme=programme.title, mentor=mentor.full_name, days=days)

    key = _inactive_key(state, periods)
    return _to_coordinators(ctx, "inactivity_flags", key, text, state.pair.id, queued)


def _when(moment: datetime | None, ctx: _Context) -> str:
    """A moment in the organisation's time zone, in the language being written in."""
    if moment is None:
        return ""
    return when_text(moment, ctx.timezone, current_locale())
