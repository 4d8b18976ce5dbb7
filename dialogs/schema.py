"""Questionnaire definitions: loaded from TOML data files and validated at start-up."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.config import SUPPORTED_LOCALES
from storage.models import FORMS, Role

QUESTIONNAIRES_DIR = Path(__file__).resolve().parent / "questionnaires"
_ID = re.compile(r"^[a-z0-9_]+$")
MAX_TEXT_LENGTH = 3000
DEFAULT_TEXT_LENGTH = 1000


class QuestionType(StrEnum):
    """What kind of answer a question takes."""

    TEXT = "text"
    SINGLE = "single"
    MULTI = "multi"
    SCALE = "scale"
    NUMBER = "number"
    DATE = "date"
    YESNO = "yesno"


class Kind(StrEnum):
    """What a definition is for: the questionnaire people fill in when joining, or one of the surveys."""

    QUESTIONNAIRE = "questionnaire"  # the mentor/mentee questionnaire matching reads
    FEEDBACK = "feedback"  # short, repeated during the pair work
    ASSESSMENT = "assessment"  # self-assessment on the same parameters before and after the work
    SATISFACTION = "satisfaction"  # the methodology's satisfaction survey at the end (items 1–10)
    QUALITY = "quality"  # the programme-quality survey at the end


class QuestionnaireError(Exception):
    """A definition file is wrong; the message names the file and the question."""


Texts = dict[str, str]


@dataclass(frozen=True)
class Option:
    """One choice of a single- or multiple-choice question."""

    id: str
    text: Texts


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier answer matches."""

    question: str
    values: tuple[Any, ...]

    def holds(self, answers: dict[str, Any]) -> bool:
        """Whether the earlier answer is one of the values (for multi: shares one)."""
        answer = answers.get(self.question)
        if isinstance(answer, list):
            return any(a in self.values for a in answer)
        return answer is not None and answer in self.values


@dataclass(frozen=True)
class Question:
    """One question of a questionnaire."""

    id: str
    type: QuestionType
    text: Texts
    hint: Texts | None = None
    optional: bool = False
    match: str | None = None
    param: str | None = None  # an assessment parameter (motivation, confidence…) compared before and after
    options: tuple[Option, ...] = ()
    max_choices: int | None = None
    max_length: int = DEFAULT_TEXT_LENGTH
    min: int | None = None
    max: int | None = None
    min_label: Texts | None = None
    max_label: Texts | None = None
    past_only: bool = False
    future_only: bool = False
    show_if: Condition | None = None

    def option(self, option_id: str) -> Option | None:
        """The option with this id."""
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Questionnaire:
    """A questionnaire for one role and some forms of mentoring."""

    id: str
    version: int
    role: Role
    forms: tuple[str, ...]
    title: Texts
    intro: Texts | None
    questions: tuple[Question, ...]
    source: Path = field(compare=False)
    kind: Kind = Kind.QUESTIONNAIRE

    def params(self) -> list[str]:
        """The assessment parameters its questions measure, in order."""
        return [q.param for q in self.questions if q.param is not None]

    def question(self, question_id: str) -> Question | None:
        """The question with this id."""
        return next((q for q in self.questions if q.id == question_id), None)

    def visible(self, answers: dict[str, Any]) -> list[Question]:
        """The questions shown given the answers so far."""
        return [q for q in self.questions if q.show_if is None or q.show_if.holds(answers)]


class Registry:
    """Every questionnaire, found by id or by (role, form)."""

    def __init__(self, questionnaires: list[Questionnaire]) -> None:
        self.by_id = {q.id: q for q in questionnaires}
        self._by_kind = {(q.kind, q.role, f): q for q in questionnaires for f in q.forms}
        # An assessment asks only the parameters a programme chose: every such version is known by id, so a
        # response to one finds its questions (after a restart too).
        for q in questionnaires:
            for variant in _assessment_variants(q):
                self.by_id[variant.id] = variant

    def assessment(self, q: Questionnaire, params: tuple[str, ...] | None) -> Questionnaire:
        """The assessment with only the chosen parameters' questions (the file itself for all or none)."""
        chosen = [p for p in q.params() if params is None or p in params]
        if not chosen or len(chosen) == len(q.params()):
            return q
        return self.by_id[_variant_id(q, chosen)]

    def get(self, questionnaire_id: str) -> Questionnaire | None:
        """The questionnaire with this id."""
        return self.by_id.get(questionnaire_id)

    def for_participant(self, role: Role, form: str) -> Questionnaire:
        """The questionnaire a mentor or mentee of a form fills in."""
        return self._by_kind[(Kind.QUESTIONNAIRE, role, form)]

    def survey(self, kind: Kind, role: Role, form: str) -> Questionnaire | None:
        """The survey of a kind for a mentor or mentee of a form (None when the project has none)."""
        return self._by_kind.get((kind, role, form))


def _variant_id(q: Questionnaire, params: list[str]) -> str:
    return q.id + "~" + "+".join(params)


