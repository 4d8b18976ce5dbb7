"""What a coordinator's digest says: figures per programme of the organisations they manage, what changed
since their last digest (from its stored snapshot) and what is stuck, as a text with buttons.

`run_digests(repos, i18n, clock)` is the background job: every coordinator whose local hour (and weekday,
for a weekly digest) is reached and whose digest for that day is not made yet gets it queued once, with the
dedupe key `digest:{user}:{local date}`; the snapshot and the message are written in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from babel.dates import format_date

from bot.callbacks import BasesCb, DigestCb, ProgrammeCb
from bot.clock import Clock
from handlers.notices import queued_in_language
from handlers.sweeps import pair_state
from storage.models import Meeting, Organisation, Programme, Role
from storage.repos import Repositories
from storage.repos.digests import Counts, DigestCoordinator, DigestSetting

logger = logging.getLogger(__name__)

DIGEST_KIND = "digest"
COMING_DAYS = 7
CHANGES = ("participants", "submitted", "held")  # totals whose growth since the last digest is reported
STUCK = ("parent_pending", "not_submitted", "without_pair", "overdue", "repair", "surveys")
ORDER = ("participants", "submitted", "held", "parent_pending", "not_submitted", "without_pair", "overdue",
         "repair", "surveys", "coming")
MESSAGE_LIMIT = 4096
BUTTON_PROGRAMMES = 20  # programmes that get buttons (a keyboard holds at most 100)


@dataclass(frozen=True)
class Block:
    """One programme's figures in a digest: growth for CHANGES, current values for the rest."""

    programme: Programme
    figures: dict[str, int]


@dataclass(frozen=True)
class Digest:
    """A coordinator's digest for a period: blocks by organisation, and the raw counts to store."""

    period: str
    day: date
    schools: list[tuple[Organisation, list[Block]]]
    counts: Counts

    @property
    def blocks(self) -> list[Block]:
        return [block for _org, blocks in self.schools for block in blocks]

    @property
    def worth_sending(self) -> bool:
        """Something changed or something is stuck."""
        return any(block.figures.get(k) for block in self.blocks for k in CHANGES + STUCK)


def due_period(setting: DigestSetting, timezone: str, now: datetime) -> date | None:
    """The local day whose digest is due now (None: off, before the hour, or not the weekday)."""
    local = now.astimezone(ZoneInfo(timezone))
    if setting.frequency == "off" or local.hour < setting.hour:
        return None
    if setting.frequency == "weekly" and local.weekday() != setting.weekday:
        return None
    return local.date()


class _PairMeetings:
    """Stands in for `repos.meetings` in `pair_state`, with every pair's meetings read at once."""

    def __init__(self, by_pair: dict[int, list[Meeting]]) -> None:
        self.by_pair = by_pair

    async def of_pair(self, pair_id: int) -> list[Meeting]:
        return self.by_pair.get(pair_id, [])


class _Prefetched:
    def __init__(self, by_pair: dict[int, list[Meeting]]) -> None:
        self.meetings = _PairMeetings(by_pair)


async def _overdue(repos: Repositories, programmes: Sequence[Programme], now: datetime,
                   zones: dict[int, str]) -> dict[int, int]:
    """Pairs late to schedule or with a meeting not logged, per programme in progress."""
    in_progress = {
        p.id: p for p in programmes
        if p.start_date <= now.astimezone(ZoneInfo(zones[p.organisation_id])).date() <= p.end_date
    }
    pairs = await repos.digests.active_pairs(list(in_progress))
    if not pairs:
        return {}
    shim = cast(Repositories, _Prefetched(await repos.digests.meetings_of_pairs(list(in_progress))))
    settings = {pid: await repos.meetings.settings(pid) for pid in {pair.programme_id for pair in pairs}}
    result: dict[int, int] = {}
    for pair in pairs:
        programme = in_progress[pair.programme_id]
        state = await pair_state(shim, settings[programme.id], programme, pair, now)
        if state.late_to_schedule(now) or state.unlogged(now) is not None:
            result[programme.id] = result.get(programme.id, 0) + 1
    return result


async def build(repos: Repositories, user_id: int, timezone: str, day: date, now: datetime) -> Digest:
    """The coordinator's digest for a day: programmes not ended of every organisation they manage."""
    orgs = await repos.organisations.managed_by(user_id)
    zones = {org.id: org.timezone for org in orgs}
    by_org: list[tuple[Organisation, list[Programme]]] = []
    for org in orgs:
        today = now.astimezone(ZoneInfo(org.timezone)).date()
        current = [p for p in await repos.programmes.of_organisation(org.id) if p.end_date >= today]
        if current:
            by_org.append((org, current))
    programmes = [p for _org, ps in by_org for p in ps]
    counts = await repos.digests.counts([p.id for p in programmes], now, now + timedelta(days=COMING_DAYS))
    for pid, overdue in (await _overdue(repos, programmes, now, zones)).items():
        counts[pid]["overdue"] = overdue
    for pid, _who in await repos.surveys.pending([p.id for p in programmes], now):  # surveys not answered
        counts[pid]["surveys"] = counts[pid].get("surveys", 0) + 1
    last = await repos.digests.last(user_id)
    before = last.counts if last else {}
    schools = []
    for org, ps in by_org:
        blocks = [Block(p, _figures(counts[p.id], before.get(p.id, {}))) for p in ps]
        blocks = [b for b in blocks if any(b.figures.values())]
        if blocks:
            schools.append((org, blocks))
    return Digest(day.isoformat(), day, schools, counts)


