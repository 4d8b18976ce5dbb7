"""The organisation card an administrator works from, and the check behind its buttons."""

from __future__ import annotations

from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import OrgCb
from bot.config import Settings
from bot.labels import timezone_label
from handlers.access import admins_only_text, is_admin, refuse
from storage.models import Organisation
from storage.repos import Repositories


async def department_lines(repos: Repositories, org: Organisation) -> str:
    """Extra card lines: the department above and the organisations below (empty when neither)."""
    lines = []
    if org.parent_id is not None:
        parent = await repos.organisations.get(org.parent_id)
        if parent is not None:
            lines.append(_("Part of: {department}").format(department=parent.name))
    children = await repos.organisations.children(org.id)
    if children:
        lines.append(_("Organisations under it: {names}").format(names=", ".join(c.name for c in children)))
    return "".join("\n" + line for line in lines)

async def org_card(repos: Repositories, org: Organisation) -> tuple[str, InlineKeyboardMarkup]:
    """The organisation's card and its buttons."""
    coordinators = await repos.organisations.coordinators(org.id)
    programmes = await repos.programmes.of_organisation(org.id)
    text = _(
        "Organisation: {name}\nTime zone: {timezone}\nCoordinators: {coordinators}\nProgrammes: {programmes}"
    ).format(
        name=org.name,
        timezone=timezone_label(org.timezone),
        coordinators=", ".join(c.full_name for c in coordinators) or _("none yet"),
        programmes=len(programmes),
    )
    text += await department_lines(repos, org)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Invite a coordinator"), callback_data=OrgCb(action="link", org=org.id))
    kb.button(text=_("Department…"), callback_data=OrgCb(action="dept", org=org.id))
    kb.button(text=_("All organisations"), callback_data=OrgCb(action="list"))
    kb.adjust(1)
    return text, kb.as_markup()

async def org_for_admin(call: CallbackQuery, org_id: int, settings: Settings,
                         repos: Repositories) -> Organisation | None:
    """The organisation of a button, after checking the person is an administrator."""
    if not is_admin(call.from_user.id, settings):
        await refuse(call, admins_only_text())
        return None
    org = await repos.organisations.get(org_id)
    if org is None:
        await call.answer(_("This organisation no longer exists."), show_alert=True)
    return org