def _assessment_variants(q: Questionnaire) -> list[Questionnaire]:
    """Every version of an assessment asking a proper, non-empty subset of its parameters."""
    params = q.params() if q.kind is Kind.ASSESSMENT else []
    found = []
    for mask in range(1, 2 ** len(params) - 1):
        chosen = [p for i, p in enumerate(params) if mask >> i & 1]
        questions = tuple(x for x in q.questions if x.param is None or x.param in chosen)
        found.append(replace(q, id=_variant_id(q, chosen), questions=questions))
    return found


def load_registry(folder: Path = QUESTIONNAIRES_DIR) -> Registry:
    """Load and validate every `*.toml` in the folder; every (role, form) must be covered once."""
    questionnaires = [load_file(path) for path in sorted(folder.glob("*.toml"))]
    seen: dict[tuple[Kind, Role, str], str] = {}
    for q in questionnaires:
        for form in q.forms:
            if (q.kind, q.role, form) in seen:
                raise QuestionnaireError(f"{q.source.name}: form {form!r} for {q.role} is already served by "
                                         f"{seen[(q.kind, q.role, form)]}")
            seen[(q.kind, q.role, form)] = q.source.name
    # The questionnaire, and every kind of survey the project defines, serve every role and form.
    for kind in {q.kind for q in questionnaires} | {Kind.QUESTIONNAIRE}:
        for role in Role:
            for form in FORMS:
                if (kind, role, form) not in seen:
                    raise QuestionnaireError(f"{folder}: no {role} {kind} for form {form!r}")
    return Registry(questionnaires)


def load_file(path: Path) -> Questionnaire:
    """Parse and validate one definition file."""
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(f"{path.name}: not valid TOML: {exc}") from None
    return _Parser(path).questionnaire(raw)


