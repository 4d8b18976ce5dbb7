"""A person's way through a questionnaire: the cursor lives in FSM data, answers in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.context import FSMContext

from bot.states import Answering
from dialogs.runner import first_unanswered, neighbour
from dialogs.schema import Question, Questionnaire


@dataclass
class Cursor:
    """Which question is on screen (None: the review), and whether it was opened from the review."""

    response_id: int
    question_id: str | None
    editing: bool = False
    selected: list[str] = field(default_factory=list)

    @classmethod
    async def load(cls, state: FSMContext) -> Cursor | None:
        """The cursor of the questionnaire the person is in, if any."""
        if await state.get_state() != Answering.question.state:
            return None
        data = await state.get_data()
        if "response" not in data:
            return None
        return cls(data["response"], data.get("cursor"), data.get("editing", False), data.get("selected", []))

    async def save(self, state: FSMContext) -> None:
        """Store the cursor (in the database, through the FSM storage)."""
        await state.set_state(Answering.question)
        await state.set_data(
            {
                "response": self.response_id,
                "cursor": self.question_id,
                "editing": self.editing,
                "selected": self.selected,
            }
        )

    def question(self, q: Questionnaire, answers: dict[str, Any]) -> Question | None:
        """The question on screen, or None for the review (a hidden question falls back)."""
        if self.question_id is not None:
            current = q.question(self.question_id)
            if current is not None and current in q.visible(answers):
                return current
        return first_unanswered(q, answers)

    def start_at(self, question: Question | None, answers: dict[str, Any]) -> None:
        """Put a question on screen, with its multiple-choice selection preloaded."""
        self.question_id = question.id if question else None
        value = answers.get(question.id) if question else None
        self.selected = list(value) if isinstance(value, list) else []

    def advance(self, q: Questionnaire, answers: dict[str, Any], after: Question) -> None:
        """Move on after a question was answered, skipped or kept."""
        if self.editing:
            self.start_at(first_unanswered(q, answers), answers)
            return
        following = neighbour(q, answers, after.id, +1)
        self.start_at(following or first_unanswered(q, answers), answers)
