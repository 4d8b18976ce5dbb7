"""The questionnaire runner in the chat: one question at a time, every answer saved at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import OpenQuestionnaireCb, QuestionCb
from bot.i18n import current_locale
from bot.states import Answering
from dialogs import render
from dialogs.runner import (
    InputError,
    UseButtons,
    finish_multi,
    hidden_answers,
    is_complete,
    neighbour,
    parse_button,
    parse_typed,
    toggle,
)
from dialogs.schema import Registry
from dialogs.session import Cursor
from handlers.notices import notify_coordinators, submitted_text
from handlers.preferences import offer_after_submit
from handlers.questionnaire_screen import (
    close_keyboard,
    open_questionnaire,
    registry_get,
    show,
)
from storage.db import utcnow
from storage.models import Participant, Response, ResponseStatus
from storage.repos import Repositories

logger = logging.getLogger(__name__)


async def _owned_response(
    call: CallbackQuery, repos: Repositories, response_id: int
) -> tuple[Response, Participant] | None:
    """The response behind a button, if it belongs to the person who tapped it."""
    response = await repos.responses.get(response_id)
    participant = await repos.participants.get(response.participant_id) if response else None
    if response is None or participant is None or participant.user_id != call.from_user.id:
        await call.answer(_("This button is not for you."), show_alert=True)
        return None
    if response.status is ResponseStatus.SUBMITTED:
        await call.answer(_("This questionnaire has already been submitted."), show_alert=True)
        return None
    return response, participant


async def on_open(
    call: CallbackQuery, callback_data: OpenQuestionnaireCb, bot: Bot, state: FSMContext,
    repos: Repositories, questionnaires: Registry,
) -> None:
    """Open the questionnaire of a participation from a button."""
    participant = await repos.participants.get(callback_data.participant)
    if participant is None or participant.user_id != call.from_user.id:
        await call.answer(_("This button is not for you."), show_alert=True)
        return
    await call.answer()
    await open_questionnaire(bot, call.from_user.id, state, repos, questionnaires, participant)


async def on_command(
    message: Message, bot: Bot, state: FSMContext, repos: Repositories, questionnaires: Registry
) -> None:
    """/questionnaire: resume the newest unfinished questionnaire, or say where things stand."""
    participations = await repos.participants.of_user(message.chat.id)
    if not participations:
        await message.answer(_("You are not in any programme yet. Open the invite link the coordinator "
                               "sent you."))
        return
    chosen = participations[0]
    for participant in participations:
        responses = await repos.responses.of_participant(participant.id)
        if not any(r.status is ResponseStatus.SUBMITTED for r in responses):
            chosen = participant
            break
    await open_questionnaire(bot, message.chat.id, state, repos, questionnaires, chosen)


async def on_button(
    call: CallbackQuery, callback_data: QuestionCb, bot: Bot, state: FSMContext,
    repos: Repositories, questionnaires: Registry,
) -> None:
    """Every tap inside a questionnaire: checked against the owner and the question on screen."""
    owned = await _owned_response(call, repos, callback_data.response)
    if owned is None:
        return
    response, _participant = owned
    q = registry_get(questionnaires, response)
    cursor = await Cursor.load(state)
    if cursor is None or cursor.response_id != response.id:
        cursor = Cursor(response.id, None)
    answers = response.answers
    current = cursor.question(q, answers)
    action = callback_data.action
    chat_id = call.from_user.id

    if action == "e":
        target = q.question(callback_data.question)
        if target is None or target not in q.visible(answers):
            await call.answer(_("This question is no longer part of the questionnaire."), show_alert=True)
            return
        await call.answer()
        cursor.editing = True
        cursor.start_at(target, answers)
        await close_keyboard(call.message)  # type: ignore[arg-type]
        await show(bot, chat_id, state, questionnaires, response, cursor)
        return
    if action == "sub":
        await _submit(call, bot, state, repos, questionnaires, response, cursor)
        return
    if current is None or callback_data.question != current.id:
        await call.answer(_("This button is from an earlier message. Here is where you are now."),
                          show_alert=True)
        await show(bot, chat_id, state, questionnaires, response, cursor)
        return
    try:
        note, answers = await _apply(action, callback_data.value, repos, response, cursor, current)
    except InputError as exc:
        await call.answer(str(exc), show_alert=True)
        return
    if action == "t":
        async def refresh() -> None:
            await cursor.save(state)
            markup = render.question_keyboard(
                response.id, current, current_locale(), selected=cursor.selected,
                answered=current.id in answers, can_go_back=neighbour(q, answers, current.id, -1) is not None,
            )
            if not isinstance(call.message, Message):  # too old for Telegram to give back: ask anew
                await show(bot, chat_id, state, questionnaires, response, cursor)
                return
            try:
                await call.message.edit_reply_markup(reply_markup=markup)
            except TelegramBadRequest:
                await show(bot, chat_id, state, questionnaires, response, cursor)

        await _together(bot(call.answer()), refresh())
        return
    response = replace(response, answers=answers)  # as now stored
    if action == "b":
        cursor.start_at(neighbour(q, response.answers, current.id, -1) or current, response.answers)
    else:
        cursor.advance(q, response.answers, current)
    # Whatever the tap changed is stored: the tap's answer, the old question's closing and the next question
    # go out together rather than one round trip after another (the person waits for the next question).
    await _together(
        bot(call.answer()),
        close_keyboard(call.message, note),  # type: ignore[arg-type]
        show(bot, chat_id, state, questionnaires, response, cursor),
    )


async def _together(*steps: Awaitable[Any]) -> None:
    """Run the steps concurrently and wait for all of them; then raise the first failure, if any."""
    for outcome in await asyncio.gather(*steps, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


async def _apply(
    action: str, value: str, repos: Repositories, response: Response, cursor: Cursor, current: Any
) -> tuple[str | None, dict[str, Any]]:
    """Carry out one tap on the question on screen; return the answer text to leave on the message and the
    answers as they are now stored."""
    locale = current_locale()
    if action in ("a", "d", "s"):
        if action == "a":
            answer = parse_button(current, value)
        elif action == "d":
            answer = finish_multi(current, cursor.selected)
        elif current.optional:
            answer = None
        else:
            raise InputError(_("This question needs an answer."))
        await repos.responses.save_answer(response.id, current.id, answer)
        return render.format_answer(current, answer, locale), {**response.answers, current.id: answer}
    if action == "t":
        cursor.selected = toggle(current, cursor.selected, value)
        return None, response.answers
    if action == "n":
        if current.id not in response.answers:
            raise InputError(_("This question needs an answer."))
        return None, response.answers
    if action == "b":
        return None, response.answers
    raise InputError(_("This button does not belong to the question. Please use the buttons below it."))


async def _submit(
    call: CallbackQuery, bot: Bot, state: FSMContext, repos: Repositories, registry: Registry,
    response: Response, cursor: Cursor,
) -> None:
    """Submit a complete questionnaire; an incomplete one goes to its first gap."""
    q = registry_get(registry, response)
    if not is_complete(q, response.answers):
        await call.answer(_("Some questions still need an answer."), show_alert=True)
        cursor.editing = True
        cursor.start_at(None, response.answers)
        await show(bot, call.from_user.id, state, registry, response, cursor)
        return
    await repos.responses.submit(response.id, drop=hidden_answers(q, response.answers))
    await state.clear()
    await call.answer()
    await close_keyboard(call.message)  # type: ignore[arg-type]
    participant = await repos.participants.get(response.participant_id)
    assert participant is not None
    if response.round_id is not None:  # a survey: the answers go to the coordinator's results
        await bot.send_message(call.from_user.id, _("Thank you! Your answers are saved."))
        return
    await bot.send_message(call.from_user.id, await submitted_text(repos, participant))
    await notify_coordinators(bot, repos, participant)
    await offer_after_submit(bot, repos, participant)


async def on_typed(
    message: Message, bot: Bot, state: FSMContext, repos: Repositories, questionnaires: Registry,
) -> None:
    """A message while a question is on screen: the answer to a text, number or date question."""
    cursor = await Cursor.load(state)
    response = await repos.responses.get(cursor.response_id) if cursor else None
    participant = await repos.participants.get(response.participant_id) if response else None
    if cursor is None or response is None or participant is None or participant.user_id != message.chat.id \
            or response.status is ResponseStatus.SUBMITTED:
        await state.clear()
        await message.answer(_("That questionnaire is closed. Send /start to see where you are."))
        return
    q = registry_get(questionnaires, response)
    current = cursor.question(q, response.answers)
    if current is None:
        await message.answer(_("All questions are answered: tap Submit, or a number to change an answer."))
        await show(bot, message.chat.id, state, questionnaires, response, cursor)
        return
    if message.text is None:
        await message.answer(_("I can only take text here. Please answer the question again:"))
        await show(bot, message.chat.id, state, questionnaires, response, cursor)
        return
    try:
        value = parse_typed(current, message.text, current_locale(), utcnow().date())
    except UseButtons as exc:
        await message.answer(str(exc))
        await show(bot, message.chat.id, state, questionnaires, response, cursor)
        return
    except InputError as exc:
        await message.answer(str(exc))
        return
    await repos.responses.save_answer(response.id, current.id, value)
    response = replace(response, answers={**response.answers, current.id: value})  # as now stored
    cursor.advance(q, response.answers, current)
    await show(bot, message.chat.id, state, questionnaires, response, cursor)


def router() -> Router:
    """Questionnaire commands, buttons and typed answers."""
    r = Router(name="questionnaire")
    r.message.register(on_command, Command("questionnaire"))
    r.callback_query.register(on_open, OpenQuestionnaireCb.filter())
    r.callback_query.register(on_button, QuestionCb.filter())
    r.message.register(on_typed, Answering.question, ~F.text.startswith("/"))
    return r
