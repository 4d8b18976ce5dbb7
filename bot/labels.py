"""Translated names of forms of mentoring and roles, shared by every screen."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram.utils.i18n import gettext as _

from storage.models import Role


def form_label(form: str) -> str:
    """A form of mentoring as the roadmaps name it."""
    labels = {
        "pupil_pupil": _("Pupil – pupil"),
        "teacher_teacher": _("Teacher – teacher"),
        "teacher_pupil": _("Teacher – pupil"),
        "student_student": _("Student – student"),
        "lecturer_student": _("Lecturer – student"),
        "employer_student": _("Employer – student"),
        "head_teacher": _("Head – teacher"),
    }
    return labels.get(form, form)


def role_label(role: Role | str) -> str:
    """Mentor or mentee."""
    return _("mentor") if Role(role) is Role.MENTOR else _("mentee")


# Russia's time zones, west to east (no daylight saving time since 2014).
RUSSIAN_TIMEZONES: tuple[str, ...] = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
)


def timezone_label(timezone: str) -> str:
    """A time zone as its city and current UTC offset, e.g. «Москва (UTC+3)»."""
    cities = {
        "Europe/Kaliningrad": _("Kaliningrad"),
        "Europe/Moscow": _("Moscow"),
        "Europe/Samara": _("Samara"),
        "Asia/Yekaterinburg": _("Yekaterinburg"),
        "Asia/Omsk": _("Omsk"),
        "Asia/Novosibirsk": _("Novosibirsk"),
        "Asia/Krasnoyarsk": _("Krasnoyarsk"),
        "Asia/Irkutsk": _("Irkutsk"),
        "Asia/Yakutsk": _("Yakutsk"),
        "Asia/Vladivostok": _("Vladivostok"),
        "Asia/Magadan": _("Magadan"),
        "Asia/Kamchatka": _("Petropavlovsk-Kamchatsky"),
    }
    try:
        offset = datetime.now(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{cities.get(timezone, timezone)} ({utc})"


def state_label(state: str) -> str:
    """A derived state as a short phrase after a person's name."""
    labels = {
        "parent_pending": _("parent's consent pending"),
        "not_started": _("questionnaire not started"),
        "in_progress": _("questionnaire in progress"),
        "submitted": _("questionnaire submitted"),
        "in_pair": _("in a pair"),
        "without_pair": _("questionnaire submitted, no pair yet"),
    }
    return labels.get(state, state)


def step_label(step: str) -> str:
    """A meeting step as a noun phrase: «the organisational meeting»."""
    labels = {
        "organisational": _("organisational meeting"),
        "trial": _("trial working meeting"),
        "planning": _("planning meeting"),
        "regular": _("regular meeting"),
        "final": _("final meeting"),
        "group_final": _("group final meeting of all pairs"),
    }
    return labels.get(step, step)
