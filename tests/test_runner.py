"""The runner's logic: every question type's validation, navigation and conditions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from dialogs.runner import (
    InputError,
    UseButtons,
    finish_multi,
    first_unanswered,
    hidden_answers,
    neighbour,
    parse_button,
    parse_typed,
    position,
    toggle,
)
from dialogs.schema import Question, QuestionType, load_file

TODAY = date(2026, 11, 23)
DEFINITION = """
id = "demo"
version = 1
role = "mentee"
forms = ["pupil_pupil"]
title = { ru = "Анкета", en = "Questionnaire" }

[[questions]]
id = "about"
type = "text"
max_length = 20
text = { ru = "О себе", en = "About you" }

[[questions]]
id = "grade"
type = "single"
text = { ru = "Класс", en = "Grade" }
options = [{ id = "g7", ru = "7", en = "7" }, { id = "g8", ru = "8", en = "8" }]

[[questions]]
id = "topics"
type = "multi"
max_choices = 2
text = { ru = "Темы", en = "Topics" }
options = [{ id = "maths", ru = "Математика", en = "Maths" }, { id = "art", ru = "ИЗО", en = "Art" },
           { id = "it", ru = "ИТ", en = "IT" }]

[[questions]]
id = "mood"
type = "scale"
min = 1
max = 5
text = { ru = "Настроение", en = "Mood" }

[[questions]]
id = "hours"
type = "number"
min = 0
max = 40
text = { ru = "Часы", en = "Hours" }

[[questions]]
id = "since"
type = "date"
past_only = true
text = { ru = "С какого числа", en = "Since when" }

[[questions]]
id = "before"
type = "yesno"
text = { ru = "Было?", en = "Before?" }

[[questions]]
id = "where"
type = "text"
optional = true
text = { ru = "Где?", en = "Where?" }
show_if = { question = "before", equals = true }
"""


@pytest.fixture(autouse=True)
def english(i18n: I18n) -> Iterator[None]:
    with i18n.context(), i18n.use_locale("en"):
        yield


@pytest.fixture
def demo(tmp_path: Path):
    path = tmp_path / "demo.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    return load_file(path)


def q(demo, qid: str) -> Question:
    question = demo.question(qid)
    assert question is not None
    return question


def test_text_limits(demo) -> None:
    assert parse_typed(q(demo, "about"), "  I like chess  ", "en", TODAY) == "I like chess"
    with pytest.raises(InputError, match="empty"):
        parse_typed(q(demo, "about"), "   ", "en", TODAY)
    with pytest.raises(InputError, match="5,000 characters; the limit here is 20"):
        parse_typed(q(demo, "about"), "x" * 5000, "en", TODAY)


def test_number_and_scale_typed(demo) -> None:
    assert parse_typed(q(demo, "hours"), " 12 ", "en", TODAY) == 12
    assert parse_typed(q(demo, "mood"), "4", "en", TODAY) == 4
    for bad in ("twelve", "1.5", "", "1e3"):
        with pytest.raises(InputError, match="whole number from 0 to 40"):
            parse_typed(q(demo, "hours"), bad, "en", TODAY)
    with pytest.raises(InputError, match="from 0 to 40"):
        parse_typed(q(demo, "hours"), "41", "en", TODAY)


def test_dates(demo) -> None:
    since = q(demo, "since")
    assert parse_typed(since, "01.09.2025", "en", TODAY) == "2025-09-01"
    assert parse_typed(since, "2025-09-01", "en", TODAY) == "2025-09-01"
    with pytest.raises(InputError, match="no such date"):
        parse_typed(since, "31.02.2026", "en", TODAY)
    with pytest.raises(InputError, match=r"like 23\.11\.2026"):
        parse_typed(since, "yesterday", "en", TODAY)
    with pytest.raises(InputError, match="future"):
        parse_typed(since, "01.12.2026", "en", TODAY)


def test_buttons_only_questions_reject_text(demo) -> None:
    for qid in ("grade", "topics", "before"):
        with pytest.raises(UseButtons):
            parse_typed(q(demo, qid), "8", "en", TODAY)


def test_button_values_are_checked(demo) -> None:
    assert parse_button(q(demo, "grade"), "g8") == "g8"
    assert parse_button(q(demo, "before"), "1") is True
    assert parse_button(q(demo, "before"), "0") is False
    assert parse_button(q(demo, "mood"), "5") == 5
    for qid, forged in (("grade", "g99"), ("before", "maybe"), ("mood", "6"), ("mood", "x"), ("hours", "3")):
        with pytest.raises(InputError):
            parse_button(q(demo, qid), forged)


def test_multi_toggle_keeps_option_order_and_limit(demo) -> None:
    topics = q(demo, "topics")
    selected = toggle(topics, [], "art")
    selected = toggle(topics, selected, "maths")
    assert selected == ["maths", "art"]
    with pytest.raises(InputError, match="at most 2"):
        toggle(topics, selected, "it")
    assert toggle(topics, selected, "art") == ["maths"]
    with pytest.raises(InputError):
        toggle(topics, selected, "forged")
    with pytest.raises(InputError, match="at least one"):
        finish_multi(topics, [])


def test_navigation_and_conditions(demo) -> None:
    answers: dict = {"about": "hi", "grade": "g7"}
    assert first_unanswered(demo, answers).id == "topics"
    assert position(demo, answers, q(demo, "topics")).index == 3
    assert position(demo, answers, q(demo, "topics")).total == 7
    answers.update(topics=["it"], mood=3, hours=2, since="2025-01-01", before=True)
    assert position(demo, answers, q(demo, "where")).total == 8
    assert first_unanswered(demo, answers).id == "where"
    assert neighbour(demo, answers, "where", -1).id == "before"
    assert neighbour(demo, answers, "about", -1) is None
    answers["where"] = "school club"
    answers["before"] = False
    assert first_unanswered(demo, answers) is None
    assert hidden_answers(demo, answers) == ["where"]


def test_question_type_enum_is_complete() -> None:
    assert {t.value for t in QuestionType} == {"text", "single", "multi", "scale", "number", "date", "yesno"}
