"""Who a person is to the bot, and their command menu."""

from __future__ import annotations

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.messenger import MenuRole, set_user_menu
from storage.repos import Repositories


async def menu_role(user_id: int, settings: Settings, repos: Repositories) -> MenuRole:
    """The highest role a person holds."""
    if user_id in settings.admin_ids:
        return MenuRole.ADMIN
    if await repos.organisations.of_coordinator(user_id):
        return MenuRole.COORDINATOR
    participant = bool(
        await repos.participants.of_user(user_id) or await repos.participants.of_guardian(user_id)
    )
    if await repos.observers.of_user(user_id):
        return MenuRole.PARTICIPANT_OBSERVER if participant else MenuRole.OBSERVER
    return MenuRole.PARTICIPANT if participant else MenuRole.GUEST


async def refresh_menu(
    bot: Bot, i18n: I18n, settings: Settings, repos: Repositories, user_id: int
) -> None:
    """Set the person's command menu for their role, in their language."""
    user = await repos.users.get(user_id)
    locale = user.language(i18n.default_locale) if user else i18n.default_locale
    await set_user_menu(bot, i18n, user_id, await menu_role(user_id, settings, repos), locale)
