"""What a questionnaire asks next and what an answer means: pure logic, no messenger, no SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal

from dialogs.schema import Question, Questionnaire, QuestionType

_DATE_FORMATS = (
    re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
)
YES, NO = "1", "0"


class InputError(ValueError):
    """An answer that cannot be taken; the message is for the person, in their language."""


class UseButtons(InputError):
    """Text was typed where the question is answered with buttons."""


@dataclass(frozen=True)
class Position:
    """Where a question stands among the ones shown: 1-based index and total."""

    index: int
    total: int


def first_unanswered(q: Questionnaire, answers: dict[str, Any]) -> Question | None:
    """The first shown question without an answer (skipped ones count as answered)."""
    return next((x for x in q.visible(answers) if x.id not in answers), None)


def position(q: Questionnaire, answers: dict[str, Any], question: Question) -> Position:
    """The question's place among the shown ones."""
    shown = q.visible(answers)
    ids = [x.id for x in shown]
    index = ids.index(question.id) + 1 if question.id in ids else len(ids)
    return Position(index, len(ids))


def neighbour(q: Questionnaire, answers: dict[str, Any], question_id: str, step: int) -> Question | None:
    """The shown question before (step -1) or after (step +1) the given one."""
    shown = q.visible(answers)
    ids = [x.id for x in shown]
    if question_id not in ids:
        return None
    index = ids.index(question_id) + step
    return shown[index] if 0 <= index < len(shown) else None


def hidden_answers(q: Questionnaire, answers: dict[str, Any]) -> list[str]:
    """Answers to questions that the other answers now hide (dropped on submit)."""
    shown = {x.id for x in q.visible(answers)}
    return [qid for qid in answers if qid not in shown]


def is_complete(q: Questionnaire, answers: dict[str, Any]) -> bool:
    """Every shown question has an answer (or was skipped, if optional)."""
    return first_unanswered(q, answers) is None


def parse_typed(question: Question, text: str, locale: str, today: date) -> Any:
    """Turn typed text into the answer value for text, number, date and scale questions."""
    text = text.strip()
    if question.type is QuestionType.TEXT:
        if not text:
            raise InputError(_("The answer is empty. Please write a few words."))
        if len(text) > question.max_length:
            raise InputError(
                _("That is {length} characters; the limit here is {limit}. Please shorten it.").format(
                    length=format_decimal(len(text), locale=locale),
                    limit=format_decimal(question.max_length, locale=locale),
                )
            )
        return text
    if question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        return _parse_number(question, text, locale)
    if question.type is QuestionType.DATE:
        return _parse_date(question, text, locale, today).isoformat()
    raise UseButtons(_("Please choose with the buttons under the question."))


def _parse_number(question: Question, text: str, locale: str) -> int:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    low, high = question.min, question.max
    bounds = {"min": format_decimal(low, locale=locale), "max": format_decimal(high, locale=locale)}
    if not re.fullmatch(r"[-+]?\d{1,9}", cleaned):
        raise InputError(_("Please send a whole number from {min} to {max}.").format(**bounds))
    value = int(cleaned)
    if not low <= value <= high:  # type: ignore[operator]
        raise InputError(_("The number must be from {min} to {max}.").format(**bounds))
    return value


def _parse_date(question: Question, text: str, locale: str, today: date) -> date:
    example = format_date(today, format="dd.MM.yyyy", locale=locale)
    for pattern in _DATE_FORMATS:
        match = pattern.match(text)
        if match:
            try:
                value = date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise InputError(_("There is no such date. Please check the day and the month.")) from None
            break
    else:
        raise InputError(_("Please send a date like {example}.").format(example=example))
    if question.past_only and value > today:
        raise InputError(_("This date cannot be in the future."))
    if question.future_only and value < today:
        raise InputError(_("This date cannot be in the past."))
    if not 1900 <= value.year <= today.year + 10:
        raise InputError(_("Please check the year."))
    return value


def parse_button(question: Question, value: str) -> Any:
    """Turn a tapped button's value into the answer, rejecting values the question doesn't have."""
    if question.type is QuestionType.SINGLE and question.option(value) is not None:
        return value
    if question.type is QuestionType.YESNO and value in (YES, NO):
        return value == YES
    if question.type is QuestionType.SCALE and value.lstrip("-").isdigit():
        number = int(value)
        if question.min <= number <= question.max:  # type: ignore[operator]
            return number
    raise InputError(_("This button does not belong to the question. Please use the buttons below it."))


def toggle(question: Question, selected: list[str], value: str) -> list[str]:
    """Add or remove an option of a multiple-choice question, respecting max_choices."""
    if question.option(value) is None:
        raise InputError(_("This button does not belong to the question. Please use the buttons below it."))
    if value in selected:
        return [s for s in selected if s != value]
    if question.max_choices is not None and len(selected) >= question.max_choices:
        raise InputError(
            _("You can choose at most {count}. Remove one first.").format(count=question.max_choices)
        )
    return [o.id for o in question.options if o.id in selected or o.id == value]


def finish_multi(question: Question, selected: list[str]) -> list[str]:
    """The final answer of a multiple-choice question."""
    if not selected:
        raise InputError(_("Choose at least one option, then press Done."))
    return selected
