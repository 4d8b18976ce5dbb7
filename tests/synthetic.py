"""Valid random answers to the real questionnaires, for tests and benchmarks."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from dialogs.schema import Questionnaire, QuestionType


def synthetic_answers(q: Questionnaire, rng: random.Random, number_cap: int | None = None) -> dict[str, Any]:
    """Answer every visible question in order, as the runner would let a person."""
    answers: dict[str, Any] = {}
    for question in q.questions:
        if question.show_if is not None and not question.show_if.holds(answers):
            continue
        ids = [o.id for o in question.options]
        if question.type is QuestionType.MULTI:
            answers[question.id] = rng.sample(ids, rng.randint(1, min(3, question.max_choices or 3)))
        elif question.type is QuestionType.SINGLE:
            answers[question.id] = rng.choice(ids)
        elif question.type in (QuestionType.NUMBER, QuestionType.SCALE):
            high = question.max if number_cap is None else min(question.max, number_cap)  # type: ignore[type-var]
            answers[question.id] = rng.randint(question.min, high)  # type: ignore[arg-type]
        elif question.type is QuestionType.YESNO:
            answers[question.id] = rng.random() < 0.5
        elif question.type is QuestionType.DATE:
            offset = timedelta(days=rng.randint(1, 3000))
            day = date(2026, 9, 1) + (offset if question.future_only else -offset)
            answers[question.id] = day.isoformat()
        else:
            answers[question.id] = "text"
    return answers
