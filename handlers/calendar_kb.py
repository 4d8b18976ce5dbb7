"""An inline month calendar: a grid of days, weeks starting on Monday, month and weekday names from Babel in
the reader's language, « » between months.

Days in the past, outside the programme's dates or in its holidays are shown (marked) but refused with a short
alert when tapped; the refusal is computed again on every tap (`Bounds.refusal`), so a forged day is refused
the same way. Each button's data stays far below Telegram's 64 bytes.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import get_day_names, get_month_names

from bot.callbacks import button
from dialogs.meeting_plan import in_holidays

BLOCKED_MARK = "·"


@dataclass(frozen=True)
class Bounds:
    """Which days may be chosen: from `today` (local) within the programme's dates, outside holidays."""

    today: date
    first: date
    last: date
    holidays: tuple[tuple[date, date], ...] = ()

    def refusal(self, day: date) -> str | None:
        """Why the day cannot be chosen (a short alert), or None when it can."""
        if day < self.today:
            return _("This day has passed. Choose another one.")
        if not self.first <= day <= self.last:
            return _("This day is outside the programme's dates. Choose another one.")
        if in_holidays(day, self.holidays):
            return _("This day is in the school holidays: no meetings then. Choose another one.")
        return None

    def first_month(self) -> date:
        """The earliest month worth showing (the 1st of it)."""
        return max(self.today, self.first).replace(day=1)

    def last_month(self) -> date:
        """The latest month worth showing (the 1st of it)."""
        return max(self.last, self.today).replace(day=1)

    def clamp(self, month: date) -> date:
        """A month within the months worth showing."""
        return min(max(month.replace(day=1), self.first_month()), self.last_month())


def weekday_names(locale: str) -> list[str]:
    """Abbreviated weekday names, Monday first («пн» … «вс», «Mon» … «Sun»)."""
    names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    return [str(names[n]) for n in range(7)]


def month_title(month: date, locale: str) -> str:
    """«Октябрь 2026», «October 2026»."""
    name = str(get_month_names("wide", context="stand-alone", locale=locale)[month.month])
    return f"{name[:1].upper()}{name[1:]} {month.year}"


def shift_month(month: date, delta: int) -> date:
    """The 1st of the month `delta` months away."""
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def calendar_markup(
    month: date,
    bounds: Bounds,
    locale: str,
    *,
    day_cb: Callable[[date], str],
    month_cb: Callable[[date], str],
    noop_cb: str,
    extra_rows: Sequence[list[InlineKeyboardButton]] = (),
) -> InlineKeyboardMarkup:
    """The month's grid: « title », weekday names, the weeks, then `extra_rows` (e.g. Cancel)."""
    month = bounds.clamp(month)

    previous, following = shift_month(month, -1), shift_month(month, 1)
    nav = [
        button("«", month_cb(previous)) if month > bounds.first_month() else button(" ", noop_cb),
        button(month_title(month, locale), noop_cb),
        button("»", month_cb(following)) if month < bounds.last_month() else button(" ", noop_cb),
    ]
    rows = [nav, [button(name, noop_cb) for name in weekday_names(locale)]]
    for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdayscalendar(month.year, month.month):
        row = []
        for number in week:
            if number == 0:
                row.append(button(" ", noop_cb))
                continue
            day = month.replace(day=number)
            label = str(number) if bounds.refusal(day) is None else f"{BLOCKED_MARK}{number}{BLOCKED_MARK}"
            row.append(button(label, day_cb(day)))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=[*rows, *extra_rows])


def parse_day(value: str) -> date | None:
    """A day from a button's «YYYYMMDD» (None when forged)."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def parse_month(value: str) -> date | None:
    """The 1st of a month from a button's «YYYYMM» (None when forged)."""
    if len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12 or int(value[:4]) < 1:
        return None
    return date(int(value[:4]), int(value[4:]), 1)
