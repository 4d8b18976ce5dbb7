"""Benchmark of the matching engine: 300 mentees × 100 mentors (capacity 3) against a ×10 smaller baseline.

Run as `python benchmarks/matching.py`. Answers are random but seeded, drawn from the real questionnaires
(every visible question answered, as the runner would allow). All candidates share one form, so the whole
programme is one 300 × 300 assignment — the worst case. Prints the table and writes it into
benchmarks/README.md between the markers.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, write_section  # noqa: E402
from dialogs.matching import Candidate, declared_capacity, match  # noqa: E402
from dialogs.schema import load_registry  # noqa: E402
from storage.models import Role  # noqa: E402
from tests.synthetic import synthetic_answers  # noqa: E402

FORM = "teacher_pupil"
RUNS = 5
SIZES = (("baseline 30×10", 30, 10), ("programme 300×100", 300, 100))
CAPACITY = 3




def programme(mentees: int, mentors: int, seed: int = 2024) -> list[Candidate]:
    registry = load_registry()
    rng = random.Random(seed)
    mentor_q = registry.for_participant(Role.MENTOR, FORM)
    mentee_q = registry.for_participant(Role.MENTEE, FORM)
    mentor_ids = list(range(1, mentors + 1))
    mentee_ids = list(range(10_001, 10_001 + mentees))
    people = []
    for i in mentor_ids:
        answers = synthetic_answers(mentor_q, rng)
        assert declared_capacity(mentor_q, answers) >= 1
        prefs = tuple(rng.sample(mentee_ids, rng.randint(0, 3)))
        people.append(Candidate(i, "mentor", FORM, f"m{i}", answers, mentor_q, CAPACITY, prefs))
    for i in mentee_ids:
        prefs = tuple(rng.sample(mentor_ids, rng.randint(0, 3)))
        answers = synthetic_answers(mentee_q, rng)
        people.append(Candidate(i, "mentee", FORM, f"e{i}", answers, mentee_q, 1, prefs))
    return people


def median_seconds(people: list[Candidate]) -> tuple[float, int]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = match(people)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(result.proposals)


def main() -> None:
    rows = []
    for label, mentees, mentors in SIZES:
        seconds, proposed = median_seconds(programme(mentees, mentors))
        rows.append((label, mentees, mentors, seconds, proposed))
    baseline = rows[0][3]
    lines = [
        f"Machine: {machine()}; median of {RUNS} runs of the whole `match()`; "
        f"capacity {CAPACITY} per mentor.",
        "",
        "| case | mentees | mentors | median, ms | ratio to baseline | proposals |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, mentees, mentors, seconds, proposed in rows:
        ms, ratio = seconds * 1000, seconds / baseline
        lines.append(f"| {label} | {mentees} | {mentors} | {ms:.1f} | {ratio:.1f}× | {proposed} |")
    target = rows[-1][3] < 1.0
    lines += ["", f"Target 300×100 under 1 s: {'met' if target else 'NOT met'}."]
    table = "\n".join(lines)
    print(table)
    write_section("matching", table)


if __name__ == "__main__":
    main()
