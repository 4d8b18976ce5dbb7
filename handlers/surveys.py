"""Surveys of the pair work: who is asked what and when, the invitation's button, and the reminders.

- At the start of a pair's work, its mentor and mentees assess themselves (`assessment_before`).
- When the pair's final meeting is held, they get the methodology's satisfaction survey, the programme-quality
  survey and the same self-assessment again (`assessment_after`), so the change can be shown.
- Those who have not answered are reminded at most twice (3 and 7 days after the invitation), never in the
  quiet hours of the organisation's time zone.

A periodic job (`survey_sweep`) does all of it: invitations and reminders are written with dedupe keys and
invitations are recorded per round, so running it again or after a restart asks nobody twice. The answers are
responses of the round, run by the questionnaire runner (`handlers.questionnaire`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import SurveyCb
from bot.clock import Clock
from dialogs.meeting_plan import out_of_quiet_hours
from dialogs.render import pick
from dialogs.schema import Kind, Registry
from handlers.notices import language_of, queued_in_language
from handlers.questionnaire_screen import open_survey
from storage.models import (
    MeetingStatus,
    OutboxMessage,
    Participant,
    ParticipantStatus,
    Programme,
    SurveyKind,
    SurveyRound,
)
from storage.repos import Repositories

SURVEY_KIND = "survey"  # the outbox kind of invitations and reminders (ref: the round)
REMINDER_AFTER = (timedelta(days=3), timedelta(days=7))  # at most two reminders
QUESTIONNAIRE_KIND = {
    SurveyKind.FEEDBACK: Kind.FEEDBACK,
    SurveyKind.ASSESSMENT_BEFORE: Kind.ASSESSMENT,
    SurveyKind.ASSESSMENT_AFTER: Kind.ASSESSMENT,
    SurveyKind.SATISFACTION: Kind.SATISFACTION,
    SurveyKind.QUALITY: Kind.QUALITY,
}
AT_THE_END = (SurveyKind.SATISFACTION, SurveyKind.QUALITY, SurveyKind.ASSESSMENT_AFTER)


@dataclass
class SweepCount:
    """What one run of the survey job queued."""

    invited: int = 0
    reminded: int = 0


def _answer_button(survey_round: SurveyRound, participant: Participant) -> InlineKeyboardMarkup:
    cb = SurveyCb(round=survey_round.id, participant=participant.id)
    button = InlineKeyboardButton(text=_("Answer"), callback_data=cb.pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def invite(
    repos: Repositories, i18n: I18n, registry: Registry, programme: Programme, kind: SurveyKind, label: str,
    people: list[Participant], now: datetime, by: int | None = None,
) -> tuple[SurveyRound, int]:
    """Ask the people to answer a round of a survey (opened if new); those already asked are not asked
    again. Each gets the version of their role and form, in their language, with an Answer button.
    Returns the round and how many were newly asked."""

    async def compose(survey_round: SurveyRound) -> list[tuple[int, OutboxMessage]]:
        out = []
        for person in people:
            q = registry.survey(QUESTIONNAIRE_KIND[kind], person.role, person.form)
            if q is None or person.status is not ParticipantStatus.ACTIVE:
                continue
            locale = await language_of(repos, i18n, person.user_id)
            message = await queued_in_language(
                repos, i18n, person.user_id,
                lambda q=q, locale=locale: _(
                    "«{survey}» of «{programme}»: please answer, it takes a few minutes."
                ).format(survey=pick(q.title, locale), programme=programme.title),
                kind=SURVEY_KIND, ref=survey_round.id, dedupe=f"survey:{survey_round.id}:{person.id}",
                markup=lambda person=person: _answer_button(survey_round, person),
            )
            out.append((person.id, message))
        return out

    return await repos.surveys.invite(programme.id, kind, label, by, compose, now)


async def on_open(
    call: CallbackQuery, callback_data: SurveyCb, bot: Bot, state: FSMContext, repos: Repositories,
    questionnaires: Registry, clock: Clock,
) -> None:
    """The invitation's Answer: only for the person invited, while the round is open."""
    participant = await repos.participants.get(callback_data.participant)
    survey_round = await repos.surveys.get(callback_data.round)
    if (
        participant is None or participant.user_id != call.from_user.id or survey_round is None
        or survey_round.programme_id != participant.programme_id
        or not await repos.surveys.is_invited(survey_round.id, participant.id)
    ):
        await call.answer(_("This button is not for you."), show_alert=True)
        return
    if survey_round.closes_at is not None and clock.now() >= survey_round.closes_at:
        await call.answer(_("This survey is closed."), show_alert=True)
        return
    q = questionnaires.survey(QUESTIONNAIRE_KIND[survey_round.kind], participant.role, participant.form)
    if q is None:
        await call.answer(_("This survey is no longer available."), show_alert=True)
        return
    await call.answer()
    await open_survey(bot, call.from_user.id, state, repos, questionnaires, participant, survey_round.id, q)


