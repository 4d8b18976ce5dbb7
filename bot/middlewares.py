"""Update middlewares: handle each update once, and know who is talking."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from bot.i18n import normalise_locale
from storage.repos import Repositories

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DeduplicateMiddleware(BaseMiddleware):
    """Skip an update whose id was already taken (Telegram may deliver an update twice)."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Claim the update id in the database before handling."""
        assert isinstance(event, Update)
        if not await self.repos.updates.claim(event.update_id):
            logger.info("update %s delivered again: skipped", event.update_id)
            return None
        return await handler(event, data)


class UserMiddleware(BaseMiddleware):
    """Load the user the update comes from (created on first contact) as `user`."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Put the stored user into the handler data."""
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is not None and not tg_user.is_bot:
            data["user"] = await self.repos.users.seen(
                tg_user.id, normalise_locale(tg_user.language_code)
            )
        return await handler(event, data)
