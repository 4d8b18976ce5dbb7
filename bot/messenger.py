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


class MenuRole(StrEnum):
    """Which command menu a person sees."""

    GUEST = "guest"
    PARTICIPANT = "participant"
    OBSERVER = "observer"
    PARTICIPANT_OBSERVER = "participant_observer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


# Commands per menu, in order. Descriptions are translated when the menu is set.
_COMMON = ("start", "language", "mydata", "help")
_MENUS: dict[MenuRole, tuple[str, ...]] = {
    MenuRole.GUEST: _COMMON,
    MenuRole.PARTICIPANT: ("start", "questionnaire", "language", "mydata", "help"),
    MenuRole.OBSERVER: ("start", "mentees", "language", "mydata", "help"),
    MenuRole.PARTICIPANT_OBSERVER: ("start", "questionnaire", "mentees", "language", "mydata", "help"),
    MenuRole.COORDINATOR: ("start", "programmes", "newprogramme", "language", "mydata", "help"),
    MenuRole.ADMIN: ("start", "orgs", "neworg", "programmes", "newprogramme", "language", "mydata", "help"),
}


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
        "orgs": i18n.gettext("Organisations", locale=locale),
        "neworg": i18n.gettext("Add an organisation", locale=locale),
    }
    return descriptions[command]


def _commands(i18n: I18n, role: MenuRole, locale: str) -> list[BotCommand]:
    return [BotCommand(command=c, description=_describe(i18n, c, locale)) for c in _MENUS[role]]


async def set_default_menus(bot: Bot, i18n: I18n) -> None:
    """The guest menu for everyone, in each supported language (default language unscoped)."""
    for locale in SUPPORTED_LOCALES:
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(
            _commands(i18n, MenuRole.GUEST, locale),
            scope=BotCommandScopeDefault(),
            language_code=language,
        )


async def set_user_menu(bot: Bot, i18n: I18n, chat_id: int, role: MenuRole, locale: str) -> None:
    """The menu of one person, in their language; failures are logged, never shown."""
    try:
        await bot.set_my_commands(
            _commands(i18n, role, locale), scope=BotCommandScopeChat(chat_id=chat_id)
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
