"""Questionnaire data files: the real ones load; a broken one is named with its question."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.schema import QUESTIONNAIRES_DIR, QuestionnaireError, QuestionType, load_file, load_registry
from storage.models import FORMS, Role

GOOD = """
id = "{id}"
version = 1
role = "mentee"
forms = ["pupil_pupil"]
title = {{ ru = "Анкета", en = "Questionnaire" }}

[[questions]]
id = "grade"
type = "single"
text = {{ ru = "Класс?", en = "Grade?" }}
options = [{{ id = "g5", ru = "5", en = "5" }}, {{ id = "g6", ru = "6", en = "6" }}]
"""


def write(tmp_path: Path, body: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(GOOD.format(id=name) + body, encoding="utf-8")
    return path


def test_real_questionnaires_cover_every_role_and_form() -> None:
    registry = load_registry()
    for role in Role:
        for form in FORMS:
            q = registry.for_participant(role, form)
            assert q.role is role and form in q.forms
    types = {question.type for q in registry.by_id.values() for question in q.questions}
    assert types == set(QuestionType)


def test_real_questionnaires_share_matching_option_ids() -> None:
    registry = load_registry(QUESTIONNAIRES_DIR)
    for tag in ("format", "times"):
        option_sets = {
            tuple(sorted(o.id for o in question.options))
            for q in registry.by_id.values()
            for question in q.questions
            if question.match == tag
        }
        assert len(option_sets) == 1, tag


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[questions]]\nid = "age"\ntype = "number"\ntext = { ru = "Возраст", en = "Age" }\n',
         "question 'age': min and max must be integers"),
        ('[[questions]]\nid = "about"\ntype = "text"\ntext = { ru = "О себе" }\n',
         "question 'about': text has no 'en' text"),
        ('[[questions]]\nid = "x"\ntype = "slider"\ntext = { ru = "X", en = "X" }\n',
         "question 'x': type must be one of"),
        ('[[questions]]\nid = "why"\ntype = "text"\ntext = { ru = "Почему", en = "Why" }\n'
         'show_if = { question = "later", equals = true }\n',
         "question 'why': show_if refers to 'later'"),
        ('[[questions]]\nid = "g"\ntype = "text"\ntext = { ru = "Почему", en = "Why" }\n'
         'show_if = { question = "grade", equals = "g9" }\n',
         "question 'g': show_if value 'g9' is not an option"),
        ('[[questions]]\nid = "grade"\ntype = "yesno"\ntext = { ru = "Да?", en = "Yes?" }\n',
         "question 'grade': id 'grade' is used twice"),
        ('[[questions]]\nid = "s"\ntype = "scale"\ntext = { ru = "Оценка", en = "Score" }\n'
         'min = 0\nmax = 20\n',
         "question 's': a scale has at most 10 points"),
        ('[[questions]]\nid = "t"\ntype = "text"\ntext = { ru = "Т", en = "T" }\nmax_length = 99999\n',
         "question 't': max_length must be"),
    ],
)
def test_errors_name_file_and_question(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert str(info.value).startswith("sample.toml, ")
    assert message in str(info.value)


def test_invalid_toml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("id = [", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"^broken\.toml: not valid TOML"):
        load_file(path)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text(GOOD.format(id="sample"), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="must equal the file name"):
        load_file(path)


def test_missing_form_coverage_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "")
    with pytest.raises(QuestionnaireError, match="no mentor questionnaire for form 'pupil_pupil'"):
        load_registry(tmp_path)


def test_condition_on_yesno_and_multi(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[questions]]\nid = "before"\ntype = "yesno"\ntext = { ru = "Было?", en = "Before?" }\n'
        '[[questions]]\nid = "where"\ntype = "text"\ntext = { ru = "Где?", en = "Where?" }\n'
        "show_if = { question = \"before\", equals = true }\n",
    )
    q = load_file(path)
    assert [x.id for x in q.visible({"before": False})] == ["grade", "before"]
    assert [x.id for x in q.visible({"before": True})] == ["grade", "before", "where"]
