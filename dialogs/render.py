"""How a questionnaire looks in the chat: question texts, answers and inline keyboards."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.callbacks import QuestionCb, button
from dialogs.runner import NO, YES, Position
from dialogs.schema import Question, Questionnaire, QuestionType


def pick(texts: dict[str, str], locale: str) -> str:
    """The text in the person's language (Russian when a language is missing)."""
    return texts.get(locale) or texts["ru"]


def format_answer(question: Question, value: Any, locale: str) -> str:
    """An answer as the person reads it."""
    if value is None:
        return _("(skipped)")
    if question.type is QuestionType.SINGLE:
        option = question.option(value)
        return pick(option.text, locale) if option else str(value)
    if question.type is QuestionType.MULTI:
        return ", ".join(pick(o.text, locale) for o in question.options if o.id in value)
    if question.type is QuestionType.YESNO:
        return _("Yes") if value else _("No")
    if question.type is QuestionType.DATE:
        return format_date(date.fromisoformat(value), format="long", locale=locale)
    if question.type in (QuestionType.NUMBER, QuestionType.SCALE):
        return format_decimal(value, locale=locale)
    return str(value)


def _how_to_answer(question: Question, locale: str) -> str:
    if question.type is QuestionType.TEXT:
        return _("Write your answer in a message (up to {limit} characters).").format(
            limit=format_decimal(question.max_length, locale=locale)
        )
    if question.type is QuestionType.NUMBER:
        return _("Send a number from {min} to {max}.").format(
            min=format_decimal(question.min, locale=locale), max=format_decimal(question.max, locale=locale)
        )
    if question.type is QuestionType.DATE:
        return _("Send a date, for example {example}.").format(
            example=format_date(date(2026, 9, 1), format="dd.MM.yyyy", locale=locale)
        )
    if question.type is QuestionType.MULTI:
        if question.max_choices:
            return _("Tap all that apply (up to {count}), then Done.").format(count=question.max_choices)
        return _("Tap all that apply, then Done.")
    if question.type is QuestionType.SCALE:
        low = pick(question.min_label, locale) if question.min_label else str(question.min)
        high = pick(question.max_label, locale) if question.max_label else str(question.max)
        return _("{min} — {low}, {max} — {high}.").format(
            min=question.min, low=low, max=question.max, high=high
        )
    return _("Tap one of the buttons.")


def question_text(
    q: Questionnaire, question: Question, pos: Position, answer: Any, answered: bool, locale: str
) -> str:
    """The message that asks one question."""
    lines = [f"{pos.index} / {pos.total}", "", pick(question.text, locale)]
    if question.hint:
        lines.append(pick(question.hint, locale))
    lines += ["", _how_to_answer(question, locale)]
    if answered:
        lines += ["", _("Current answer: {answer}").format(answer=format_answer(question, answer, locale))]
    return "\n".join(lines)


def question_keyboard(
    response_id: int,
    question: Question,
    locale: str,
    *,
    selected: list[str],
    answered: bool,
    can_go_back: bool,
) -> InlineKeyboardMarkup:
    """Answer buttons of the question, then navigation."""

    def cb(action: str, value: str = "") -> str:
        return QuestionCb(action=action, response=response_id, question=question.id, value=value).pack()

    rows: list[list[InlineKeyboardButton]] = []
    if question.type is QuestionType.SINGLE:
        rows = [[button(pick(o.text, locale), cb("a", o.id))] for o in question.options]
    elif question.type is QuestionType.MULTI:
        for option in question.options:
            mark = "✅ " if option.id in selected else "▫️ "
            rows.append([button(mark + pick(option.text, locale), cb("t", option.id))])
        rows.append([button(_("Done"), cb("d"))])
    elif question.type is QuestionType.YESNO:
        rows = [[button(_("Yes"), cb("a", YES)), button(_("No"), cb("a", NO))]]
    elif question.type is QuestionType.SCALE:
        values = range(question.min, question.max + 1)  # type: ignore[arg-type]
        rows = _rows([button(str(v), cb("a", str(v))) for v in values], 5)
    nav = []
    if can_go_back:
        nav.append(button(_("⬅️ Back"), cb("b")))
    if question.optional and not answered:
        nav.append(button(_("Skip"), cb("s")))
    if answered:
        nav.append(button(_("Next ➡️"), cb("n")))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def review_text(q: Questionnaire, answers: dict[str, Any], locale: str) -> str:
    """All answers, numbered, before submitting."""
    lines = [_("Please check your answers:"), ""]
    for index, question in enumerate(q.visible(answers), start=1):
        value = format_answer(question, answers[question.id], locale) if question.id in answers else "—"
        lines.append(f"{index}. {pick(question.text, locale)}\n— {value}")
    lines += ["", _("To change an answer, tap its number. When all is right, tap Submit.")]
    return "\n".join(lines)


def review_keyboard(response_id: int, q: Questionnaire, answers: dict[str, Any]) -> InlineKeyboardMarkup:
    """An edit button per answer and Submit."""
    edits = [
        button(f"✏️ {index}", QuestionCb(action="e", response=response_id, question=question.id).pack())
        for index, question in enumerate(q.visible(answers), start=1)
    ]
    rows = _rows(edits, 5)
    rows.append([button(_("✅ Submit"), QuestionCb(action="sub", response=response_id).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    """Buttons in rows of `width` (built directly: aiogram's keyboard builder deep-copies every button)."""
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


