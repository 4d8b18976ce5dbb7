"""Compatibility of a mentor and a mentee: inputs, reasons as data, and the score.

Which answers are compared is declared in the questionnaire data (`match = "<tag>"`). All visible
answers under one tag are combined (a questionnaire may tag two questions alike). A tag counts the
share of the mentee's options the mentor covers, times the tag's weight; preferences add a bonus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dialogs.schema import Questionnaire, QuestionType

# Tag weights, highest first; the order is also the order of "common" reasons.
WEIGHTS: dict[str, float] = {
    "topics": 5.0,
    "subjects": 3.0,
    "field": 3.0,
    "format": 2.0,
    "times": 1.5,
    "interests": 1.0,
}
OTHER = "other"  # never counts as a match
MIXED, REMOTE_OR_NOT = "mixed", frozenset({"online", "offline"})
MAX_PREFERENCES = 3
RANK_BONUS = (6.0, 5.0, 4.0)  # one side's 1st, 2nd, 3rd choice
MUTUAL_BONUS = 8.0  # on top of both ranks: any mutual choice outweighs any one-sided one
ROLES = ("mentor", "mentee")
CAPACITY_QUESTION = "capacity"


@dataclass(frozen=True)
class Candidate:
    """A mentor or mentee of a programme with their submitted answers.

    `preferences`: up to three ids of the other side, first choice first.
    `capacity`: how many mentees a mentor takes (ignored for mentees).
    """

    id: int
    role: str
    form: str
    first_name: str
    answers: dict[str, Any]
    questionnaire: Questionnaire
    capacity: int = 1
    preferences: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"candidate {self.id}: role must be mentor or mentee, got {self.role!r}")
        if self.form not in self.questionnaire.forms or self.questionnaire.role != self.role:
            raise ValueError(f"candidate {self.id}: questionnaire {self.questionnaire.id!r} does not fit")
        if self.capacity < 0:
            raise ValueError(f"candidate {self.id}: capacity must not be negative")
        if len(self.preferences) > MAX_PREFERENCES or len(set(self.preferences)) != len(self.preferences):
            raise ValueError(f"candidate {self.id}: at most {MAX_PREFERENCES} distinct preferences")


@dataclass(frozen=True)
class Reason:
    """Why a pair is proposed, as data for the UI to translate.

    kinds: "mutual_choice"; "chose" (side = "mentee"|"mentor", rank = 1..3);
    "common" (tag, options: the mentee's options the mentor covers, sorted).
    """

    kind: str
    tag: str | None = None
    options: tuple[str, ...] = ()
    side: str | None = None
    rank: int | None = None


@dataclass(frozen=True)
class Profile:
    """A candidate's options per match tag (visible answers only, `other` dropped)."""

    id: int
    tags: Mapping[str, frozenset[str]] = field(default_factory=dict)
    preferences: tuple[int, ...] = ()


def declared_capacity(questionnaire: Questionnaire, answers: dict[str, Any], default: int = 1) -> int:
    """The mentor's answer to the "how many mentees" number question, if there is one."""
    question = questionnaire.question(CAPACITY_QUESTION)
    value = answers.get(CAPACITY_QUESTION)
    if question is None or question.type is not QuestionType.NUMBER or not isinstance(value, int):
        return default
    return value


def profile(candidate: Candidate) -> Profile:
    """Combine every visible answer under each match tag."""
    tags: dict[str, set[str]] = {}
    for question in candidate.questionnaire.visible(candidate.answers):
        if question.match is None or question.match not in WEIGHTS:
            continue
        value = candidate.answers.get(question.id)
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        chosen = {v for v in values if isinstance(v, str) and v != OTHER}
        if chosen:
            tags.setdefault(question.match, set()).update(chosen)
    return Profile(candidate.id, {t: frozenset(v) for t, v in tags.items()}, candidate.preferences)


def covered(tag: str, mentee: frozenset[str], mentor: frozenset[str]) -> frozenset[str]:
    """The mentee's options of a tag the mentor covers; `mixed` format fits online and offline."""
    common = mentee & mentor
    if tag == "format":
        if MIXED in mentor:
            common |= mentee & REMOTE_OR_NOT
        if MIXED in mentee and mentor & REMOTE_OR_NOT:
            common |= {MIXED}
    return common


def compatibility(mentor: Profile, mentee: Profile) -> float:
    """Weighted share of the mentee's options, per tag, that the mentor covers (0 … sum of weights)."""
    total = 0.0
    for tag, weight in WEIGHTS.items():
        wanted = mentee.tags.get(tag)
        offered = mentor.tags.get(tag)
        if wanted and offered:
            total += weight * len(covered(tag, wanted, offered)) / len(wanted)
    return total


def _rank(chooser: Profile, chosen_id: int) -> int | None:
    try:
        return chooser.preferences.index(chosen_id) + 1
    except ValueError:
        return None


def preference_bonus(mentor: Profile, mentee: Profile) -> float:
    """Bonus for stated choices: mutual > one-sided; 1st > 2nd > 3rd."""
    by_mentee, by_mentor = _rank(mentee, mentor.id), _rank(mentor, mentee.id)
    bonus = sum(RANK_BONUS[r - 1] for r in (by_mentee, by_mentor) if r is not None)
    if by_mentee is not None and by_mentor is not None:
        bonus += MUTUAL_BONUS
    return bonus


def score(mentor: Profile, mentee: Profile) -> float:
    """Compatibility plus preference bonus, rounded so equal pairs compare equal."""
    return round(compatibility(mentor, mentee) + preference_bonus(mentor, mentee), 6)


def reasons(mentor: Profile, mentee: Profile) -> list[Reason]:
    """Why this pair: choices first, then common options by tag weight."""
    out: list[Reason] = []
    by_mentee, by_mentor = _rank(mentee, mentor.id), _rank(mentor, mentee.id)
    if by_mentee is not None and by_mentor is not None:
        out.append(Reason(kind="mutual_choice"))
    elif by_mentee is not None:
        out.append(Reason(kind="chose", side="mentee", rank=by_mentee))
    elif by_mentor is not None:
        out.append(Reason(kind="chose", side="mentor", rank=by_mentor))
    for tag in WEIGHTS:
        wanted, offered = mentee.tags.get(tag), mentor.tags.get(tag)
        if wanted and offered:
            common = covered(tag, wanted, offered)
            if common:
                out.append(Reason(kind="common", tag=tag, options=tuple(sorted(common))))
    return out
