"""What a coordinator's digest says: figures per programme of the organisations they manage, what changed
since their last digest (from its stored snapshot) and what is stuck, as a text with buttons.

`run_digests(repos, i18n, clock)` is the background job: every coordinator whose local hour (and weekday,
for a weekly digest) is reached and whose digest for that day is not made yet gets it queued once, with the
dedupe key `digest:{user}:{local date}`; the snapshot and the message are written in one transaction. Each
programme is counted once per run, however many coordinators see it (see benchmarks/size.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.callbacks import BasesCb, DigestCb, ProgrammeCb, button
from bot.clock import Clock
from bot.i18n import current_locale
from handlers.notices import queued_in_language, with_users_read
from handlers.sweeps import state_of
from storage.models import Meeting, Organisation, OutboxMessage, Programme, Role
from storage.repos import Repositories
from storage.repos.digests import Counts, DigestSetting

logger = logging.getLogger(__name__)

DIGEST_KIND = "digest"
COMING_DAYS = 7
CHANGES = ("participants", "submitted", "held")  # totals whose growth since the last digest is reported
STUCK = ("parent_pending", "not_submitted", "without_pair", "overdue", "repair", "surveys")
ORDER = ("participants", "submitted", "held", "parent_pending", "not_submitted", "without_pair", "overdue",
         "repair", "surveys", "coming")
MESSAGE_LIMIT = 4096
BUTTON_PROGRAMMES = 20  # programmes that get buttons (a keyboard holds at most 100)
RECORD_CHUNK = 100  # digests written per transaction
OVERDUE_CHUNK = 50  # programmes whose pairs' meetings are read at once
CACHED = 8192  # figure lines and buttons' callback data kept (each computed once for many digests)


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


async def _overdue(repos: Repositories, programmes: Sequence[Programme], now: datetime,
                   zones: dict[int, str]) -> dict[int, int]:
    """Pairs late to schedule or with a meeting not logged, per programme in progress (the state
    `handlers.sweeps.state_of` gives them from the meetings that decide it; a pair whose next meeting has not
    started yet is not read). Read a few dozen programmes at a time, to keep the memory they take for a
    moment small."""
    in_progress = {
        p.id: p for p in programmes
        if p.start_date <= now.astimezone(ZoneInfo(zones[p.organisation_id])).date() <= p.end_date
    }
    ids = list(in_progress)
    result: dict[int, int] = {}
    for start in range(0, len(ids), OVERDUE_CHUNK):
        pairs = await repos.digests.pairs_to_check(ids[start:start + OVERDUE_CHUNK], now)
        if not pairs:
            continue
        settings = await repos.meetings.settings_of(sorted({pair.programme_id for pair, _m in pairs}))
        for pair, meetings in pairs:
            programme = in_progress[pair.programme_id]
            decisive = cast(list[Meeting], meetings)  # `MeetingTimes` read as meetings
            state = state_of(settings[programme.id], programme, pair, decisive, now)
            if state.late_to_schedule(now) or state.unlogged(now) is not None:
                result[programme.id] = result.get(programme.id, 0) + 1
    return result


async def programme_counts(repos: Repositories, programmes: Sequence[Programme], zones: dict[int, str],
                           now: datetime) -> Counts:
    """Every figure of each programme (zero items left out), in a handful of queries for all of them."""
    ids = [p.id for p in programmes]
    counts = await repos.digests.counts(ids, now, now + timedelta(days=COMING_DAYS))
    for pid, overdue in (await _overdue(repos, programmes, now, zones)).items():
        counts[pid]["overdue"] = overdue
    for pid, pending in (await repos.digests.surveys_pending(ids, now)).items():  # surveys not answered
        counts[pid]["surveys"] = pending
    return counts


def current_programmes(orgs: Sequence[Organisation], programmes_of: dict[int, list[Programme]],
                       now: datetime) -> list[tuple[Organisation, list[Programme]]]:
    """The programmes not ended (in each organisation's own time zone), by organisation."""
    found = []
    for org in orgs:
        today = now.astimezone(ZoneInfo(org.timezone)).date()
        current = [p for p in programmes_of.get(org.id, []) if p.end_date >= today]
        if current:
            found.append((org, current))
    return found


def compose(by_org: list[tuple[Organisation, list[Programme]]], counts: Counts, before: Counts,
            day: date) -> Digest:
    """A coordinator's digest for a day from the figures of their programmes and their last snapshot."""
    mine = {p.id: counts[p.id] for _org, ps in by_org for p in ps}
    schools = []
    for org, ps in by_org:
        blocks = [Block(p, _figures(mine[p.id], before.get(p.id, {}))) for p in ps]
        blocks = [b for b in blocks if any(b.figures.values())]
        if blocks:
            schools.append((org, blocks))
    return Digest(day.isoformat(), day, schools, mine)


def _figures(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    figures = {k: v for k, v in now.items() if k not in CHANGES}
    for key in CHANGES:
        figures[key] = max(0, now.get(key, 0) - before.get(key, 0))
    return {k: v for k, v in figures.items() if v}


_TEXTS = {
    "participants": lambda n: ngettext("{n} new participant", "{n} new participants", n),
    "submitted": lambda n: ngettext("{n} questionnaire submitted", "{n} questionnaires submitted", n),
    "held": lambda n: ngettext("{n} meeting held", "{n} meetings held", n),
    "parent_pending": lambda n: ngettext("{n} parent's consent pending", "{n} parents' consents pending", n),
    "not_submitted": lambda n: ngettext("{n} person has not submitted the questionnaire",
                                        "{n} people have not submitted the questionnaire", n),
    "without_pair": lambda n: ngettext("{n} mentee without a pair", "{n} mentees without a pair", n),
    "overdue": lambda n: ngettext("{n} pair with a meeting overdue (not scheduled or not logged)",
                                  "{n} pairs with meetings overdue (not scheduled or not logged)", n),
    "repair": lambda n: ngettext("{n} re-pair request", "{n} re-pair requests", n),
    "surveys": lambda n: ngettext("{n} survey not answered yet", "{n} surveys not answered yet", n),
    "coming": lambda n: ngettext("{n} meeting in the next 7 days", "{n} meetings in the next 7 days", n),
}


@lru_cache(maxsize=CACHED)
def _line(locale: str, key: str, n: int) -> str:
    """A figure's line in a language (`locale` is the current one: it keys the cache)."""
    return "• " + _TEXTS[key](n).format(n=n)


@lru_cache(maxsize=64)
def _long_date(day: date, locale: str) -> str:
    """A digest's day as its title says it (the same for every digest of a run in a language)."""
    return format_date(day, format="long", locale=locale)


def _lines(figures: dict[str, int], locale: str) -> list[str]:
    return [_line(locale, key, figures[key]) for key in ORDER if figures.get(key)]


def digest_text(digest: Digest) -> str:
    """The digest in the current language: a block per programme; by school with totals for several."""
    locale = current_locale()
    parts = [_("Digest for {date}: what changed since the last one and what is stuck.").format(
        date=_long_date(digest.day, locale))]
    several = len(digest.schools) > 1
    number = 0
    for org, blocks in digest.schools:
        if several:
            parts.append("🏫 " + org.name)
        for block in blocks:
            number += 1
            title = f"{number}. «{block.programme.title}»"
            parts.append("\n".join([title, *_lines(block.figures, locale)]))
    if several:
        totals: dict[str, int] = {}
        for block in digest.blocks:
            for key, n in block.figures.items():
                totals[key] = totals.get(key, 0) + n
        parts.append("\n".join([_("Totals of all schools:"), *_lines(totals, locale)]))
    text = "\n\n".join(parts)
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"


def digest_markup(digest: Digest) -> InlineKeyboardMarkup | None:
    """A row of next actions per numbered programme: remind, open the list, meetings, export."""
    remind, surveys, listed = _("{n} · Remind"), _("{n} · Remind of surveys"), _("{n} · List")
    meetings, export = _("{n} · Meetings"), _("{n} · Export")
    rows = []
    for number, block in enumerate(digest.blocks[:BUTTON_PROGRAMMES], start=1):
        pid, f = block.programme.id, block.figures
        row = []
        if f.get("not_submitted"):
            row.append(button(remind.format(n=number), _data("remind", pid, digest.period)))
        if f.get("surveys"):
            row.append(button(surveys.format(n=number), _data("survey_remind", pid, digest.period)))
        state = next((s for s in ("parent_pending", "without_pair") if f.get(s)), "")
        row.append(button(listed.format(n=number), _data("list", pid, state)))
        if f.get("overdue") or f.get("repair"):
            row.append(button(meetings.format(n=number), _data("meetings", pid, "")))
        row.append(button(export.format(n=number), _data("export", pid, "")))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


@lru_cache(maxsize=CACHED)
def _data(action: str, pid: int, value: str) -> str:
    """A digest button's callback data, packed once for all the digests that show the programme."""
    if action == "list":
        return BasesCb(action="l", programme=pid, role=Role.MENTEE, state=value).pack()
    if action == "meetings":
        return ProgrammeCb(action="meetings", programme=pid).pack()
    if action == "export":
        return DigestCb(action="export", programme=pid).pack()
    return DigestCb(action=action, programme=pid, value=value).pack()


async def run_digests(repos: Repositories, i18n: I18n, clock: Clock) -> int:
    """Queue every digest that is due; how many messages were queued. Each programme's figures are counted
    once for all the coordinators who see it (a school's and its department's), in a handful of queries
    whatever the number of programmes; the snapshots and messages are written in a few transactions."""
    now = clock.now()
    due = [(who, day) for who in await repos.digests.coordinators()
           if (day := due_period(who.setting, who.timezone, now)) is not None]
    made = await repos.digests.done_in(sorted({day.isoformat() for _who, day in due}))
    due = [(who, day) for who, day in due if (who.user_id, day.isoformat()) not in made]
    if not due:
        return 0
    managed = await repos.digests.managed()
    orgs = {org.id: org for who, _day in due for org in managed.get(who.user_id, [])}
    programmes_of = await repos.digests.programmes_of(list(orgs))
    current = {who.user_id: current_programmes(managed.get(who.user_id, []), programmes_of, now)
               for who, _day in due}
    programmes = {p.id: p for found in current.values() for _org, ps in found for p in ps}
    zones = {org.id: org.timezone for org in orgs.values()}
    counts = await programme_counts(repos, list(programmes.values()), zones, now)
    coordinators = [who.user_id for who, _day in due]
    last = await repos.digests.last_of(coordinators)
    known = with_users_read(repos, await repos.digests.users(coordinators))
    queued = 0
    for chunk in range(0, len(due), RECORD_CHUNK):
        batch: list[tuple[int, str, Counts, OutboxMessage | None]] = []
        for who, day in due[chunk:chunk + RECORD_CHUNK]:
            try:  # one coordinator's failure must not stop the others
                before = last[who.user_id].counts if who.user_id in last else {}
                digest = compose(current[who.user_id], counts, before, day)
                message = None
                if digest.worth_sending:
                    message = await queued_in_language(
                        known, i18n, who.user_id, lambda d=digest: digest_text(d), kind=DIGEST_KIND,
                        dedupe=f"digest:{who.user_id}:{digest.period}",
                        markup=lambda d=digest: digest_markup(d),
                    )
                batch.append((who.user_id, digest.period, digest.counts, message))
            except Exception:
                logger.exception("digest for %s failed", who.user_id)
        recorded = await repos.digests.record_many(batch)
        queued += sum(1 for new, item in zip(recorded, batch, strict=True) if new and item[3] is not None)
    if queued:
        logger.info("queued %s digests", queued)
    return queued
