"""Anything no other handler took: a clear hint, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


async def on_message(message: Message) -> None:
    """Unknown command, or text/media outside any conversation."""
    if message.text and message.text.startswith("/"):
        await message.answer(_("I don't know this command. /help — what I can do."))
        return
    await message.answer(_("I didn't expect a message here. /start — main menu, /help — help."))


async def on_callback(call: CallbackQuery) -> None:
    """A button from an old message, or data the bot never sent."""
    await call.answer(_("This button is out of date. Send /start to see where you are."), show_alert=True)


def router() -> Router:
    """The fallback, included last."""
    r = Router(name="fallback")
    r.message.register(on_message)
    r.callback_query.register(on_callback)
    return r
