"""Who a person is to the bot, and their command menu."""

from __future__ import annotations

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.messenger import Capacity, set_user_menu
from storage.repos import Repositories


async def capacities(user_id: int, settings: Settings, repos: Repositories) -> frozenset[Capacity]:
    """Everything a person is to the bot: administrator, coordinator, mentor or mentee, observer (a minor's
    parent needs no commands beyond everyone's)."""
    found: set[Capacity] = set()
    if user_id in settings.admin_ids:
        found.add(Capacity.ADMIN)
    if await repos.organisations.of_coordinator(user_id):
        found.add(Capacity.COORDINATOR)
    for participant in await repos.participants.of_user(user_id):
        found |= {Capacity.PARTICIPANT, Capacity(participant.role.value)}
    if await repos.observers.of_user(user_id):
        found.add(Capacity.OBSERVER)
    return frozenset(found)


async def refresh_menu(
    bot: Bot, i18n: I18n, settings: Settings, repos: Repositories, user_id: int
) -> None:
    """Set the person's command menu for their role, in their language."""
    user = await repos.users.get(user_id)
    locale = user.language(i18n.default_locale) if user else i18n.default_locale
    await set_user_menu(bot, i18n, user_id, await capacities(user_id, settings, repos), locale)
