"""Pair/group proposals for a programme: a pure, deterministic optimal assignment.

Per form of mentoring, each mentor is repeated once per free slot (capacity minus pairs already
accepted) and `scipy.optimize.linear_sum_assignment` maximises the total score over all mentees at
once. Pairs are written (mentor_id, mentee_id) everywhere. numpy and scipy are imported on the first
match, not when the bot starts (they would hold tens of megabytes from start-up; see benchmarks/size.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from dialogs.matching_score import Candidate, Reason, declared_capacity, profile, reasons, score

__all__ = [
    "Candidate",
    "MatchResult",
    "Proposal",
    "Reason",
    "Unmatched",
    "UnmatchedReason",
    "declared_capacity",
    "match",
    "rerun",
]

Pair = tuple[int, int]
Pairs = set[Pair] | frozenset[Pair]


class UnmatchedReason(StrEnum):
    """Why a mentee got no proposal."""

    NO_MENTOR_OF_FORM = "no_mentor_of_form"
    NO_CAPACITY_LEFT = "no_capacity_left"
    NO_COMPATIBLE_MENTOR = "no_compatible_mentor"


@dataclass(frozen=True)
class Proposal:
    """A proposed pair; a mentor with several proposals leads a group."""

    mentor_id: int
    mentee_id: int
    score: float
    reasons: list[Reason]


@dataclass(frozen=True)
class Unmatched:
    """A mentee left without a proposal."""

    mentee_id: int
    reason: UnmatchedReason


@dataclass(frozen=True)
class MatchResult:
    """Proposals sorted by (mentor_id, mentee_id); unmatched mentees sorted by id."""

    proposals: list[Proposal] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def total_score(self) -> float:
        return round(sum(p.score for p in self.proposals), 6)


def match(
    candidates: Iterable[Candidate],
    *,
    fixed: Pairs = frozenset(),
    forbidden: Pairs = frozenset(),
) -> MatchResult:
    """Propose pairs/groups maximising total score.

    `fixed`: (mentor_id, mentee_id) pairs the coordinator accepted — the mentee is not matched again,
    the mentor's slot stays taken, and the pair is not re-proposed.
    `forbidden`: rejected (mentor_id, mentee_id) pairs, never proposed.
    """
    people = sorted(candidates, key=lambda c: c.id)
    by_id = {c.id: c for c in people}
    if len(by_id) != len(people):
        raise ValueError("candidate ids must be unique")
    used = _used_slots(by_id, fixed)
    fixed_mentees = {mentee for _, mentee in fixed}
    forms = sorted({c.form for c in people})
    proposals: list[Proposal] = []
    unmatched: list[Unmatched] = []
    for form in forms:
        mentors = [c for c in people if c.form == form and c.role == "mentor"]
        mentees = [c for c in people if c.form == form and c.role == "mentee" and c.id not in fixed_mentees]
        got, left = _match_form(mentors, mentees, used, forbidden)
        proposals += got
        unmatched += left
    proposals.sort(key=lambda p: (p.mentor_id, p.mentee_id))
    unmatched.sort(key=lambda u: u.mentee_id)
    return MatchResult(proposals, unmatched)


def rerun(candidates: Iterable[Candidate], fixed: Pairs, forbidden: Pairs) -> MatchResult:
    """Match the rest after the coordinator accepted `fixed` and rejected `forbidden` pairs."""
    return match(candidates, fixed=fixed, forbidden=forbidden)


def _used_slots(by_id: dict[int, Candidate], fixed: Iterable[Pair]) -> dict[int, int]:
    """Slots each mentor already gives to accepted pairs; checks the pairs make sense."""
    used: dict[int, int] = {}
    seen_mentees: set[int] = set()
    for mentor_id, mentee_id in sorted(fixed):
        if mentee_id in seen_mentees:
            raise ValueError(f"mentee {mentee_id} is in two fixed pairs")
        seen_mentees.add(mentee_id)
        mentor, mentee = by_id.get(mentor_id), by_id.get(mentee_id)
        wrong_mentor = mentor is not None and mentor.role != "mentor"
        if wrong_mentor or (mentee is not None and mentee.role != "mentee"):
            raise ValueError(f"fixed pair {(mentor_id, mentee_id)} must be (mentor, mentee)")
        if mentor is not None and mentee is not None and mentor.form != mentee.form:
            raise ValueError(f"fixed pair {(mentor_id, mentee_id)} mixes forms")
        used[mentor_id] = used.get(mentor_id, 0) + 1
    return used


def _match_form(
    mentors: list[Candidate], mentees: list[Candidate], used: dict[int, int], forbidden: Iterable[Pair]
) -> tuple[list[Proposal], list[Unmatched]]:
    if not mentees:
        return [], []
    if not mentors:
        return [], [Unmatched(m.id, UnmatchedReason.NO_MENTOR_OF_FORM) for m in mentees]
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    forbidden = set(forbidden)
    mentor_profiles = [profile(m) for m in mentors]
    mentee_profiles = [profile(m) for m in mentees]
    # scores[i, j]: mentee i with mentor j; 0 = not to be proposed (incompatible or forbidden).
    scores = np.zeros((len(mentees), len(mentors)))
    for i, mentee in enumerate(mentee_profiles):
        for j, mentor in enumerate(mentor_profiles):
            if (mentor.id, mentee.id) not in forbidden:
                scores[i, j] = score(mentor, mentee)
    slots = [j for j, m in enumerate(mentors) for _ in range(max(0, m.capacity - used.get(m.id, 0)))]
    assigned: dict[int, int] = {}
    if slots:
        # Maximum-weight matching = maximum assignment with zeros for non-edges, zero edges dropped.
        rows, cols = linear_sum_assignment(scores[:, slots], maximize=True)
        assigned = {int(i): slots[c] for i, c in zip(rows, cols, strict=True) if scores[i, slots[c]] > 0}
    proposals: list[Proposal] = []
    unmatched: list[Unmatched] = []
    for i, mentee in enumerate(mentee_profiles):
        j = assigned.get(i)
        if j is not None:
            mentor = mentor_profiles[j]
            proposals.append(Proposal(mentor.id, mentee.id, float(scores[i, j]), reasons(mentor, mentee)))
        elif scores[i].max() > 0:
            unmatched.append(Unmatched(mentee.id, UnmatchedReason.NO_CAPACITY_LEFT))
        else:
            unmatched.append(Unmatched(mentee.id, UnmatchedReason.NO_COMPATIBLE_MENTOR))
    return proposals, unmatched
