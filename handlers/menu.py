"""The main menu: what each person can do next, by role."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import OpenQuestionnaireCb
from bot.config import Settings
from bot.labels import role_label
from handlers.notices import questionnaire_status
from storage.models import ParticipantStatus
from storage.repos import Repositories


async def send_main_menu(message: Message, settings: Settings, repos: Repositories) -> None:
    """Greet the person and list their programmes and commands."""
    user_id = message.chat.id
    lines = [_("Hello! I am Nastavnik, the bot of school mentoring programmes.")]
    kb = InlineKeyboardBuilder()
    if user_id in settings.admin_ids:
        lines.append(_("You are an administrator: /orgs — organisations, /neworg — add one."))
    orgs = await repos.organisations.of_coordinator(user_id)
    if orgs:
        lines.append(_("You coordinate: {orgs}. /programmes — programmes and invite links, "
                       "/newprogramme — create one.").format(orgs=", ".join(o.name for o in orgs)))
    for participant in await repos.participants.of_user(user_id):
        programme = await repos.programmes.get(participant.programme_id)
        title = programme.title if programme else ""
        if participant.status is ParticipantStatus.PARENT_PENDING:
            status = _("waiting for your parent's confirmation")
        else:
            status = await questionnaire_status(repos, participant)
            kb.button(
                text=_("Questionnaire: {programme}").format(programme=title),
                callback_data=OpenQuestionnaireCb(participant=participant.id),
            )
        lines.append(_("«{programme}», {role}: {status}.").format(
            programme=title, role=role_label(participant.role), status=status
        ))
    for observer in await repos.observers.of_user(user_id):
        programme = await repos.programmes.get(observer.programme_id)
        lines.append(_("You observe «{programme}»: /mentees — its mentees and your notes.").format(
            programme=programme.title if programme else ""
        ))
    for child in await repos.participants.of_guardian(user_id):
        lines.append(_("You confirmed consent for {name}.").format(name=child.full_name))
    if len(lines) == 1:
        lines.append(_("To join a mentoring programme, open the invite link your school's coordinator "
                       "sent you."))
    lines.append(_("/mydata — what is stored about you, /language — change the language, /help — help."))
    kb.adjust(1)
    await message.answer("\n\n".join(lines), reply_markup=kb.as_markup() if kb.export() else None)