async def _pair_people(repos: Repositories, mentor_id: int, mentee_ids: tuple[int, ...]) -> list[Participant]:
    found = []
    for participant_id in (mentor_id, *mentee_ids):
        person = await repos.participants.get(participant_id)
        if person is not None:
            found.append(person)
    return found


async def survey_sweep(repos: Repositories, i18n: I18n, registry: Registry, clock: Clock) -> SweepCount:
    """Invite whoever is due a survey and remind whoever has not answered (see the module's notes)."""
    count = SweepCount()
    now = clock.now()
    for programme_id in await repos.meetings.programmes_with_active_pairs():
        programme = await repos.programmes.get(programme_id)
        if programme is None:
            continue
        for pair in await repos.pairs.active(programme.id):
            people = await _pair_people(repos, pair.mentor_id, pair.mentee_ids)
            kinds: list[tuple[SurveyKind, str]] = [(SurveyKind.ASSESSMENT_BEFORE, "start")]
            meetings = await repos.meetings.of_pair(pair.id)
            if any(m.step == "final" and m.status is MeetingStatus.HELD for m in meetings):
                kinds += [(kind, "end") for kind in AT_THE_END]
            for kind, label in kinds:
                _round, asked = await invite(repos, i18n, registry, programme, kind, label, people, now)
                count.invited += asked
        count.reminded += await _remind(repos, i18n, programme, now)
    return count


async def _remind(repos: Repositories, i18n: I18n, programme: Programme, now: datetime) -> int:
    """Queue the first or second reminder for each invited person who has not submitted, when due."""
    org = await repos.organisations.get(programme.organisation_id)
    tz = org.timezone if org else "Europe/Moscow"
    settings = await repos.meetings.settings(programme.id)
    queued = 0
    for survey_round in await repos.surveys.of_programme(programme.id):
        answered = await repos.surveys.submitted(survey_round.id)
        for participant_id, invited_at in (await repos.surveys.invited(survey_round.id)).items():
            if participant_id in answered:
                continue
            person = await repos.participants.get(participant_id)
            if person is None:
                continue
            for n, after in enumerate(REMINDER_AFTER, 1):
                due = invited_at + after
                if now < due:
                    break
                message = await queued_in_language(
                    repos, i18n, person.user_id,
                    lambda: _("Reminder: please answer the survey of «{programme}» — it takes a few minutes.")
                    .format(programme=programme.title),
                    kind=SURVEY_KIND, ref=survey_round.id,
                    dedupe=f"survey-rem:{survey_round.id}:{participant_id}:{n}",
                    markup=lambda person=person, r=survey_round: _answer_button(r, person),
                )
                not_before = out_of_quiet_hours(max(due, now), settings, tz)
                queued += await repos.outbox.enqueue([replace(message, not_before=not_before)])
    return queued


def router() -> Router:
    """The invitation's button."""
    r = Router(name="surveys")
    r.callback_query.register(on_open, SurveyCb.filter())
    return r

