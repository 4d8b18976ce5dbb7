"""The last line of defence: log every unhandled error with context; the person gets a calm message."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from storage.repos import Repositories

logger = logging.getLogger(__name__)


async def on_error(event: ErrorEvent, bot: Bot, repos: Repositories) -> None:
    """Log the error with the update; tell the person their saved data is safe. A person who blocked the bot
    while being answered is marked so (as the outbox does), not written to; an edit that would change nothing
    (a quick second tap) is no error."""
    update = event.update
    user = None
    if update.message:
        user = update.message.from_user
    elif update.callback_query:
        user = update.callback_query.from_user
    if user is not None and isinstance(event.exception, TelegramForbiddenError):
        logger.info("user %s blocked the bot while being answered (update %s)", user.id, update.update_id)
        await repos.users.mark_blocked(user.id)
        return
    error = event.exception
    if isinstance(error, TelegramBadRequest) and "message is not modified" in error.message:
        # A quick second tap asked for what the message already shows: nothing went wrong.
        logger.info("update %s from user %s: the message already shows this", update.update_id,
                    user.id if user else None)
        if update.callback_query:
            with contextlib.suppress(TelegramAPIError):  # already answered by the handler, most often
                await update.callback_query.answer()
        return
    logger.exception(
        "error while handling update %s from user %s: %s",
        update.update_id, user.id if user else None, event.exception,
        exc_info=event.exception,
    )
    if user is None:
        return
    text = _("Sorry, something went wrong on our side. Everything you saved is kept; please try "
             "again, or send /start.")
    try:
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await bot.send_message(user.id, text)
    except TelegramAPIError:
        logger.warning("could not tell user %s about the error", user.id)


def router() -> Router:
    """The error handler."""
    r = Router(name="errors")
    r.errors.register(on_error)
    return r