class _Parser:
    """Turns raw TOML into dataclasses, naming the file and question in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = path.name

    def fail(self, message: str) -> QuestionnaireError:
        return QuestionnaireError(f"{self.where}: {message}")

    def texts(self, raw: object, what: str, limit: int = 1000) -> Texts:
        if not isinstance(raw, dict):
            raise self.fail(f"{what} must be a table with {' and '.join(SUPPORTED_LOCALES)} texts")
        for locale in SUPPORTED_LOCALES:
            text = raw.get(locale)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{what} has no {locale!r} text")
            if len(text) > limit:
                raise self.fail(f"{what} in {locale!r} is longer than {limit} characters")
        return {locale: raw[locale].strip() for locale in SUPPORTED_LOCALES}

    def ident(self, raw: object, what: str, limit: int) -> str:
        if not isinstance(raw, str) or not _ID.match(raw) or len(raw) > limit:
            raise self.fail(f"{what} must be [a-z0-9_] and at most {limit} characters, got {raw!r}")
        return raw

    def integer(self, raw: dict[str, Any], key: str, default: int | None = None) -> int | None:
        value = raw.get(key, default)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.fail(f"{key} must be an integer")
        return value

    def questionnaire(self, raw: dict[str, Any]) -> Questionnaire:
        qid = self.ident(raw.get("id"), "id", 24)
        if qid != self.path.stem:
            raise self.fail(f"id {qid!r} must equal the file name {self.path.stem!r}")
        version = self.integer(raw, "version")
        if version is None or version < 1:
            raise self.fail("version must be a positive integer")
        try:
            role = Role(raw.get("role"))
        except ValueError:
            raise self.fail("role must be 'mentor' or 'mentee'") from None
        forms = raw.get("forms")
        if not isinstance(forms, list) or not forms or any(f not in FORMS for f in forms):
            raise self.fail(f"forms must be a non-empty list of {', '.join(FORMS)}")
        try:
            kind = Kind(raw.get("kind", Kind.QUESTIONNAIRE))
        except ValueError:
            raise self.fail(f"kind must be one of {', '.join(Kind)}") from None
        title = self.texts(raw.get("title"), "title", 100)
        intro = self.texts(raw["intro"], "intro") if "intro" in raw else None
        raw_questions = raw.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            raise self.fail("there must be at least one [[questions]]")
        questions: list[Question] = []
        for index, raw_q in enumerate(raw_questions, start=1):
            self.where = f"{self.path.name}, question {index}"
            if isinstance(raw_q, dict) and isinstance(raw_q.get("id"), str):
                self.where = f"{self.path.name}, question {raw_q['id']!r}"
            questions.append(self.question(raw_q, questions))
        self.where = self.path.name
        if kind is Kind.ASSESSMENT:
            params = [q.param for q in questions if q.type is QuestionType.SCALE]
            if None in params or not params:
                raise self.fail("every scale question of an assessment needs a `param`")
        return Questionnaire(
            qid, version, role, tuple(forms), title, intro, tuple(questions), self.path, kind
        )

    def question(self, raw: object, earlier: list[Question]) -> Question:
        if not isinstance(raw, dict):
            raise self.fail("must be a table")
        qid = self.ident(raw.get("id"), "id", 16)
        if any(q.id == qid for q in earlier):
            raise self.fail(f"id {qid!r} is used twice")
        try:
            qtype = QuestionType(raw.get("type"))
        except ValueError:
            raise self.fail(f"type must be one of {', '.join(QuestionType)}") from None
        known = {"id", "type", "text", "hint", "optional", "match", "param", "show_if"} | _TYPE_KEYS[qtype]
        unknown = set(raw) - known
        if unknown:
            raise self.fail(f"unknown keys for a {qtype} question: {', '.join(sorted(unknown))}")
        kwargs: dict[str, Any] = {
            "id": qid,
            "type": qtype,
            "text": self.texts(raw.get("text"), "text", 300),
            "hint": self.texts(raw["hint"], "hint", 300) if "hint" in raw else None,
            "optional": bool(raw.get("optional", False)),
            "match": self.ident(raw["match"], "match", 16) if "match" in raw else None,
            "param": self.ident(raw["param"], "param", 24) if "param" in raw else None,
        }
        kwargs.update(self.typed(qtype, raw))
        if "show_if" in raw:
            kwargs["show_if"] = self.condition(raw["show_if"], earlier)
        return Question(**kwargs)

    def typed(self, qtype: QuestionType, raw: dict[str, Any]) -> dict[str, Any]:
        if qtype is QuestionType.TEXT:
            length = self.integer(raw, "max_length", DEFAULT_TEXT_LENGTH)
            if not 1 <= length <= MAX_TEXT_LENGTH:  # type: ignore[operator]
                raise self.fail(f"max_length must be 1..{MAX_TEXT_LENGTH}")
            return {"max_length": length}
        if qtype in (QuestionType.SINGLE, QuestionType.MULTI):
            options = self.options(raw.get("options"))
            extra: dict[str, Any] = {"options": options}
            if qtype is QuestionType.MULTI and "max_choices" in raw:
                extra["max_choices"] = self.integer(raw, "max_choices")
                if not 1 <= extra["max_choices"] <= len(options):
                    raise self.fail("max_choices must be between 1 and the number of options")
            return extra
        if qtype in (QuestionType.SCALE, QuestionType.NUMBER):
            low, high = self.integer(raw, "min"), self.integer(raw, "max")
            if low is None or high is None or low >= high:
                raise self.fail("min and max must be integers with min < max")
            if qtype is QuestionType.SCALE and high - low > 9:
                raise self.fail("a scale has at most 10 points (max - min <= 9)")
            extra = {"min": low, "max": high}
            for key in ("min_label", "max_label"):
                if key in raw:
                    extra[key] = self.texts(raw[key], key, 40)
            return extra
        if qtype is QuestionType.DATE:
            past, future = bool(raw.get("past_only")), bool(raw.get("future_only"))
            if past and future:
                raise self.fail("a date cannot be both past_only and future_only")
            return {"past_only": past, "future_only": future}
        return {}

    def options(self, raw: object) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not 2 <= len(raw) <= 16:
            raise self.fail("options must be a list of 2..16 tables")
        options: list[Option] = []
        for item in raw:
            if not isinstance(item, dict):
                raise self.fail("each option must be a table with id, ru and en")
            oid = self.ident(item.get("id"), "option id", 12)
            if any(o.id == oid for o in options):
                raise self.fail(f"option id {oid!r} is used twice")
            texts = self.texts({k: v for k, v in item.items() if k != "id"}, f"option {oid!r}", 40)
            options.append(Option(oid, texts))
        return tuple(options)

    def condition(self, raw: object, earlier: list[Question]) -> Condition:
        if not isinstance(raw, dict) or "question" not in raw:
            raise self.fail("show_if must be a table with question and equals or any_of")
        source = next((q for q in earlier if q.id == raw["question"]), None)
        if source is None:
            raise self.fail(f"show_if refers to {raw['question']!r}, which is not an earlier question")
        if ("equals" in raw) == ("any_of" in raw):
            raise self.fail("show_if needs exactly one of equals or any_of")
        values = (raw["equals"],) if "equals" in raw else raw["any_of"]
        if not isinstance(values, list | tuple) or not values:
            raise self.fail("show_if any_of must be a non-empty list")
        for value in values:
            if source.type is QuestionType.YESNO and not isinstance(value, bool):
                raise self.fail("show_if on a yes/no question compares with true or false")
            if source.options and source.option(str(value)) is None:
                raise self.fail(f"show_if value {value!r} is not an option of {source.id!r}")
        return Condition(source.id, tuple(values))


_TYPE_KEYS: dict[QuestionType, set[str]] = {
    QuestionType.TEXT: {"max_length"},
    QuestionType.SINGLE: {"options"},
    QuestionType.MULTI: {"options", "max_choices"},
    QuestionType.SCALE: {"min", "max", "min_label", "max_label"},
    QuestionType.NUMBER: {"min", "max"},
    QuestionType.DATE: {"past_only", "future_only"},
    QuestionType.YESNO: set(),
}
