"""A legal representative confirms or refuses a minor's participation from a forwarded link."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import OpenQuestionnaireCb, ParentCb
from bot.config import Settings
from bot.labels import role_label
from bot.roles import refresh_menu
from handlers.access import drop_buttons
from handlers.consent import consent_text
from handlers.invites import invite_for_button
from handlers.notices import send_in_language
from storage.models import Invite, InviteKind
from storage.repos import Repositories

PARENT_CONSENT_VERSION = "parent-1.0 (2026-11-23)"


async def show_request(message: Message, repos: Repositories, invite: Invite) -> None:
    """What the parent sees on opening the link: the child's name, the programme, the consent."""
    participant = await repos.participants.get(invite.participant_id or 0)
    programme = await repos.programmes.get(participant.programme_id) if participant else None
    org = await repos.organisations.get(invite.organisation_id)
    if participant is None or programme is None or org is None:
        await message.answer(_("This request is no longer valid: the child's data has been deleted."))
        return
    if participant.user_id == message.chat.id:
        await message.answer(_("This link is for your parent or legal representative: forward it to them."))
        return
    kb = InlineKeyboardBuilder()
    kb.button(text=_("I confirm as parent / legal representative"),
              callback_data=ParentCb(action="agree", invite=invite.token))
    kb.button(text=_("I refuse"), callback_data=ParentCb(action="refuse", invite=invite.token))
    kb.adjust(1)
    await message.answer(
        _("{name} asks for your consent to take part in the mentoring programme «{programme}» of {org} "
          "as {role}.\n\nPlease read the consent below and answer as the child's parent or legal "
          "representative.").format(
            name=participant.full_name, programme=programme.title, org=org.name,
            role=role_label(participant.role),
        )
    )
    await message.answer(
        consent_text(org.name, programme.title, participant.role, programme.retention_days),
        reply_markup=kb.as_markup(),
    )


async def on_decision(
    call: CallbackQuery, callback_data: ParentCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Record the parent's decision and tell the child."""
    invite = await invite_for_button(call, repos, callback_data.invite, InviteKind.PARENT)
    if invite is None:
        return
    participant = await repos.participants.get(invite.participant_id or 0)
    own_child = participant is not None and participant.user_id == call.from_user.id
    if participant is None or own_child:
        await call.answer(_("This button is not for you."), show_alert=True)
        return
    if callback_data.action not in ("agree", "refuse"):
        await call.answer()
        return
    if not await repos.invites.use_once(invite.id, call.from_user.id):
        await call.answer(_("This link has already been used to answer. Thank you!"), show_alert=True)
        return
    agree = callback_data.action == "agree"
    await repos.participants.parent_decision(participant.id, call.from_user.id, agree, PARENT_CONSENT_VERSION)
    await call.answer()
    await drop_buttons(call)
    if agree:
        await call.message.answer(  # type: ignore[union-attr]
            _("Thank you! Your confirmation is saved. You can withdraw it any time with /mydata.")
        )
        await refresh_menu(bot, i18n, settings, repos, call.from_user.id)
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("Start the questionnaire"),
            callback_data=OpenQuestionnaireCb(participant=participant.id).pack(),
        )]])
        await send_in_language(
            bot, repos, participant.user_id,
            lambda: _("Your parent or legal representative has confirmed. You can fill in the "
                      "questionnaire now."),
            reply_markup=markup,
        )
        return
    await call.message.answer(  # type: ignore[union-attr]
        _("Your refusal is saved, and the child's data has been deleted.")
    )
    await send_in_language(
        bot, repos, participant.user_id,
        lambda: _("Your parent or legal representative did not confirm, so your data has been deleted. "
                  "If they change their mind, open the programme link again."),
    )
    await refresh_menu(bot, i18n, settings, repos, participant.user_id)


def router() -> Router:
    """Parents' decisions."""
    r = Router(name="parent")
    r.callback_query.register(on_decision, ParentCb.filter())
    return r
