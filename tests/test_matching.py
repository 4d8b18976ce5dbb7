"""Matching engine: optimal (not greedy) assignment, capacity, forms, preferences, reasons, re-runs."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from dialogs.matching import (
    Candidate,
    Proposal,
    Reason,
    Unmatched,
    UnmatchedReason,
    declared_capacity,
    match,
    rerun,
)
from dialogs.matching_score import profile, score
from dialogs.schema import Option, Question, Questionnaire, QuestionType, load_registry
from storage.models import FORMS, Role
from tests.synthetic import synthetic_answers

T = {"ru": "т", "en": "t"}
OPTIONS = {
    "topics": ("a", "b", "c", "d", "olympiad", "study", "career", "other"),
    "subjects": ("maths", "physics", "other"),
    "format": ("individual", "group", "online", "offline", "mixed"),
    "times": ("wd_after", "weekend"),
    "interests": ("sport", "music"),
}


def questionnaire(role: str) -> Questionnaire:
    questions = tuple(
        Question(tag, QuestionType.MULTI, T, match=tag, options=tuple(Option(o, T) for o in opts))
        for tag, opts in OPTIONS.items()
    )
    return Questionnaire(f"{role}_t", 1, Role(role), tuple(FORMS), T, None, questions, Path("t.toml"))


QS = {"mentor": questionnaire("mentor"), "mentee": questionnaire("mentee")}


def person(
    id: int,
    role: str,
    form: str = "pupil_pupil",
    capacity: int = 1,
    prefs: tuple[int, ...] = (),
    **answers: Any,
) -> Candidate:
    return Candidate(id, role, form, f"n{id}", answers, QS[role], capacity, prefs)


def mentor(id: int, **kw: Any) -> Candidate:
    return person(id, "mentor", **kw)


def mentee(id: int, **kw: Any) -> Candidate:
    return person(id, "mentee", **kw)


def pairs(result) -> set[tuple[int, int]]:
    return {(p.mentor_id, p.mentee_id) for p in result.proposals}


def brute_force_best(candidates: list[Candidate]) -> float:
    """The best total over every feasible assignment (a mentee may stay without a pair)."""
    mentors = [c for c in candidates if c.role == "mentor"]
    mentees = [c for c in candidates if c.role == "mentee"]
    best = 0.0
    for choice in itertools.product([None, *mentors], repeat=len(mentees)):
        load: dict[int, int] = {}
        total = 0.0
        for who, m in zip(mentees, choice, strict=True):
            if m is None:
                continue
            if m.form != who.form:
                break
            load[m.id] = load.get(m.id, 0) + 1
            s = score(profile(m), profile(who))
            if load[m.id] > m.capacity or s <= 0:
                break
            total += s
        else:
            best = max(best, total)
    return round(best, 6)


def greedy_total(candidates: list[Candidate]) -> float:
    """Best pair first — what the engine must beat."""
    mentors = {c.id: c for c in candidates if c.role == "mentor"}
    mentees = {c.id: c for c in candidates if c.role == "mentee"}
    scored = sorted(
        ((score(profile(m), profile(e)), m.id, e.id) for m in mentors.values() for e in mentees.values()),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    load: dict[int, int] = {}
    done: set[int] = set()
    total = 0.0
    for s, m, e in scored:
        if s > 0 and e not in done and load.get(m, 0) < mentors[m].capacity:
            load[m] = load.get(m, 0) + 1
            done.add(e)
            total += s
    return total


def test_optimum_beats_greedy_and_is_maximal() -> None:
    # Greedy gives mentor 1 to mentee 10 (tie broken by id) and leaves 11 with nobody who fits.
    people = [
        mentor(1, topics=["a", "b"]),
        mentor(2, topics=["b"]),
        mentee(10, topics=["a", "b"]),
        mentee(11, topics=["a"]),
    ]
    result = match(people)
    assert pairs(result) == {(2, 10), (1, 11)}
    assert result.total_score == brute_force_best(people) == 7.5
    assert greedy_total(people) == 5.0 < result.total_score
    assert result.unmatched == []


def test_total_is_maximal_on_random_small_programmes() -> None:
    rng = random.Random(7)
    for _ in range(40):
        people = [
            mentor(i, capacity=rng.randint(1, 2), topics=rng.sample("abcd", rng.randint(1, 3)))
            for i in range(1, 4)
        ] + [
            mentee(
                i, topics=rng.sample("abcd", rng.randint(1, 2)), times=rng.sample(["wd_after", "weekend"], 1)
            )
            for i in range(10, 15)
        ]
        result = match(people)
        assert result.total_score == brute_force_best(people)


def test_capacity_is_respected_and_groups_form() -> None:
    people = [mentor(1, capacity=3, topics=["a"]), mentor(2, capacity=1, topics=["a"])]
    people += [mentee(i, topics=["a"]) for i in range(10, 16)]
    result = match(people)
    load = {m: sum(1 for p in result.proposals if p.mentor_id == m) for m in (1, 2)}
    assert load == {1: 3, 2: 1}
    assert {u.reason for u in result.unmatched} == {UnmatchedReason.NO_CAPACITY_LEFT}
    assert len(result.unmatched) == 2


def test_zero_capacity_mentor_gets_nobody() -> None:
    result = match([mentor(1, capacity=0, topics=["a"]), mentee(10, topics=["a"])])
    assert result.proposals == []
    assert result.unmatched == [Unmatched(10, UnmatchedReason.NO_CAPACITY_LEFT)]


def test_different_forms_are_never_paired() -> None:
    people = [
        mentor(1, form="pupil_pupil", topics=["a", "b", "c"], format=["online"]),
        mentor(2, form="teacher_teacher", topics=["d"]),
        mentee(10, form="teacher_teacher", topics=["a", "b", "c"], format=["online"]),
        mentee(11, form="pupil_pupil", topics=["d"]),
        mentee(12, form="head_teacher", topics=["a"]),
    ]
    result = match(people)
    assert pairs(result) == set()
    assert result.unmatched == [
        Unmatched(10, UnmatchedReason.NO_COMPATIBLE_MENTOR),
        Unmatched(11, UnmatchedReason.NO_COMPATIBLE_MENTOR),
        Unmatched(12, UnmatchedReason.NO_MENTOR_OF_FORM),
    ]


def test_mutual_choice_wins_over_one_sided() -> None:
    # Mentee 10 chose mentor 1 first; mentee 11 chose it only third, but mentor 1 chose 11 too.
    people = [
        mentor(1, prefs=(11,), topics=["a"]),
        mentor(2, topics=["c"]),
        mentor(3, topics=["c"]),
        mentee(10, prefs=(1,), topics=["a"]),
        mentee(11, prefs=(2, 3, 1), topics=["a"]),
    ]
    result = match(people)
    chosen = next(p for p in result.proposals if p.mentor_id == 1)
    assert chosen.mentee_id == 11
    assert chosen.reasons[0] == Reason(kind="mutual_choice")
    assert Unmatched(10, UnmatchedReason.NO_CAPACITY_LEFT) in result.unmatched


@pytest.mark.parametrize("order", [(1, 2, 3), (3, 1, 2), (2, 3, 1)])
def test_first_choice_beats_second_beats_third(order: tuple[int, ...]) -> None:
    people = [mentor(m, topics=["a"]) for m in (1, 2, 3)] + [mentee(10, prefs=order, topics=["a"])]
    result = match(people)
    assert pairs(result) == {(order[0], 10)}
    assert result.proposals[0].reasons[0] == Reason(kind="chose", side="mentee", rank=1)
    ranks = [score(profile(mentor(m, topics=["a"])), profile(people[-1])) for m in order]
    assert ranks[0] > ranks[1] > ranks[2]


def test_a_choice_alone_is_proposed_but_zero_compatibility_is_not() -> None:
    people = [mentor(1, topics=["a"]), mentor(2, prefs=(11,), topics=["b"])]
    people += [mentee(10, topics=["c"]), mentee(11, topics=["c"])]
    result = match(people)
    assert [(p.mentor_id, p.mentee_id, p.reasons) for p in result.proposals] == [
        (2, 11, [Reason(kind="chose", side="mentor", rank=1)])
    ]
    assert result.unmatched == [Unmatched(10, UnmatchedReason.NO_COMPATIBLE_MENTOR)]


def test_reasons_list_the_common_options_by_weight() -> None:
    people = [
        mentor(1, topics=["study", "olympiad", "career", "other"], format=["mixed"], times=["weekend"]),
        mentee(
            10, topics=["olympiad", "study", "other"], format=["online", "individual"], times=["wd_after"]
        ),
    ]
    (proposal,) = match(people).proposals
    assert proposal.reasons == [
        Reason(kind="common", tag="topics", options=("olympiad", "study")),
        Reason(kind="common", tag="format", options=("online",)),
    ]
    # topics fully covered ("other" never counts), half of the format, no common time.
    assert proposal.score == 5.0 + 2.0 * 0.5


def test_format_mixed_fits_online_and_offline_but_online_not_offline() -> None:
    def fmt(mine: list[str], theirs: list[str]) -> tuple[str, ...] | None:
        result = match([mentor(1, format=theirs), mentee(10, format=mine)])
        return result.proposals[0].reasons[0].options if result.proposals else None

    assert fmt(["mixed"], ["offline"]) == ("mixed",)
    assert fmt(["offline"], ["mixed"]) == ("offline",)
    assert fmt(["online"], ["offline"]) is None
    assert fmt(["other_thing"], ["other_thing"]) == ("other_thing",)
    assert match([mentor(1, topics=["other"]), mentee(10, topics=["other"])]).proposals == []


def test_fixed_pairs_keep_their_slot_and_are_not_reproposed() -> None:
    people = [mentor(1, capacity=2, topics=["a"]), mentor(2, topics=["b"])]
    people += [mentee(i, topics=["a"]) for i in (10, 11, 12)]
    result = rerun(people, fixed={(1, 10)}, forbidden=set())
    assert all(p.mentee_id != 10 for p in result.proposals)
    assert all(u.mentee_id != 10 for u in result.unmatched)
    assert sum(1 for p in result.proposals if p.mentor_id == 1) == 1
    assert len(result.unmatched) == 1 and result.unmatched[0].reason is UnmatchedReason.NO_CAPACITY_LEFT
    # A hand-made pair beyond capacity leaves no slot rather than failing.
    full = match(people, fixed={(1, 10), (1, 11), (1, 12)})
    assert full == type(full)([], [])


def test_forbidden_pairs_are_never_proposed_again() -> None:
    people = [mentor(1, prefs=(10,), topics=["a"]), mentor(2, topics=["a", "b"])]
    people += [mentee(10, prefs=(1,), topics=["a"])]
    assert pairs(match(people)) == {(1, 10)}
    assert pairs(match(people, forbidden={(1, 10)})) == {(2, 10)}
    result = match(people, forbidden={(1, 10), (2, 10)})
    assert result.unmatched == [Unmatched(10, UnmatchedReason.NO_COMPATIBLE_MENTOR)]


def test_bad_fixed_pairs_and_inputs_are_refused() -> None:
    people = [mentor(1, topics=["a"]), mentee(10, topics=["a"]), mentee(11, form="teacher_teacher")]
    with pytest.raises(ValueError, match="two fixed"):
        match(people, fixed={(1, 10), (2, 10)})
    with pytest.raises(ValueError, match="mixes forms"):
        match(people, fixed={(1, 11)})
    with pytest.raises(ValueError, match="unique"):
        match([*people, mentee(10)])
    with pytest.raises(ValueError, match="preferences"):
        mentee(12, prefs=(1, 2, 3, 4))


def random_programme(seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    tags = {t: tuple(x for x in o if x != "other") for t, o in OPTIONS.items()}
    people = []
    for i in range(1, 7):
        answers = {t: rng.sample(o, rng.randint(1, 2)) for t, o in tags.items()}
        people.append(
            mentor(i, capacity=rng.randint(1, 3), prefs=tuple(rng.sample(range(10, 30), 2)), **answers)
        )
    for i in range(10, 30):
        answers = {t: rng.sample(o, 1) for t, o in tags.items()}
        people.append(mentee(i, prefs=tuple(rng.sample(range(1, 7), rng.randint(0, 3))), **answers))
    return people


def test_same_input_in_any_order_gives_the_same_output() -> None:
    people = random_programme(3)
    expected = match(people)
    # Identical twins competing for one slot: the tie must not depend on input order either.
    twins = [mentor(100, topics=["a"]), mentee(101, topics=["a"]), mentee(102, topics=["a"])]
    expected_twins = match(twins)
    rng = random.Random(1)
    for _ in range(5):
        rng.shuffle(people)
        rng.shuffle(twins)
        assert match(people) == expected
        assert match(twins) == expected_twins
    assert expected.proposals == sorted(expected.proposals, key=lambda p: (p.mentor_id, p.mentee_id))


# --- the real questionnaires -------------------------------------------------------------------------




def test_mentor_teacher_combines_both_topics_questions_of_the_visible_ones() -> None:
    registry = load_registry()
    q = registry.get("mentor_teacher")
    answers = {
        "audience": ["pupils", "teachers"],
        "help_learn": ["olympiad"],
        "help_teach": ["methods", "other"],
    }
    both = profile(Candidate(1, "mentor", "teacher_teacher", "A", answers, q))
    assert both.tags["topics"] == {"olympiad", "methods"}
    pupils_only = profile(
        Candidate(1, "mentor", "teacher_teacher", "A", {**answers, "audience": ["pupils"]}, q)
    )
    assert pupils_only.tags["topics"] == {"olympiad"}  # the hidden question's stale answer is ignored
    newcomer = Candidate(
        2, "mentee", "teacher_teacher", "B", {"topics": ["methods"]}, registry.get("mentee_teacher")
    )
    (proposal,) = match([Candidate(1, "mentor", "teacher_teacher", "A", answers, q), newcomer]).proposals
    assert proposal.reasons == [Reason(kind="common", tag="topics", options=("methods",))]


def test_single_field_of_a_student_meets_multi_field_of_a_lecturer() -> None:
    registry = load_registry()
    lecturer = Candidate(
        1,
        "mentor",
        "lecturer_student",
        "A",
        {"audience": ["students"], "field": ["it", "economics"], "capacity": 4},
        registry.for_participant(Role.MENTOR, "lecturer_student"),
    )
    student = Candidate(
        2,
        "mentee",
        "lecturer_student",
        "B",
        {"field": "it"},
        registry.for_participant(Role.MENTEE, "lecturer_student"),
    )
    assert declared_capacity(lecturer.questionnaire, lecturer.answers) == 4
    assert declared_capacity(student.questionnaire, student.answers) == 1
    assert match([lecturer, student]).proposals == [
        Proposal(1, 2, 3.0, [Reason(kind="common", tag="field", options=("it",))])
    ]


def test_real_questionnaires_every_form_synthetic_programme() -> None:
    registry = load_registry()
    rng = random.Random(42)
    people: list[Candidate] = []
    next_id = iter(range(1, 10_000))
    for form in FORMS:
        for role, count in (("mentor", 3), ("mentee", 8)):
            q = registry.for_participant(Role(role), form)
            for _ in range(count):
                answers = synthetic_answers(q, rng, number_cap=4)
                cap = declared_capacity(q, answers)
                people.append(Candidate(next(next_id), role, form, "x", answers, q, cap))
    by_id = {c.id: c for c in people}
    result = match(people)
    mentees = [c.id for c in people if c.role == "mentee"]
    placed = [p.mentee_id for p in result.proposals] + [u.mentee_id for u in result.unmatched]
    assert sorted(placed) == mentees  # every mentee exactly once
    assert len(result.proposals) > len(mentees) // 2
    for p in result.proposals:
        assert by_id[p.mentor_id].form == by_id[p.mentee_id].form
        assert p.score > 0 and any(r.kind == "common" for r in p.reasons)
    for m in (c for c in people if c.role == "mentor"):
        assert sum(1 for p in result.proposals if p.mentor_id == m.id) <= m.capacity
