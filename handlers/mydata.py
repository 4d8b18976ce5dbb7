"""/mydata: what is stored about the person (also as a file), and withdrawing consent."""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_datetime

from bot.callbacks import WithdrawCb
from bot.config import Settings
from bot.labels import form_label, role_label
from bot.roles import refresh_menu
from handlers import observers
from handlers.access import drop_buttons
from handlers.consent import CONSENT_VERSION
from handlers.notices import questionnaire_status, send_in_language
from storage.fsm import SQLiteStorage
from storage.models import Participant
from storage.repos import Repositories


async def _collect(repos: Repositories, user_id: int) -> dict[str, Any]:
    """Everything stored about a person, as plain data for the file."""
    user = await repos.users.get(user_id)
    data: dict[str, Any] = {
        "telegram_id": user_id,
        "language": user.locale if user else None,
        "coordinator_of": [o.name for o in await repos.organisations.of_coordinator(user_id)],
        "participations": [],
        "confirmed_as_parent_for": [c.full_name for c in await repos.participants.of_guardian(user_id)],
        "observer_of": [],
    }
    for o in await repos.observers.of_user(user_id):
        programme = await repos.programmes.get(o.programme_id)
        data["observer_of"].append({
            "programme": programme.title if programme else None, "name": o.full_name,
            "position": o.position, "consent_version": o.consent_version, "since": o.created_at.isoformat(),
        })
    for p in await repos.participants.of_user(user_id):
        programme = await repos.programmes.get(p.programme_id)
        data["participations"].append({
            "programme": programme.title if programme else None,
            "role": p.role.value, "form": p.form, "name": p.full_name, "minor": p.is_minor,
            "status": p.status.value, "joined_at": p.created_at.isoformat(),
            "consents": [
                {"kind": c.kind, "decision": c.decision, "given_by": c.given_by,
                 "text_version": c.text_version, "at": c.created_at.isoformat()}
                for c in await repos.participants.consents(p.id)
            ],
            "questionnaires": [
                {"id": r.questionnaire_id, "status": r.status.value, "answers": r.answers}
                for r in await repos.responses.everything_of(p.id)
            ],
        })
    return data


async def on_mydata(message: Message, repos: Repositories, i18n: I18n) -> None:
    """Show a summary, attach the full file, offer to withdraw consent."""
    user_id = message.chat.id
    locale = i18n.current_locale
    lines = [_("What is stored about you:"), _("Telegram id: {id}").format(id=user_id)]
    kb = InlineKeyboardBuilder()
    for org in await repos.organisations.of_coordinator(user_id):
        lines.append(_("Coordinator of «{org}».").format(org=org.name))
    participations = await repos.participants.of_user(user_id)
    for p in participations:
        programme = await repos.programmes.get(p.programme_id)
        title = programme.title if programme else ""
        consents = await repos.participants.consents(p.id)
        lines.append(_("«{programme}»: {name}, {role}, {form}; {status}.").format(
            programme=title, name=p.full_name, role=role_label(p.role), form=form_label(p.form),
            status=await questionnaire_status(repos, p),
        ))
        for c in consents:
            at = format_datetime(c.created_at, format="short", locale=locale)
            if c.kind == "self":
                line = _("  your consent: given {at}, version {version}")
            else:
                line = _("  consent of your parent / legal representative: given {at}, version {version}")
            lines.append(line.format(at=at, version=c.text_version))
        kb.button(text=_("Withdraw consent: {programme}").format(programme=title),
                  callback_data=WithdrawCb(action="ask", participant=p.id))
    observed = await repos.observers.of_user(user_id)
    titles = {}
    for o in observed:
        programme = await repos.programmes.get(o.programme_id)
        titles[o.programme_id] = programme.title if programme else ""
    lines += observers.mydata_lines(observed, titles, locale)
    for o in observed:
        kb.add(observers.withdraw_button(o, titles[o.programme_id]))
    for child in await repos.participants.of_guardian(user_id):
        lines.append(_("You confirmed consent for {name}.").format(name=child.full_name))
        kb.button(text=_("Withdraw consent for {name}").format(name=child.full_name),
                  callback_data=WithdrawCb(action="ask", participant=child.id))
    if len(lines) == 2:
        lines.append(_("Nothing else: you have not joined any programme."))
    kb.adjust(1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup() if kb.export() else None)
    payload = json.dumps(await _collect(repos, user_id), ensure_ascii=False, indent=2).encode()
    await message.answer_document(BufferedInputFile(payload, filename="my_data.json"),
                                  caption=_("All your data as a file."))


async def _allowed(repos: Repositories, participant: Participant | None, user_id: int) -> bool:
    """Only the person or their confirmed legal representative may withdraw."""
    if participant is None:
        return False
    return participant.user_id == user_id or user_id in await repos.participants.guardians(participant.id)


async def on_withdraw(
    call: CallbackQuery, callback_data: WithdrawCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """Ask for confirmation, then delete the personal data and answers."""
    participant = await repos.participants.get(callback_data.participant)
    if not await _allowed(repos, participant, call.from_user.id):
        await call.answer(_("This button is out of date. Send /mydata again."), show_alert=True)
        return
    assert participant is not None
    await call.answer()
    if callback_data.action == "ask":
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Yes, delete"), callback_data=WithdrawCb(action="yes", participant=participant.id))
        kb.button(text=_("No, keep"), callback_data=WithdrawCb(action="no", participant=participant.id))
        await call.message.answer(  # type: ignore[union-attr]
            _("Withdraw consent? {name}'s personal data and questionnaire answers in this programme will "
              "be deleted and cannot be restored.").format(name=participant.full_name),
            reply_markup=kb.as_markup(),
        )
        return
    await drop_buttons(call)
    if callback_data.action != "yes":
        await call.message.answer(_("Nothing was changed."))  # type: ignore[union-attr]
        return
    await repos.participants.withdraw(participant.id, CONSENT_VERSION)
    if participant.user_id == call.from_user.id:
        await state.clear()
    else:
        if isinstance(state.storage, SQLiteStorage):  # the child's conversation was about deleted data
            await state.storage.forget_user(participant.user_id)
        await send_in_language(
            bot, repos, participant.user_id,
            lambda: _("Your parent or legal representative withdrew consent, so your data in the "
                      "programme has been deleted."),
        )
    await call.message.answer(  # type: ignore[union-attr]
        _("Consent withdrawn. The personal data and answers have been deleted; only an anonymous record "
          "that consent was withdrawn is kept.")
    )
    await refresh_menu(bot, i18n, settings, repos, call.from_user.id)


def router() -> Router:
    """Personal data."""
    r = Router(name="mydata")
    r.message.register(on_mydata, Command("mydata"))
    r.callback_query.register(on_withdraw, WithdrawCb.filter())
    return r
