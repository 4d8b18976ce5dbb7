"""The few calls that are Telegram's own: deep links, command menus, and what to do when a request fails.

Everything else in the bot uses inline keyboards and plain messages, which messenger adapters
(e.g. for MAX) translate by swapping the HTTP session; what differs lives here.

Failed requests: `RetryRequests` (on the bot's session) waits out a flood limit and tries a server error
again for everything said while handling an update; a timeout is not tried again (Telegram may have
delivered it; nothing is sent twice). The outbox (`bot.outbox`) paces and retries its own sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetUpdates,
    Response,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n

from bot.config import SUPPORTED_LOCALES
from storage.repos import Repositories

logger = logging.getLogger(__name__)
T = TypeVar("T")

REPLY_RETRY_DELAYS = (0.5, 2.0)  # seconds before the 2nd and 3rd try of a request after a server error
MAX_REPLY_WAIT = 30  # a longer flood wait is not waited out in a conversation: the request fails
# Set in a task whose requests retry on their own (the outbox's sends): `RetryRequests` leaves them alone.
own_retries: ContextVar[bool] = ContextVar("own_retries", default=False)


class RetryRequests(BaseRequestMiddleware):
    """The bot session's middleware: a request refused with 429 is made again after `retry_after` seconds
    (if at most `max_wait`), one that met a server error (5xx) after a short pause; up to
    `len(delays) + 1` tries in all. A timeout or any other error is not retried: the caller sees it (in a
    handler the error handler tells the person to try again; their data is already saved)."""

    def __init__(
        self, delays: Sequence[float] = REPLY_RETRY_DELAYS, max_wait: float = MAX_REPLY_WAIT
    ) -> None:
        self.delays = tuple(delays)
        self.max_wait = max_wait

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request, trying again as described above."""
        if isinstance(method, GetUpdates) or own_retries.get():
            return await make_request(bot, method)  # polling and the outbox have their own back-off
        for attempt in range(len(self.delays) + 1):
            last = attempt == len(self.delays)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if last or exc.retry_after > self.max_wait:
                    raise
                pause: float = exc.retry_after
            except TelegramServerError:
                if last:
                    raise
                pause = self.delays[attempt]
            logger.warning("%s refused (try %s): trying again in %s s", type(method).__name__, attempt + 1,
                           pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")


# The response model of every method the bot has called, kept for the life of the process (see below).
_response_models: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}

# What the bot calls: built at start-up (`build_models`) so that nobody's first tap waits for it.
METHODS_USED: tuple[type[TelegramMethod[Any]], ...] = (
    GetMe, GetUpdates, DeleteWebhook, SetMyCommands, SendMessage, EditMessageText, EditMessageReplyMarkup,
    AnswerCallbackQuery, SendDocument, SendPhoto,
)


def _keep_response_model(kind: type[TelegramMethod[Any]]) -> None:
    if kind not in _response_models:
        _response_models[kind] = Response[kind.__returning__]  # type: ignore[attr-defined]


def build_models(methods: Sequence[type[TelegramMethod[Any]]] = METHODS_USED) -> None:
    """Build the methods' models and their response models now rather than on first use (aiogram's models
    are built when first used: bot/aiogram_models.py); about half a second at start-up."""
    for kind in methods:
        kind.model_rebuild()
        _keep_response_model(kind)


class KeepResponseModels(BaseRequestMiddleware):
    """The session's middleware that keeps alive the response model of every method the bot has called.

    aiogram validates each API response with ``Response[<the method's result type>]``. pydantic keeps such a
    parametrised model only in a weak cache, so the garbage collector drops it between requests (the class
    is in reference cycles) and the next request builds it again: ~3 ms of CPU each time, 21 times in 760
    answers of the answer-path benchmark. Kept here, each is built once per process.
    """

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Keep the method's response model, then make the request."""
        _keep_response_model(type(method))
        return await make_request(bot, method)


