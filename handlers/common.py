"""Commands everyone has: /help, /language, /cancel."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import LanguageCb
from bot.config import SUPPORTED_LOCALES, Settings
from bot.roles import refresh_menu
from handlers.access import show_in_place
from storage.repos import Repositories

LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


async def on_help(message: Message) -> None:
    """What the bot does and how to use it."""
    await message.answer(_(
        "Nastavnik runs school mentoring programmes in the messenger.\n\n"
        "• Pupils, students and teachers join by the invite link of their programme, give consent and "
        "fill in the mentor or mentee questionnaire. Answers are saved one by one: you can stop and "
        "come back any time with /questionnaire.\n"
        "• A parent or legal representative confirms a minor's participation by the link the child "
        "forwards.\n"
        "• Coordinators create programmes and share invite links with /programmes, then see the bases, "
        "form the pairs and send announcements from a programme's card.\n"
        "• Once the pairs are approved, a mentor sees their mentees with /mypairs and a mentee their "
        "mentor with /mymentor. Observers (class teachers, psychologists) write notes with /mentees.\n\n"
        "/start — main menu\n/mydata — what is stored about you, withdraw consent\n"
        "/language — change the language\n/cancel — stop the current step"
    ))


async def on_language(message: Message) -> None:
    """Offer the languages."""
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        kb.button(text=LANGUAGE_NAMES[code], callback_data=LanguageCb(code=code))
    kb.button(text=_("As in Telegram"), callback_data=LanguageCb(code="auto"))
    kb.adjust(2)
    await message.answer(_("Choose the language:"), reply_markup=kb.as_markup())


async def on_language_chosen(
    call: CallbackQuery, callback_data: LanguageCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Remember the language and answer in it from now on."""
    code = callback_data.code
    if code != "auto" and code not in SUPPORTED_LOCALES:
        await call.answer(_("Unknown language."), show_alert=True)
        return
    await repos.users.set_locale(call.from_user.id, None if code == "auto" else code)
    user = await repos.users.get(call.from_user.id)
    locale = user.language(i18n.default_locale) if user else i18n.default_locale
    i18n.current_locale = locale
    await call.answer()
    text = _("Language: {language}.").format(language=LANGUAGE_NAMES.get(locale, locale))
    await show_in_place(call, bot, text, None)
    await refresh_menu(bot, i18n, settings, repos, call.from_user.id)


async def on_cancel(message: Message, state: FSMContext) -> None:
    """Leave the current step; saved answers stay saved."""
    had_state = await state.get_state() is not None
    await state.clear()
    if had_state:
        await message.answer(_("Stopped. Everything you saved is kept. /start — main menu."))
    else:
        await message.answer(_("There is nothing to stop. /start — main menu."))


def router() -> Router:
    """Commands available to everyone."""
    r = Router(name="common")
    r.message.register(on_help, Command("help"))
    r.message.register(on_language, Command("language"))
    r.callback_query.register(on_language_chosen, LanguageCb.filter())
    r.message.register(on_cancel, Command("cancel"))
    return r
