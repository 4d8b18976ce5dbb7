"""Joining a programme from an invite: consent first, then form and name; a minor's parent is asked."""

from __future__ import annotations

import re
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ConsentCb, FormCb, OpenQuestionnaireCb
from bot.config import Settings
from bot.labels import form_label, role_label
from bot.messenger import start_link
from bot.roles import refresh_menu
from bot.states import Joining
from dialogs.schema import Registry
from handlers.access import drop_buttons, show_in_place
from handlers.invites import InviteProblem, invite_for_button, usable_invite
from handlers.questionnaire_screen import open_questionnaire
from storage.models import Invite, InviteKind, Participant, Role
from storage.repos import Repositories

CONSENT_VERSION = "1.0 (2026-11-23)"
PARENT_LINK_TTL = timedelta(days=14)
NAME_PATTERN = re.compile(r"^[^\W\d_][^\W\d_ .'’-]*(?:[ .'’-]+[^\W\d_]+)*\.?$")


def consent_text(org: str, programme: str, role: Role, retention_days: int) -> str:
    """The consent to personal-data processing, as shown before anything is kept."""
    return _(
        "Consent to the processing of personal data (version {version})\n\n"
        "Organisation: {org}\nProgramme: «{programme}»\nRole: {role}\n\n"
        "Purposes: to run the mentoring programme — to form mentoring pairs or groups, plan meetings, "
        "send reminders and survey participants about the results.\n"
        "Data kept: your name, your Telegram account id, your answers to the questionnaires and "
        "surveys, and the record of this consent.\n"
        "Retention: for the duration of the programme and {period} after it ends; then the data is "
        "deleted.\n"
        "Your rights: you may withdraw consent at any time with /mydata; your personal data and answers "
        "are then deleted.\n\n"
        "Nothing about you is kept until you agree. If you are under 18, a parent or legal "
        "representative will also be asked to confirm."
    ).format(version=CONSENT_VERSION, org=org, programme=programme, role=role_label(role),
             period=ngettext("{days} day", "{days} days", retention_days).format(days=retention_days))


async def show_consent(message: Message, repos: Repositories, invite: Invite) -> None:
    """The consent screen of a mentor or mentee invite."""
    programme = await repos.programmes.get(invite.programme_id or 0)
    org = await repos.organisations.get(invite.organisation_id)
    if programme is None or org is None:
        await message.answer(_("This programme no longer exists. Please ask the coordinator."))
        return
    existing = await repos.participants.find(programme.id, message.chat.id)
    if existing is not None:
        await message.answer(
            _("You have already joined «{programme}».").format(programme=programme.title),
            reply_markup=_open_button(existing),
        )
        return
    role = Role(invite.kind.value)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("I agree (I am 18 or older)"),
              callback_data=ConsentCb(action="agree", invite=invite.token))
    kb.button(text=_("I agree, I am under 18"), callback_data=ConsentCb(action="minor", invite=invite.token))
    kb.button(text=_("I do not agree"), callback_data=ConsentCb(action="decline", invite=invite.token))
    kb.adjust(1)
    await message.answer(
        consent_text(org.name, programme.title, role, programme.retention_days), reply_markup=kb.as_markup()
    )


def _open_button(participant: Participant) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=_("Open my questionnaire"),
        callback_data=OpenQuestionnaireCb(participant=participant.id).pack(),
    )]])


async def on_consent(
    call: CallbackQuery, callback_data: ConsentCb, state: FSMContext, repos: Repositories,
) -> None:
    """Agree (adult or minor), decline, or read again."""
    invite = await invite_for_button(call, repos, callback_data.invite, InviteKind.MENTOR, InviteKind.MENTEE)
    if invite is None:
        return
    await call.answer()
    message = call.message
    if callback_data.action == "again":
        await show_consent(message, repos, invite)  # type: ignore[arg-type]
        return
    await drop_buttons(call)
    if callback_data.action == "decline":
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Read it again"), callback_data=ConsentCb(action="again", invite=invite.token))
        await message.answer(  # type: ignore[union-attr]
            _("Understood. Nothing about you has been saved. If you change your mind, tap the button "
              "or open the link again."),
            reply_markup=kb.as_markup(),
        )
        return
    if callback_data.action not in ("agree", "minor"):
        return
    await state.set_state(Joining.name)
    await state.set_data({"invite": invite.id, "minor": callback_data.action == "minor"})
    programme = await repos.programmes.get(invite.programme_id or 0)
    forms = list(programme.forms) if programme else []
    if len(forms) > 1:
        kb = InlineKeyboardBuilder()
        for form in forms:
            kb.button(text=form_label(form), callback_data=FormCb(invite=invite.id, form=form))
        kb.adjust(1)
        await message.answer(_("Which form of mentoring are you joining?"),  # type: ignore[union-attr]
                             reply_markup=kb.as_markup())
        return
    await state.update_data(form=forms[0] if forms else "")
    await _ask_name(message)  # type: ignore[arg-type]


