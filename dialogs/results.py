"""Survey results as numbers: response rate, each item's mean and distribution, the comparison between forms,
the comments; and the before/after change of the self-assessment per person and per programme. Pure
functions over answers and the survey definitions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from dialogs.schema import Questionnaire, QuestionType


@dataclass(frozen=True)
class Answered:
    """One submitted response of a survey round, with who gave it."""

    participant_id: int
    name: str
    role: str
    form: str
    questionnaire: Questionnaire
    answers: dict[str, Any]


@dataclass
class Item:
    """One scale or yes/no question across the answers (per survey version)."""

    questionnaire_id: str
    question_id: str
    kind: QuestionType
    values: list[int | bool] = field(default_factory=list)
    by_form: dict[str, list[int | bool]] = field(default_factory=lambda: defaultdict(list))

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        """The mean score, or the share of "yes" (0–1) for a yes/no question."""
        return round(mean(float(v) for v in self.values), 2) if self.values else None

    @property
    def yes_percent(self) -> float | None:
        """For a yes/no question: the share of "yes", in per cent to one decimal."""
        return round(100 * sum(bool(v) for v in self.values) / len(self.values), 1) if self.values else None

    def distribution(self, low: int = 1, high: int = 10) -> dict[int, int]:
        """How many gave each score (scale questions)."""
        counts = Counter(int(v) for v in self.values)
        return {score: counts.get(score, 0) for score in range(low, high + 1)}

    def form_means(self) -> dict[str, float]:
        return {form: round(mean(float(v) for v in vals), 2) for form, vals in self.by_form.items() if vals}


@dataclass
class Summary:
    """A round's results."""

    invited: int
    answered: int
    items: list[Item]
    comments: list[tuple[str, str, str]]  # (questionnaire id, question id, text)

    @property
    def response_rate(self) -> float:
        return round(self.answered / self.invited, 3) if self.invited else 0.0


def summarise(invited: int, responses: Iterable[Answered]) -> Summary:
    """Items in the order of their questionnaires; comments are the non-empty text answers."""
    items: dict[tuple[str, str], Item] = {}
    comments: list[tuple[str, str, str]] = []
    answered = 0
    for response in responses:
        answered += 1
        q = response.questionnaire
        for question in q.questions:
            value = response.answers.get(question.id)
            if value is None:
                continue
            if question.type in (QuestionType.SCALE, QuestionType.YESNO):
                item = items.setdefault((q.id, question.id), Item(q.id, question.id, question.type))
                item.values.append(value)
                item.by_form[response.form].append(value)
            elif question.type is QuestionType.TEXT and str(value).strip():
                comments.append((q.id, question.id, str(value).strip()))
    return Summary(invited, answered, list(items.values()), comments)


@dataclass(frozen=True)
class Change:
    """A person's self-assessment before and after, per parameter."""

    participant_id: int
    name: str
    role: str
    before: dict[str, int]
    after: dict[str, int]

    def delta(self, param: str) -> int | None:
        if param in self.before and param in self.after:
            return self.after[param] - self.before[param]
        return None


def _params(response: Answered) -> dict[str, int]:
    found = {}
    for question in response.questionnaire.questions:
        value = response.answers.get(question.id)
        if question.param is not None and isinstance(value, int):
            found[question.param] = value
    return found


def changes(before: Sequence[Answered], after: Sequence[Answered]) -> list[Change]:
    """Everyone who answered both assessments, by name."""
    earlier = {r.participant_id: r for r in before}
    found = []
    for response in after:
        if response.participant_id in earlier:
            first = earlier[response.participant_id]
            found.append(Change(response.participant_id, response.name, response.role, _params(first),
                                _params(response)))
    return sorted(found, key=lambda c: (c.role, c.name))


def mean_changes(found: Sequence[Change]) -> dict[str, float]:
    """The programme's mean change per parameter (over those who answered both)."""
    deltas: dict[str, list[int]] = defaultdict(list)
    for change in found:
        for param in change.after:
            if (delta := change.delta(param)) is not None:
                deltas[param].append(delta)
    return {param: round(mean(values), 2) for param, values in deltas.items()}
