"""/newprogramme: organisation, title and forms of mentoring (the dates and the rest in programme_dates)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ProgrammeCb
from bot.config import Settings
from bot.labels import form_label
from bot.states import NewProgramme
from handlers import programmes
from handlers.access import can_manage, coordinators_only_text, is_admin, managed_organisations, refuse
from handlers.programme_dates import (
    ask_date,
    cancel_button,
    cancel_markup,
    on_cancel_button,
    on_confirm_typed,
    on_create,
    on_end_date,
    on_start_date,
    stale,
)
from storage.models import FORMS
from storage.repos import Repositories

TITLE_LENGTH = (3, 200)


def _forms_markup(chosen: list[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for form in FORMS:
        mark = "✅ " if form in chosen else ""
        kb.button(text=mark + form_label(form), callback_data=ProgrammeCb(action="form", value=form))
    kb.button(text=_("Done"), callback_data=ProgrammeCb(action="forms_done"))
    cancel_button(kb)
    kb.adjust(1)
    return kb.as_markup()


def _ask_title() -> str:
    return _("What is the programme called? For example: «Вместе по лестнице успеха» 2026/27. "
             "Send the title as a text message (3 to 200 characters), or /cancel to stop.")


def _ask_forms() -> str:
    return _("Which forms of mentoring does the programme have? Tap every one that applies "
             "(tap again to remove), then press Done.")


async def on_newprogramme(message: Message, state: FSMContext, settings: Settings,
                          repos: Repositories) -> None:
    """/newprogramme: choose the organisation if there are several, then the title."""
    orgs = await managed_organisations(message.chat.id, settings, repos)
    if not orgs:
        text = (_("There are no organisations yet. /neworg — add one.") if is_admin(message.chat.id, settings)
                else coordinators_only_text())
        await refuse(message, text)
        return
    await state.clear()
    if len(orgs) == 1 and not is_admin(message.chat.id, settings):
        await state.update_data(org=orgs[0].id)
        await state.set_state(NewProgramme.title)
        await message.answer(_("New programme of «{org}».").format(org=orgs[0].name) + "\n\n" + _ask_title(),
                             reply_markup=cancel_markup())
        return
    kb = InlineKeyboardBuilder()
    for org in orgs[:90]:
        kb.button(text=org.name[:60], callback_data=ProgrammeCb(action="org", value=str(org.id)))
    cancel_button(kb)
    kb.adjust(1)
    await state.set_state(NewProgramme.organisation)
    await message.answer(_("New programme. Which organisation is it for?"), reply_markup=kb.as_markup())


async def on_org_typed(message: Message) -> None:
    """Text while the organisation is expected."""
    await message.answer(_("Please choose the organisation with the buttons above, or /cancel to stop."))


async def on_org(call: CallbackQuery, callback_data: ProgrammeCb, state: FSMContext, settings: Settings,
                 repos: Repositories) -> None:
    """The organisation chosen: the title is asked."""
    if await state.get_state() != NewProgramme.organisation.state:
        await stale(call)
        return
    org_id = int(callback_data.value) if callback_data.value.isdigit() else 0
    org = await repos.organisations.get(org_id)
    if org is None or not await can_manage(call.from_user.id, org.id, settings, repos):
        await refuse(call, _("You don't coordinate this organisation."))
        return
    await state.update_data(org=org.id)
    await state.set_state(NewProgramme.title)
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_text(_("New programme of «{org}».").format(org=org.name))
        await call.message.answer(_ask_title(), reply_markup=cancel_markup())


def check_title(text: str | None) -> tuple[str, str | None]:
    """A programme title as typed, with spaces tidied, and what is wrong with it (None: nothing)."""
    title = " ".join((text or "").split())
    if text is None:
        return title, _("I need the title as a text message, not a sticker, photo or file.")
    if not TITLE_LENGTH[0] <= len(title) <= TITLE_LENGTH[1]:
        return title, _("The title must be 3 to 200 characters long; yours has {count}.").format(
            count=len(title))
    return title, None


async def on_title(message: Message, state: FSMContext) -> None:
    """The title: then the forms of mentoring."""
    title, problem = check_title(message.text)
    if problem is None:
        await state.update_data(title=title, forms=[])
        await state.set_state(NewProgramme.forms)
        await message.answer(_ask_forms(), reply_markup=_forms_markup([]))
        return
    await message.answer(problem + "\n\n" + _ask_title(), reply_markup=cancel_markup())


async def on_forms_typed(message: Message, state: FSMContext) -> None:
    """Text while forms are being chosen: the buttons again."""
    chosen = (await state.get_data()).get("forms", [])
    await message.answer(_("Please choose with the buttons.") + " " + _ask_forms(),
                         reply_markup=_forms_markup(chosen))


async def on_form_toggle(call: CallbackQuery, callback_data: ProgrammeCb, state: FSMContext) -> None:
    """Tick or untick a form of mentoring."""
    if await state.get_state() != NewProgramme.forms.state or callback_data.value not in FORMS:
        await stale(call)
        return
    chosen: list[str] = list((await state.get_data()).get("forms", []))
    if callback_data.value in chosen:
        chosen.remove(callback_data.value)
    else:
        chosen.append(callback_data.value)
    await state.update_data(forms=[f for f in FORMS if f in chosen])
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_reply_markup(reply_markup=_forms_markup(chosen))


async def on_forms_done(call: CallbackQuery, state: FSMContext) -> None:
    """Forms chosen: then the start date."""
    if await state.get_state() != NewProgramme.forms.state:
        await stale(call)
        return
    chosen = (await state.get_data()).get("forms", [])
    if not chosen:
        await call.answer(_("Choose at least one form of mentoring."), show_alert=True)
        return
    await state.set_state(NewProgramme.start_date)
    await call.answer()
    if isinstance(call.message, Message):
        await call.message.edit_text(_("Forms of mentoring: {forms}.").format(
            forms=", ".join(form_label(f) for f in chosen)))
        await call.message.answer(ask_date(end=False), reply_markup=cancel_markup())


def router() -> Router:
    """/newprogramme here, /programmes and the cards in handlers.programmes, then the steps."""
    r = Router(name="coordinator")
    r.message.register(on_newprogramme, Command("newprogramme"))
    r.callback_query.register(on_org, ProgrammeCb.filter(F.action == "org"))
    r.callback_query.register(on_form_toggle, ProgrammeCb.filter(F.action == "form"))
    r.callback_query.register(on_forms_done, ProgrammeCb.filter(F.action == "forms_done"))
    r.callback_query.register(on_create, ProgrammeCb.filter(F.action == "create"))
    r.callback_query.register(on_cancel_button, ProgrammeCb.filter(F.action == "cancel"))
    r.include_router(programmes.router())
    steps = Router(name="coordinator-steps")
    steps.message.filter(~F.text.startswith("/"))  # other commands keep working mid-conversation
    steps.message.register(on_org_typed, NewProgramme.organisation)
    steps.message.register(on_title, NewProgramme.title)
    steps.message.register(on_forms_typed, NewProgramme.forms)
    steps.message.register(on_start_date, NewProgramme.start_date)
    steps.message.register(on_end_date, NewProgramme.end_date)
    steps.message.register(on_confirm_typed, NewProgramme.confirm)
    r.include_router(steps)
    return r
