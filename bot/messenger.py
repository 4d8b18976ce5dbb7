"""The few calls that are Telegram's own: deep links and command menus.

Everything else in the bot uses inline keyboards and plain messages, which messenger adapters
(e.g. for MAX) translate by swapping the HTTP session; what differs lives here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n

from bot.config import SUPPORTED_LOCALES
from storage.repos import Repositories

logger = logging.getLogger(__name__)
T = TypeVar("T")


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
    ("digest", frozenset({Capacity.ADMIN, Capacity.COORDINATOR})),
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


async def deliver(
    repos: Repositories, chat_id: int, send: Callable[[], Awaitable[T]], attempts: int = 3
) -> T | None:
    """Send something to a person; wait out flood limits, mark users who blocked the bot."""
    for _ in range(attempts):
        try:
            return await send()
        except TelegramRetryAfter as exc:
            logger.warning("flood limit for chat %s: waiting %s s", chat_id, exc.retry_after)
            await asyncio.sleep(exc.retry_after)
        except TelegramForbiddenError:
            logger.info("chat %s blocked the bot", chat_id)
            await repos.users.mark_blocked(chat_id)
            return None
        except TelegramAPIError:
            logger.exception("could not deliver to chat %s", chat_id)
            return None
    return None
