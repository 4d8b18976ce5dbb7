"""Organisations in a hierarchy: an administrator places a school under an education department."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import OrgCb
from bot.config import Settings
from handlers.access import show_in_place
from handlers.org_card import org_card, org_for_admin
from storage.repos import Repositories

INDEPENDENT = "0"




async def on_choose(
    call: CallbackQuery, callback_data: OrgCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """Offer the departments this organisation can be placed under."""
    org = await org_for_admin(call, callback_data.org, settings, repos)
    if org is None:
        return
    below = await repos.organisations.subtree_ids(org.id)
    kb = InlineKeyboardBuilder()
    for candidate in await repos.organisations.list_all():
        if candidate.id not in below:
            kb.button(text=candidate.name[:60],
                      callback_data=OrgCb(action="setp", org=org.id, value=str(candidate.id)))
    kb.button(text=_("Independent (no department)"),
              callback_data=OrgCb(action="setp", org=org.id, value=INDEPENDENT))
    kb.button(text=_("Back"), callback_data=OrgCb(action="open", org=org.id))
    kb.adjust(1)
    await call.answer()
    await show_in_place(call, bot, _("Which education department is «{org}» part of? A department's "
                                     "coordinators see and run the programmes of every organisation under "
                                     "it.").format(org=org.name), kb.as_markup())


async def on_set(
    call: CallbackQuery, callback_data: OrgCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """Place the organisation under the chosen department, refusing loops."""
    org = await org_for_admin(call, callback_data.org, settings, repos)
    if org is None:
        return
    parent_id = int(callback_data.value) if callback_data.value.isdigit() else -1
    if parent_id != 0:
        parent = await repos.organisations.get(parent_id)
        if parent is None or parent.id in await repos.organisations.subtree_ids(org.id):
            await call.answer(_("This organisation cannot be placed there."), show_alert=True)
            return
    await repos.organisations.set_parent(org.id, parent_id or None)
    await call.answer()
    updated = await repos.organisations.get(org.id)
    await show_in_place(call, bot, *await org_card(repos, updated))  # type: ignore[arg-type]


def router() -> Router:
    """Department buttons of the organisation card."""
    r = Router(name="departments")
    r.callback_query.register(on_choose, OrgCb.filter(F.action == "dept"))
    r.callback_query.register(on_set, OrgCb.filter(F.action == "setp"))
    return r
