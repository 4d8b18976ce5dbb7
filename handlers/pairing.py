"""Matching a programme from its stored data: who takes part, running the engine, explaining its reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aiogram.utils.i18n import gettext as _

from dialogs.matching import Candidate, Reason, UnmatchedReason, declared_capacity, match
from dialogs.matching_score import profile, reasons, score
from dialogs.render import pick
from dialogs.schema import Questionnaire, Registry
from handlers.preferences import first_name
from storage.models import Participant, ParticipantStatus, Role
from storage.repos import Repositories
from storage.repos.pairs import NewProposal


@dataclass(frozen=True)
class Pool:
    """Everyone of a programme who can be matched, with what the engine needs."""

    candidates: dict[int, Candidate]
    people: dict[int, Participant]

    def mentors(self, form: str | None = None) -> list[Candidate]:
        return [c for c in self.candidates.values() if c.role == "mentor" and form in (None, c.form)]

    def mentees(self) -> list[Candidate]:
        return [c for c in self.candidates.values() if c.role == "mentee"]


async def load_pool(repos: Repositories, registry: Registry, programme_id: int) -> Pool:
    """Active participants who submitted their questionnaire; of the mentors only those marked ready."""
    submitted = await repos.responses.submitted_of_programme(programme_id)
    ready = await repos.readiness.ready_mentor_ids(programme_id)
    choices = await repos.preferences.all_choices(programme_id)
    people: dict[int, Participant] = {}
    candidates: dict[int, Candidate] = {}
    for role in Role:
        for person, _state in await repos.participants.of_programme(programme_id, role, limit=None):
            if person.status is not ParticipantStatus.ACTIVE or person.id not in submitted:
                continue
            if role is Role.MENTOR and person.id not in ready:
                continue
            questionnaire_id, answers = submitted[person.id]
            questionnaire = registry.get(questionnaire_id)
            if questionnaire is None or person.form not in questionnaire.forms:
                continue
            capacity = declared_capacity(questionnaire, answers) if role is Role.MENTOR else 1
            candidates[person.id] = Candidate(
                person.id, role.value, person.form, first_name(person), answers, questionnaire,
                capacity, tuple(choices.get(person.id, ())[:3]),
            )
            people[person.id] = person
    return Pool(candidates, people)


def _as_data(found: list[Reason]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if v not in (None, ())} for r in found]


async def run(repos: Repositories, registry: Registry, programme_id: int) -> tuple[int, int]:
    """Match the rest of the programme, keeping decisions; (proposals, unmatched) stored."""
    pool = await load_pool(repos, registry, programme_id)
    fixed, forbidden = await repos.pairs.fixed_and_forbidden(programme_id)
    result = match(pool.candidates.values(), fixed=fixed, forbidden=forbidden)
    proposals = [
        NewProposal(p.mentor_id, p.mentee_id, p.score, _as_data(p.reasons)) for p in result.proposals
    ]
    unmatched = [(u.mentee_id, u.reason.value) for u in result.unmatched]
    await repos.pairs.replace_run(programme_id, proposals, unmatched)
    return len(proposals), len(unmatched)


def assess(pool: Pool, mentor_id: int, mentee_id: int) -> NewProposal:
    """Score and reasons of a pair the coordinator makes by hand."""
    mentor, mentee = profile(pool.candidates[mentor_id]), profile(pool.candidates[mentee_id])
    return NewProposal(mentor_id, mentee_id, score(mentor, mentee), _as_data(reasons(mentor, mentee)))


def free_slots(pool: Pool, taken: dict[int, int], mentor_id: int) -> int:
    """How many more mentees the mentor can take."""
    return pool.candidates[mentor_id].capacity - taken.get(mentor_id, 0)


# --- explaining ---------------------------------------------------------------------------------------


def _tag_label(tag: str) -> str:
    labels = {
        "topics": _("requests"),
        "subjects": _("subjects"),
        "field": _("field"),
        "format": _("format"),
        "times": _("time"),
        "interests": _("interests"),
    }
    return labels.get(tag, tag)


def _option_text(tag: str, option: str, questionnaires: list[Questionnaire], locale: str) -> str:
    for questionnaire in questionnaires:
        for question in questionnaire.questions:
            if question.match == tag and (found := question.option(option)) is not None:
                return pick(found.text, locale)
    return option


def explain(
    found: list[dict[str, Any]], questionnaires: list[Questionnaire | None], locale: str
) -> str:
    """The reasons of a proposal in the reader's language, e.g. «both chose each other; common requests:
    olympiad maths; common time: Tue/Thu after 15:00»."""
    known = [q for q in questionnaires if q is not None]
    parts: list[str] = []
    for reason in found:
        kind = reason.get("kind")
        if kind == "mutual_choice":
            parts.append(_("both chose each other"))
        elif kind == "chose":
            text = (_("the mentee's choice no. {rank}") if reason.get("side") == "mentee"
                    else _("the mentor's choice no. {rank}"))
            parts.append(text.format(rank=reason.get("rank", 1)))
        elif kind == "common":
            tag = str(reason.get("tag", ""))
            options = ", ".join(_option_text(tag, o, known, locale) for o in reason.get("options", []))
            parts.append(_("common {what}: {options}").format(what=_tag_label(tag), options=options))
    return "; ".join(parts) if parts else _("no common answers: paired to give everyone a mentor")


def unmatched_text(reason: str) -> str:
    """Why a mentee has no proposal."""
    texts = {
        UnmatchedReason.NO_MENTOR_OF_FORM.value: _("no ready mentor of this form"),
        UnmatchedReason.NO_CAPACITY_LEFT.value: _("the suitable mentors have no free places"),
        UnmatchedReason.NO_COMPATIBLE_MENTOR.value: _("no mentor shares any of the answers compared"),
    }
    return texts.get(reason, reason)