def _figures(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    figures = {k: v for k, v in now.items() if k not in CHANGES}
    for key in CHANGES:
        figures[key] = max(0, now.get(key, 0) - before.get(key, 0))
    return {k: v for k, v in figures.items() if v}


def _line(key: str, n: int) -> str:
    texts = {
        "participants": ngettext("{n} new participant", "{n} new participants", n),
        "submitted": ngettext("{n} questionnaire submitted", "{n} questionnaires submitted", n),
        "held": ngettext("{n} meeting held", "{n} meetings held", n),
        "parent_pending": ngettext("{n} parent's consent pending", "{n} parents' consents pending", n),
        "not_submitted": ngettext("{n} person has not submitted the questionnaire",
                                  "{n} people have not submitted the questionnaire", n),
        "without_pair": ngettext("{n} mentee without a pair", "{n} mentees without a pair", n),
        "overdue": ngettext("{n} pair with a meeting overdue (not scheduled or not logged)",
                            "{n} pairs with meetings overdue (not scheduled or not logged)", n),
        "repair": ngettext("{n} re-pair request", "{n} re-pair requests", n),
        "surveys": ngettext("{n} survey not answered yet", "{n} surveys not answered yet", n),
        "coming": ngettext("{n} meeting in the next 7 days", "{n} meetings in the next 7 days", n),
    }
    return "• " + texts[key].format(n=n)


def _lines(figures: dict[str, int]) -> list[str]:
    return [_line(key, figures[key]) for key in ORDER if figures.get(key)]


def digest_text(digest: Digest) -> str:
    """The digest in the current language: a block per programme; by school with totals for several."""
    day = format_date(digest.day, format="long", locale=get_i18n().current_locale)
    parts = [_("Digest for {date}: what changed since the last one and what is stuck.").format(date=day)]
    several = len(digest.schools) > 1
    number = 0
    for org, blocks in digest.schools:
        if several:
            parts.append("🏫 " + org.name)
        for block in blocks:
            number += 1
            title = f"{number}. «{block.programme.title}»"
            parts.append("\n".join([title, *_lines(block.figures)]))
    if several:
        totals: dict[str, int] = {}
        for block in digest.blocks:
            for key, n in block.figures.items():
                totals[key] = totals.get(key, 0) + n
        parts.append("\n".join([_("Totals of all schools:"), *_lines(totals)]))
    text = "\n\n".join(parts)
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"


def digest_markup(digest: Digest) -> InlineKeyboardMarkup | None:
    """A row of next actions per numbered programme: remind, open the list, meetings, export."""
    rows = []
    for number, block in enumerate(digest.blocks[:BUTTON_PROGRAMMES], start=1):
        pid, f = block.programme.id, block.figures
        row = []
        if f.get("not_submitted"):
            row.append(_button(_("{n} · Remind").format(n=number),
                               DigestCb(action="remind", programme=pid, value=digest.period).pack()))
        if f.get("surveys"):
            row.append(_button(_("{n} · Remind of surveys").format(n=number),
                               DigestCb(action="survey_remind", programme=pid, value=digest.period).pack()))
        state = next((s for s in ("parent_pending", "without_pair") if f.get(s)), "")
        row.append(_button(_("{n} · List").format(n=number),
                           BasesCb(action="l", programme=pid, role=Role.MENTEE, state=state).pack()))
        if f.get("overdue") or f.get("repair"):
            row.append(_button(_("{n} · Meetings").format(n=number),
                               ProgrammeCb(action="meetings", programme=pid).pack()))
        row.append(_button(_("{n} · Export").format(n=number),
                           DigestCb(action="export", programme=pid).pack()))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


async def make_digest(repos: Repositories, i18n: I18n, who: DigestCoordinator, now: datetime) -> bool:
    """Build, store and queue one coordinator's digest if due and not made; whether a message was queued."""
    day = due_period(who.setting, who.timezone, now)
    if day is None or await repos.digests.done(who.user_id, day.isoformat()):
        return False
    digest = await build(repos, who.user_id, who.timezone, day, now)
    message = None
    if digest.worth_sending:
        message = await queued_in_language(
            repos, i18n, who.user_id, lambda: digest_text(digest), kind=DIGEST_KIND,
            dedupe=f"digest:{who.user_id}:{digest.period}", markup=lambda: digest_markup(digest),
        )
    made = await repos.digests.record(who.user_id, digest.period, digest.counts, message)
    return made is not None and message is not None


async def run_digests(repos: Repositories, i18n: I18n, clock: Clock) -> int:
    """Queue every digest that is due; how many messages were queued."""
    now = clock.now()
    queued = 0
    for who in await repos.digests.coordinators():
        try:
            queued += await make_digest(repos, i18n, who, now)
        except Exception:  # one coordinator's failure must not stop the others
            logger.exception("digest for %s failed", who.user_id)
    if queued:
        logger.info("queued %s digests", queued)
    return queued