async def _ask_name(message: Message) -> None:
    await message.answer(_("What is your first name and surname? The coordinator and your future "
                           "mentoring partner will see it."))


async def on_form(
    call: CallbackQuery, callback_data: FormCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """The form of mentoring picked while joining."""
    data = await state.get_data()
    programme = None
    invite = await repos.invites.get(callback_data.invite)
    if invite is not None:
        programme = await repos.programmes.get(invite.programme_id or 0)
    if (await state.get_state() != Joining.name.state or data.get("invite") != callback_data.invite
            or programme is None or callback_data.form not in programme.forms):
        await call.answer(_("This button is from an earlier message. Open the invite link again."),
                          show_alert=True)
        return
    await call.answer()
    await state.update_data(form=callback_data.form)
    await show_in_place(call, bot, _("Form of mentoring: {form}").format(form=form_label(callback_data.form)),
                        None)
    await _ask_name(call.message)  # type: ignore[arg-type]


async def on_name(
    message: Message, bot: Bot, state: FSMContext, settings: Settings, repos: Repositories,
    questionnaires: Registry, i18n: I18n,
) -> None:
    """The name: validated, then the person is enrolled with their consent in one transaction."""
    data = await state.get_data()
    if not data.get("form"):
        await message.answer(_("Please choose the form of mentoring with the buttons above."))
        return
    name = " ".join((message.text or "").split())
    if message.text is None:
        await message.answer(_("Please write your name in a text message."))
        return
    if not 2 <= len(name) <= 100 or not NAME_PATTERN.match(name):
        await message.answer(_("Please write your first name and surname in letters, for example: "
                               "Anna Petrova."))
        return
    try:
        invite = await usable_invite(repos, invite_id=data["invite"])
    except InviteProblem as problem:
        await state.clear()
        await message.answer(str(problem))
        return
    programme_id = invite.programme_id or 0
    participant = await repos.participants.find(programme_id, message.chat.id)
    if participant is None:
        participant = await repos.participants.enrol(
            programme_id, message.chat.id, Role(invite.kind.value), data["form"], name,
            bool(data.get("minor")), CONSENT_VERSION,
        )
    await state.clear()
    await refresh_menu(bot, i18n, settings, repos, message.chat.id)
    if participant.is_minor and participant.status.value == "parent_pending":
        await send_parent_link(message, bot, repos, participant)
        return
    await message.answer(_("Thank you, {name}! Your consent is saved.").format(name=name))
    await open_questionnaire(bot, message.chat.id, state, repos, questionnaires, participant)


async def send_parent_link(message: Message, bot: Bot, repos: Repositories, participant: Participant) -> None:
    """A fresh link for the parent (older unused ones are revoked), and a message to forward."""
    programme = await repos.programmes.get(participant.programme_id)
    assert programme is not None
    for old in await repos.invites.for_participant(participant.id):
        await repos.invites.revoke(old.id)
    invite = await repos.invites.create(
        InviteKind.PARENT, programme.organisation_id, participant.user_id, PARENT_LINK_TTL,
        programme_id=programme.id, participant_id=participant.id,
    )
    link = await start_link(bot, invite.token)
    await message.answer(
        _("Almost done! Because you are under 18, your parent or legal representative has to confirm. "
          "Forward them the next message. You will be told as soon as they answer.")
    )
    await message.answer(
        _("Hello! {name} wants to take part in the mentoring programme «{programme}». As their parent "
          "or legal representative, please open this link in Telegram and confirm or refuse:\n{link}").format(
            name=participant.full_name, programme=programme.title, link=link
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=_("Open"), url=link)]]
        ),
    )


def router() -> Router:
    """Consent and joining."""
    r = Router(name="consent")
    r.callback_query.register(on_consent, ConsentCb.filter())
    r.callback_query.register(on_form, FormCb.filter())
    r.message.register(on_name, Joining.name, ~F.text.startswith("/"))
    return r
