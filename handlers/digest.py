"""The coordinator's digest: `/digest` shows and changes its schedule; the digest's buttons remind those who
have not submitted the questionnaire (once per digest) and export the lists. Composition and the background
job are in `handlers.digest_compose`."""

from __future__ import annotations

import re
from dataclasses import replace

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import get_day_names

from bot.callbacks import DigestCb
from bot.config import Settings
from bot.i18n import current_locale
from bot.outbox import Outbox
from handlers.access import coordinators_only_text, programme_for_button, refuse, show_in_place
from handlers.approval import send_documents
from handlers.notices import queued_in_language
from storage.repos import Repositories
from storage.repos.digests import FREQUENCIES, DigestSetting

REMIND_KIND = "digest_remind"
HOURS = tuple(range(6, 22))  # offered on the buttons; 06:00–21:00
_PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _weekday(day: int) -> str:
    return str(get_day_names("wide", locale=current_locale())[day])


def _schedule_text(setting: DigestSetting) -> str:
    hour = f"{setting.hour:02d}:00"
    if setting.frequency == "off":
        return _("off")
    if setting.frequency == "weekly":
        return _("weekly, on {weekday} at {hour}").format(weekday=_weekday(setting.weekday), hour=hour)
    return _("daily at {hour}").format(hour=hour)


def _screen(setting: DigestSetting, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Your digest: {schedule} ({timezone}).\n\nIt tells you what changed since the last one and what is "
        "stuck in your programmes, with buttons for the next step. When nothing changed and nothing is "
        "stuck, no message comes."
    ).format(schedule=_schedule_text(setting), timezone=timezone)

    def mark(label: str, chosen: bool) -> str:
        return f"✓ {label}" if chosen else label

    def button(label: str, action: str, value: object, chosen: bool) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=mark(label, chosen),
                                    callback_data=DigestCb(action=action, value=str(value)).pack())

    labels = {"daily": _("Daily"), "weekly": _("Weekly"), "off": _("Off")}
    rows = [[button(labels[f], "freq", f, setting.frequency == f) for f in FREQUENCIES]]
    if setting.frequency == "weekly":
        names = get_day_names("abbreviated", locale=current_locale())
        rows.append([button(str(names[d]), "day", d, setting.weekday == d) for d in range(7)])
    if setting.frequency != "off":
        hours = [button(f"{h:02d}:00", "hour", h, setting.hour == h) for h in HOURS]
        rows += [hours[i:i + 4] for i in range(0, len(hours), 4)]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_digest(message: Message, repos: Repositories) -> None:
    """The digest's schedule and the buttons to change it (coordinators only)."""
    if message.from_user is None:
        return
    timezone = await repos.digests.timezone_of(message.from_user.id)
    if timezone is None:
        await message.answer(coordinators_only_text())
        return
    text, markup = _screen(await repos.digests.setting(message.from_user.id), timezone)
    await message.answer(text, reply_markup=markup)


def _changed(setting: DigestSetting, cb: DigestCb) -> DigestSetting | None:
    """The setting the button asks for; None for a forged value."""
    if cb.action == "freq" and cb.value in FREQUENCIES:
        return replace(setting, frequency=cb.value)
    if cb.action == "day" and cb.value.isdigit() and int(cb.value) < 7 and setting.frequency == "weekly":
        return replace(setting, weekday=int(cb.value))
    if cb.action == "hour" and cb.value.isdigit() and int(cb.value) < 24 and setting.frequency != "off":
        return replace(setting, hour=int(cb.value))
    return None


async def on_setting(call: CallbackQuery, callback_data: DigestCb, bot: Bot, repos: Repositories) -> None:
    """Change the schedule: saved first, then the screen shows it."""
    timezone = await repos.digests.timezone_of(call.from_user.id)
    if timezone is None:
        await refuse(call, coordinators_only_text())
        return
    setting = _changed(await repos.digests.setting(call.from_user.id), callback_data)
    if setting is None:
        await refuse(call, _("This button is out of date. Send /digest again."))
        return
    await repos.digests.save_setting(call.from_user.id, setting)
    await call.answer(_("Saved."))
    await show_in_place(call, bot, *_screen(setting, timezone))


async def on_remind(call: CallbackQuery, callback_data: DigestCb, settings: Settings, repos: Repositories,
                    i18n: I18n, outbox: Outbox) -> None:
    """Remind the programme's people who have not submitted the questionnaire, once per digest."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    period = callback_data.value
    if not _PERIOD.match(period) or not await repos.digests.done(call.from_user.id, period):
        await refuse(call, _("This button is out of date."))
        return
    title = programme.title
    messages = [
        await queued_in_language(
            repos, i18n, user_id,
            lambda: _("A reminder from «{programme}»: please fill in your questionnaire. Send /questionnaire "
                      "to continue where you stopped.").format(programme=title),
            kind=REMIND_KIND, ref=programme.id, dedupe=f"digest-remind:{programme.id}:{period}:{participant}",
        )
        for participant, user_id in await repos.digests.not_submitted(programme.id)
    ]
    queued = await repos.outbox.enqueue(messages)
    outbox.wake()
    if queued:
        text = ngettext("A reminder is queued for {n} person.", "Reminders are queued for {n} people.",
                        queued).format(n=queued)
    else:
        text = _("Those pending were already reminded for this digest.")
    await call.answer(text, show_alert=True)


async def on_export(call: CallbackQuery, callback_data: DigestCb, bot: Bot, settings: Settings,
                    repos: Repositories, i18n: I18n) -> None:
    """The programme's lists (XLSX) and the order draft, as from the matching screen."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await call.answer()
    await send_documents(bot, call.from_user.id, repos, i18n, programme)


def router() -> Router:
    """`/digest` and the digest's buttons (each checks the person's access on the server)."""
    r = Router(name="digest")
    r.message.register(on_digest, Command("digest"))
    r.callback_query.register(on_setting, DigestCb.filter(F.action.in_({"freq", "day", "hour"})))
    r.callback_query.register(on_remind, DigestCb.filter(F.action == "remind"))
    r.callback_query.register(on_export, DigestCb.filter(F.action == "export"))
    return r
