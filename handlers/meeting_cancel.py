"""Cancelling a meeting: the mentor (or, for the group final, the programme's coordinator) taps "Cancel the
meeting", is asked once more, and on "Yes" the meeting is cancelled with its reminders; everyone it concerns
is told. The cancellation and its notices are written in one transaction by `repos.meetings`.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb, button
from bot.config import Settings
from bot.i18n import current_locale
from bot.labels import step_label
from bot.outbox import Outbox
from handlers.access import refuse, show_in_place
from handlers.meeting_access import changeable, changed_text, meeting_markup, timezone
from handlers.meeting_notices import compose_cancelled, when_text
from storage.models import Meeting, OutboxMessage
from storage.repos import Repositories
from storage.repos.meetings import StaleMeeting


async def on_cancel_ask(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, settings: Settings,
                        repos: Repositories) -> None:
    """Ask before a meeting is cancelled."""
    meeting = await changeable(call, callback_data, settings, repos)
    if meeting is None:
        return
    programme = await repos.programmes.get(meeting.programme_id)
    tz = await timezone(repos, programme) if programme else "Europe/Moscow"
    text = _("Cancel the {step} on {when}? Everyone it concerns is told; the reminders are not sent.").format(
        step=step_label(meeting.step), when=when_text(meeting.starts_at, tz, current_locale()))
    yes = MeetingCb(action="cancel_yes", meeting=meeting.id, version=meeting.version)
    no = MeetingCb(action="cancel_no", meeting=meeting.id, version=meeting.version)
    await call.answer()
    await show_in_place(call, bot, text, InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Yes, cancel it"), yes)], [button(_("No, keep it"), no)]]))


async def on_cancel_no(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, settings: Settings,
                       repos: Repositories) -> None:
    """Keep the meeting."""
    meeting = await changeable(call, callback_data, settings, repos)
    if meeting is None:
        return
    await call.answer()
    await show_in_place(call, bot, _("The meeting stays as it is."), meeting_markup(meeting))


async def on_cancel_yes(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, settings: Settings,
                        repos: Repositories, i18n: I18n, outbox: Outbox) -> None:
    """Cancel the meeting with its reminders; those concerned are told."""
    meeting = await changeable(call, callback_data, settings, repos)
    if meeting is None:
        return

    async def compose(m: Meeting) -> list[OutboxMessage]:
        return await compose_cancelled(repos, i18n, m)

    try:
        meeting = await repos.meetings.cancel(meeting.id, meeting.version, compose)
    except StaleMeeting:
        await refuse(call, changed_text())
        return
    outbox.wake()
    await call.answer()
    markup = None
    if meeting.pair_id is not None:
        markup = InlineKeyboardMarkup(inline_keyboard=[[button(
            _("Schedule it again"), MeetingCb(action="schedule", pair=meeting.pair_id))]])
    await show_in_place(call, bot, _("Cancelled: the {step}. Everyone it concerns is told.").format(
        step=step_label(meeting.step)), markup)


def router() -> Router:
    """Cancel the meeting: ask, keep it, cancel it (included by `handlers.scheduling.router`)."""
    r = Router(name="meeting_cancel")
    cb = r.callback_query.register
    cb(on_cancel_ask, MeetingCb.filter(F.action == "cancel_ask"))
    cb(on_cancel_no, MeetingCb.filter(F.action == "cancel_no"))
    cb(on_cancel_yes, MeetingCb.filter(F.action == "cancel_yes"))
    return r