class Capacity(StrEnum):
    """Something a person is to the bot; their command menu is the union of their capacities' commands."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    PARTICIPANT = "participant"
    MENTOR = "mentor"
    MENTEE = "mentee"
    OBSERVER = "observer"


# Every command in menu order, with the capacities that see it (empty: everyone).
_COMMANDS: tuple[tuple[str, frozenset[Capacity]], ...] = (
    ("start", frozenset()),
    ("orgs", frozenset({Capacity.ADMIN})),
    ("neworg", frozenset({Capacity.ADMIN})),
    ("programmes", frozenset({Capacity.ADMIN, Capacity.COORDINATOR})),
    ("newprogramme", frozenset({Capacity.ADMIN, Capacity.COORDINATOR})),
    ("digest", frozenset({Capacity.COORDINATOR})),  # an administrator who coordinates nothing has none
    ("questionnaire", frozenset({Capacity.PARTICIPANT})),
    ("mypairs", frozenset({Capacity.MENTOR})),
    ("mymentor", frozenset({Capacity.MENTEE})),
    ("mentees", frozenset({Capacity.OBSERVER})),
    ("language", frozenset()),
    ("mydata", frozenset()),
    ("help", frozenset()),
)


def menu_commands(capacities: frozenset[Capacity]) -> list[str]:
    """The commands of a person's menu, in order."""
    return [command for command, who in _COMMANDS if not who or who & capacities]


def _describe(i18n: I18n, command: str, locale: str) -> str:
    descriptions = {
        "start": i18n.gettext("Main menu", locale=locale),
        "language": i18n.gettext("Change language", locale=locale),
        "mydata": i18n.gettext("My data and consents", locale=locale),
        "help": i18n.gettext("Help", locale=locale),
        "questionnaire": i18n.gettext("My questionnaire", locale=locale),
        "mentees": i18n.gettext("Mentees and my notes", locale=locale),
        "programmes": i18n.gettext("Programmes and invite links", locale=locale),
        "newprogramme": i18n.gettext("Create a programme", locale=locale),
        "digest": i18n.gettext("My digest: when it comes", locale=locale),
        "mypairs": i18n.gettext("My mentees and our programme", locale=locale),
        "mymentor": i18n.gettext("My mentor", locale=locale),
        "orgs": i18n.gettext("Organisations", locale=locale),
        "neworg": i18n.gettext("Add an organisation", locale=locale),
    }
    return descriptions[command]


def _commands(i18n: I18n, capacities: frozenset[Capacity], locale: str) -> list[BotCommand]:
    return [BotCommand(command=c, description=_describe(i18n, c, locale)) for c in menu_commands(capacities)]


async def set_default_menus(bot: Bot, i18n: I18n) -> None:
    """The guest menu for everyone, in each supported language (default language unscoped)."""
    for locale in SUPPORTED_LOCALES:
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(
            _commands(i18n, frozenset(), locale),
            scope=BotCommandScopeDefault(),
            language_code=language,
        )


async def set_user_menu(
    bot: Bot, i18n: I18n, chat_id: int, capacities: frozenset[Capacity], locale: str
) -> None:
    """The menu of one person, in their language; failures are logged, never shown."""
    try:
        await bot.set_my_commands(
            _commands(i18n, capacities, locale), scope=BotCommandScopeChat(chat_id=chat_id)
        )
    except TelegramAPIError:
        logger.warning("could not set the command menu of chat %s", chat_id, exc_info=True)


async def start_link(bot: Bot, token: str) -> str:
    """`https://t.me/<bot>?start=<token>`."""
    return await create_start_link(bot, token)


async def deliver(repos: Repositories, chat_id: int, send: Callable[[], Awaitable[T]]) -> T | None:
    """Send something to a person (flood limits and server errors are retried by `RetryRequests`); mark
    users who blocked the bot; None if it could not be delivered."""
    try:
        return await send()
    except TelegramForbiddenError:
        logger.info("chat %s blocked the bot", chat_id)
        await repos.users.mark_blocked(chat_id)
    except TelegramRetryAfter as exc:
        logger.warning("could not deliver to chat %s: flood limit of %s s", chat_id, exc.retry_after)
    except TelegramAPIError:
        logger.exception("could not deliver to chat %s", chat_id)
    return None
