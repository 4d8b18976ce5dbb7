"""What the questionnaire shows: opening it, the question or review on screen, closing old keyboards."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import current_locale
from dialogs import render
from dialogs.runner import neighbour, position
from dialogs.schema import Questionnaire, Registry
from dialogs.session import Cursor
from handlers.notices import submitted_text
from storage.models import Participant, ParticipantStatus, Response, ResponseStatus
from storage.repos import Repositories

logger = logging.getLogger(__name__)


async def open_questionnaire(
    bot: Bot, chat_id: int, state: FSMContext, repos: Repositories, registry: Registry,
    participant: Participant,
) -> None:
    """Start or resume a participant's questionnaire at the first unanswered question."""
    locale = current_locale()
    if participant.status is not ParticipantStatus.ACTIVE:
        await bot.send_message(chat_id, _("Your parent's or legal representative's confirmation is "
                                          "still needed before the questionnaire. See /mydata."))
        return
    q = registry.for_participant(participant.role, participant.form)
    response = await repos.responses.start(participant.id, q.id, q.version)
    if response.status is ResponseStatus.SUBMITTED:
        await state.clear()
        await bot.send_message(chat_id, await submitted_text(repos, participant))
        return
    if not response.answers:
        intro = render.pick(q.title, locale)
        if q.intro:
            intro += "\n\n" + render.pick(q.intro, locale)
        await bot.send_message(chat_id, intro)
    cursor = Cursor(response.id, None)
    cursor.start_at(cursor.question(q, response.answers), response.answers)
    await show(bot, chat_id, state, registry, response, cursor)


async def open_survey(
    bot: Bot, chat_id: int, state: FSMContext, repos: Repositories, registry: Registry,
    participant: Participant, round_id: int, q: Questionnaire,
) -> None:
    """Start or resume a participant's answers to a survey round, like the questionnaire."""
    response = await repos.responses.start(participant.id, q.id, q.version, round_id)
    if response.status is ResponseStatus.SUBMITTED:
        await state.clear()
        await bot.send_message(chat_id, _("You have already answered this survey. Thank you!"))
        return
    if not response.answers:
        locale = current_locale()
        intro = render.pick(q.title, locale)
        if q.intro:
            intro += "\n\n" + render.pick(q.intro, locale)
        await bot.send_message(chat_id, intro)
    cursor = Cursor(response.id, None)
    cursor.start_at(cursor.question(q, response.answers), response.answers)
    await show(bot, chat_id, state, registry, response, cursor)


async def show(
    bot: Bot, chat_id: int, state: FSMContext, registry: Registry, response: Response, cursor: Cursor
) -> None:
    """Save the cursor, then send the question it points at (or the review)."""
    locale = current_locale()
    q = registry.get(response.questionnaire_id)
    assert q is not None
    answers = response.answers
    question = cursor.question(q, answers)
    if question is None:
        cursor.start_at(None, answers)
        await cursor.save(state)
        await bot.send_message(
            chat_id, render.review_text(q, answers, locale),
            reply_markup=render.review_keyboard(response.id, q, answers),
        )
        return
    if cursor.question_id != question.id:
        cursor.start_at(question, answers)
    await cursor.save(state)
    answered = question.id in answers
    await bot.send_message(
        chat_id,
        render.question_text(q, question, position(q, answers, question), answers.get(question.id),
                             answered, locale),
        reply_markup=render.question_keyboard(
            response.id, question, locale, selected=cursor.selected, answered=answered,
            can_go_back=neighbour(q, answers, question.id, -1) is not None,
        ),
    )




async def close_keyboard(message: Message | None, note: str | None = None) -> None:
    """Take the buttons off a message that is done with (its text gets the answer, if given)."""
    if message is None:
        return
    try:
        if note and message.text:
            await message.edit_text(f"{message.text}\n\n✅ {note}", reply_markup=None)
        else:
            await message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest:
        logger.debug("could not edit message %s", message.message_id)


def registry_get(registry: Registry, response: Response) -> Any:
    """The questionnaire a response answers."""
    q = registry.get(response.questionnaire_id)
    if q is None:
        raise LookupError(f"questionnaire {response.questionnaire_id!r} is not loaded")
    return q
