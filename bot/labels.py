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


def param_label(param: str) -> str:
    """A self-assessment parameter as the coordinator reads it."""
    labels = {
        "motivation": _("Motivation"), "confidence": _("Confidence"),
        "subject_results": _("Results in the subject"), "professional_skills": _("Professional skills"),
    }
    return labels.get(param, param)


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


ACTIVITIES = ("conversation", "subject", "project", "olympiad", "event", "game", "other")
NOT_HELD_REASONS = ("mentee_ill", "mentor_ill", "holiday", "nobody_came", "other")


def activity_label(activity: str) -> str:
    """What was done at a meeting (the mentor picks several when logging it)."""
    labels = {
        "conversation": _("Conversation"),
        "subject": _("Consultation on a subject"),
        "project": _("Project work"),
        "olympiad": _("Preparation for an olympiad or competition"),
        "event": _("Event or excursion"),
        "game": _("Game or training"),
        "other": _("Other"),
    }
    return labels.get(activity, activity)


def not_held_label(reason: str) -> str:
    """Why a meeting was not held (a reason typed by the mentor is shown as it is)."""
    labels = {
        "mentee_ill": _("The mentee was ill"),
        "mentor_ill": _("The mentor was ill"),
        "holiday": _("A holiday or a school event"),
        "nobody_came": _("Nobody came"),
        "other": _("Other reason"),
    }
    return labels.get(reason, reason)


def goal_status_label(status: str) -> str:
    """Progress on a goal of the personalised programme."""
    labels = {
        "not_started": _("not started"),
        "in_progress": _("in progress"),
        "achieved": _("achieved"),
    }
    return labels.get(status, status)
