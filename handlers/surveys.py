"""Surveys of the pair work: who is asked what and when, the invitation's button, and the reminders.

- At the start of a pair's work, its mentor and mentees assess themselves (`assessment_before`).
- When the pair's final meeting is held, they get the methodology's satisfaction survey, the programme-quality
  survey and the same self-assessment again (`assessment_after`), so the change can be shown.
- During the period the programme chose on its survey settings screen (`handlers/survey_settings.py`), every
  2 or 4 weeks or monthly, they get the short feedback survey: one round per slot, labelled with the slot's
  first day (e.g. "2027-02-01"), open until the next slot.
- The self-assessment asks only the parameters the programme chose: the survey is then a variant of the
  assessment file with the other questions left out (`Registry.assessment`), and the response is of that
  variant, so the runner, the review and the results see only the chosen questions.
- Those who have not answered are reminded at most twice (3 and 7 days after the invitation), never in the
  quiet hours of the organisation's time zone.

A periodic job (`survey_sweep`) does all of it: invitations and reminders are written with dedupe keys and
invitations are recorded per round, so running it again or after a restart asks nobody twice. The answers are
responses of the round, run by the questionnaire runner (`handlers.questionnaire`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.callbacks import DigestCb, SurveyCb
from bot.clock import Clock
from bot.config import Settings
from bot.outbox import Outbox
from dialogs.meeting_plan import out_of_quiet_hours
from dialogs.render import pick
from dialogs.schema import Kind, Questionnaire, Registry
from handlers.access import programme_for_button, refuse
from handlers.notices import language_of, queued_in_language
from handlers.questionnaire_screen import open_survey
from storage.models import (
    OutboxMessage,
    Participant,
    ParticipantStatus,
    Programme,
    SurveyKind,
    SurveyRound,
)
from storage.repos import Repositories
from storage.repos.surveys import SurveySettings

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
ASSESSMENTS = (SurveyKind.ASSESSMENT_BEFORE, SurveyKind.ASSESSMENT_AFTER)
FEEDBACK_STEP = {"2w": 14, "4w": 28}  # days between feedback rounds ("month": the first of each month)
DIGEST_REMIND_KIND = "survey_digest_remind"


def survey_for(registry: Registry, kind: SurveyKind, person: Participant,
               settings: SurveySettings) -> Questionnaire | None:
    """The version of a survey a person answers (an assessment: with the programme's parameters)."""
    q = registry.survey(QUESTIONNAIRE_KIND[kind], person.role, person.form)
    if q is not None and kind in ASSESSMENTS:
        return registry.assessment(q, settings.assess_params)
    return q


def feedback_slot(settings: SurveySettings, today: date) -> tuple[date, date] | None:
    """The feedback round due on a local day: (its first day, the next round's first day), or None outside
    the period or when feedback is off."""
    start, end = settings.feedback_from, settings.feedback_to
    if settings.feedback_every == "off" or start is None or end is None or not start <= today <= end:
        return None
    if settings.feedback_every == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
    else:
        step = FEEDBACK_STEP[settings.feedback_every]
        first = start + timedelta(days=(today - start).days // step * step)
        following = first + timedelta(days=step)
    return first, min(following, end + timedelta(days=1))


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
    people: list[Participant], now: datetime, by: int | None = None, closes_at: datetime | None = None,
) -> tuple[SurveyRound, int]:
    """Ask the people to answer a round of a survey (opened if new); those already asked are not asked
    again. Each gets the version of their role and form, in their language, with an Answer button.
    Returns the round and how many were newly asked."""

    settings = await repos.surveys.settings(programme.id)

    async def compose(survey_round: SurveyRound) -> list[tuple[int, OutboxMessage]]:
        out = []
        already = await repos.surveys.invited(survey_round.id)
        for person in people:
            if person.id in already:
                continue
            q = survey_for(registry, kind, person, settings)
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

    return await repos.surveys.invite(programme.id, kind, label, by, compose, now, closes_at)


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
    q = survey_for(questionnaires, survey_round.kind, participant, await repos.surveys.settings(
        survey_round.programme_id))
    if q is None:
        await call.answer(_("This survey is no longer available."), show_alert=True)
        return
    await call.answer()
    await open_survey(bot, call.from_user.id, state, repos, questionnaires, participant, survey_round.id, q)


async def survey_sweep(repos: Repositories, i18n: I18n, registry: Registry, clock: Clock) -> SweepCount:
    """Invite whoever is due a survey and remind whoever has not answered (see the module's notes)."""
    count = SweepCount()
    now = clock.now()
    for programme_id in await repos.meetings.programmes_with_active_pairs():
        programme = await repos.programmes.get(programme_id)
        if programme is None:
            continue
        # Everyone in an active pair is asked the assessment at the start; the people of pairs whose final
        # meeting was held, the end surveys. One round per kind for the programme, read in a few queries.
        pairs = await repos.pairs.active(programme.id)
        found = await repos.participants.many(i for pair in pairs for i in (pair.mentor_id, *pair.mentee_ids))
        ended = await repos.meetings.pairs_with_final_held(programme.id)
        everyone: dict[int, Participant] = {}
        at_the_end: dict[int, Participant] = {}
        for pair in pairs:
            people = {i: found[i] for i in (pair.mentor_id, *pair.mentee_ids) if i in found}
            everyone.update(people)
            if pair.id in ended:
                at_the_end.update(people)
        rounds = [(SurveyKind.ASSESSMENT_BEFORE, "start", everyone)]
        if at_the_end:
            rounds += [(kind, "end", at_the_end) for kind in AT_THE_END]
        for kind, label, people in rounds:
            if people:
                _round, asked = await invite(repos, i18n, registry, programme, kind, label,
                                             list(people.values()), now)
                count.invited += asked
        count.invited += await _feedback(repos, i18n, registry, programme, list(everyone.values()), now)
        count.reminded += await _remind(repos, i18n, programme, now)
    # Programmes without active pairs (a closed one's end surveys) still remind those who have not answered.
    active = set(await repos.meetings.programmes_with_active_pairs())
    for programme_id in await repos.surveys.programmes_awaiting_answers():
        programme = await repos.programmes.get(programme_id)
        if programme_id not in active and programme is not None:
            count.reminded += await _remind(repos, i18n, programme, now)
    return count


async def _timezone(repos: Repositories, programme: Programme) -> str:
    org = await repos.organisations.get(programme.organisation_id)
    return org.timezone if org else "Europe/Moscow"


async def _feedback(repos: Repositories, i18n: I18n, registry: Registry, programme: Programme,
                    people: list[Participant], now: datetime) -> int:
    """The feedback round of the current slot, to the mentors and mentees of the active pairs."""
    tz = await _timezone(repos, programme)
    slot = feedback_slot(await repos.surveys.settings(programme.id), now.astimezone(ZoneInfo(tz)).date())
    if slot is None or not people:
        return 0
    first, following = slot
    closes_at = datetime.combine(following, time(0, 0), ZoneInfo(tz)).astimezone(now.tzinfo)
    _round, asked = await invite(repos, i18n, registry, programme, SurveyKind.FEEDBACK, first.isoformat(),
                                 people, now, closes_at=closes_at)
    return asked


async def _remind(repos: Repositories, i18n: I18n, programme: Programme, now: datetime) -> int:
    """Queue the first or second reminder for each invited person who has not submitted, when due."""
    tz = await _timezone(repos, programme)
    settings = await repos.meetings.settings(programme.id)
    queued = 0
    for survey_round in await repos.surveys.of_programme(programme.id):
        if survey_round.closes_at is not None and survey_round.closes_at <= now:
            continue
        answered = await repos.surveys.submitted(survey_round.id)
        queued_already = await repos.outbox.dedupes(SURVEY_KIND, survey_round.id)
        due_now: dict[int, list[tuple[int, datetime]]] = {}  # participant → (n, due) not yet queued
        for participant_id, invited_at in (await repos.surveys.invited(survey_round.id)).items():
            if participant_id in answered:
                continue
            for n, after in enumerate(REMINDER_AFTER, 1):
                due = invited_at + after
                if now < due:
                    break
                if f"survey-rem:{survey_round.id}:{participant_id}:{n}" not in queued_already:
                    due_now.setdefault(participant_id, []).append((n, due))
        people = await repos.participants.many(due_now)
        for participant_id, reminders in due_now.items():
            person = people.get(participant_id)
            if person is None:
                continue
            for n, due in reminders:
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


async def on_digest_remind(call: CallbackQuery, callback_data: DigestCb, settings: Settings,
                           repos: Repositories, i18n: I18n, outbox: Outbox, clock: Clock) -> None:
    """The digest's «Remind» of surveys: those who have not answered a round still open, once per digest."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    period = callback_data.value
    if len(period) != 10 or not await repos.digests.done(call.from_user.id, period):
        await refuse(call, _("This button is out of date."))
        return
    title = programme.title
    messages = []
    for _pid, who in await repos.surveys.pending([programme.id], clock.now()):
        person = await repos.participants.get(who.participant_id)
        survey_round = await repos.surveys.get(who.round_id)
        if person is None or survey_round is None:
            continue
        messages.append(await queued_in_language(
            repos, i18n, who.user_id,
            lambda: _("Reminder: please answer the survey of «{programme}» — it takes a few minutes.")
            .format(programme=title),
            kind=DIGEST_REMIND_KIND, ref=who.round_id,
            dedupe=f"survey-digest-rem:{who.round_id}:{who.participant_id}:{period}",
            markup=lambda person=person, r=survey_round: _answer_button(r, person),
        ))
    queued = await repos.outbox.enqueue(messages)
    outbox.wake()
    if queued:
        text = ngettext("A reminder is queued for {n} person.", "Reminders are queued for {n} people.",
                        queued).format(n=queued)
    else:
        text = _("Those who have not answered were already reminded for this digest.")
    await call.answer(text, show_alert=True)



def router() -> Router:
    """The invitation's button and the digest's survey reminder."""
    r = Router(name="surveys")
    r.callback_query.register(on_open, SurveyCb.filter())
    r.callback_query.register(on_digest_remind, DigestCb.filter(F.action == "survey_remind"))
    return r

