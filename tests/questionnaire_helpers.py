"""Answering whatever question is on screen, the way a person would, for conversation tests."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey

from dialogs.schema import Question, QuestionType, Registry
from storage.repos import Repositories
from tests.client import TgUser


async def cursor(dp: Dispatcher, bot: Bot, user_id: int) -> dict:
    """The questionnaire cursor stored for a user (FSM data in the database)."""
    return await dp.storage.get_data(StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id))


async def current_question(
    dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, user_id: int
) -> Question | None:
    """The question on the user's screen (None: the review)."""
    data = await cursor(dp, bot, user_id)
    response = await repos.responses.get(data["response"])
    q = registry.get(response.questionnaire_id)
    return q.question(data["cursor"]) if data.get("cursor") else None


async def answer(user: TgUser, question: Question, locale: str = "en") -> None:
    """Give a valid answer to the question on screen."""
    if question.type is QuestionType.SINGLE:
        await user.click(question.options[0].text[locale])
    elif question.type is QuestionType.MULTI:
        await user.click(question.options[0].text[locale])
        await user.click("Done" if locale == "en" else "Готово")
    elif question.type is QuestionType.YESNO:
        await user.click("No" if locale == "en" else "Нет")
    elif question.type is QuestionType.SCALE:
        await user.click(str(question.max))
    elif question.type is QuestionType.NUMBER:
        await user.send(str(question.min))
    elif question.type is QuestionType.DATE:
        await user.send("01.09.2025" if question.past_only or not question.future_only else "01.09.2030")
    else:
        await user.send("A short answer")


async def answer_all(
    user: TgUser, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, locale: str = "en"
) -> int:
    """Answer questions until the review is on screen; return how many were answered."""
    answered = 0
    while (question := await current_question(dp, bot, repos, registry, user.id)) is not None:
        await answer(user, question, locale)
        answered += 1
        assert answered < 40, "the questionnaire does not end"
    return answered
