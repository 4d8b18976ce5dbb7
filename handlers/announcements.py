"""Announcements: a coordinator writes to a segment of a programme; the outbox sends within the limits.

Every button and the typed text check again that the person manages the programme. The announcement
and one outbox row per recipient (dedupe `ann:{id}:{user}`, the header in the recipient's language) are
written in one transaction before "Queued" is shown; a second tap on "Send" finds the preview gone.
When the last message is done, the author is told once (dedupe `ann-report:{id}`), through the outbox.
"""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from bot.callbacks import AnnounceCb, ProgrammeCb, row
from bot.config import Settings
from bot.i18n import normalise_locale
from bot.outbox import Outbox
from bot.states import Announcing
from handlers.access import (
    managed_programme,
    no_programme_access_text,
    programme_for_button,
    programme_to_change,
    refuse,
    show_in_place,
)
from handlers.notices import queued_in_language
from storage.models import Announcement, OutboxMessage, Programme
from storage.repos import Repositories
from storage.repos.announcements import SEGMENTS

ANNOUNCEMENT_KIND = "announcement"
REPORT_KIND = "announcement_report"
TEXT_MAX = 3500
LISTED = 10
PREVIEW_CHARS = 60


def segment_label(segment: str) -> str:
    """The segment's name on buttons and screens."""
    return {
        "mentors": _("All mentors"),
        "mentees": _("All mentees"),
        "parents": _("Parents"),
        "observers": _("Observers"),
        "unfinished": _("Those who have not submitted the questionnaire"),
    }[segment]


def header_text(programme: Programme) -> str:
    """The first line every recipient reads, in the current language."""
    return _("Message from the coordinator of «{programme}»:").format(programme=programme.title)


# ----------------------------------------------------------------- the segment screen


async def _menu(repos: Repositories, programme: Programme) -> tuple[str, InlineKeyboardMarkup]:
    counts = await repos.announcements.segment_counts(programme.id)
    text = _(
        "Announcement in «{programme}». Whom to write to? The number of people is in brackets."
    ).format(programme=programme.title)
    rows = [
        row(
            _("{segment} ({count})").format(segment=segment_label(s), count=counts[s]),
            AnnounceCb(action="seg", programme=programme.id, segment=s),
        )
        for s in SEGMENTS
    ]
    rows.append(row(_("Sent announcements"), AnnounceCb(action="list", programme=programme.id)))
    rows.append(row(_("Back to the programme"), ProgrammeCb(action="open", programme=programme.id)))
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _leave_writing(state: FSMContext) -> None:
    if await state.get_state() in (Announcing.text.state, Announcing.confirm.state):
        await state.clear()


async def on_menu(
    call: CallbackQuery, callback_data: ProgrammeCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories,
) -> None:
    """Pick the segment (each with its number of people)."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await _leave_writing(state)
    await call.answer()
    await show_in_place(call, bot, *await _menu(repos, programme))


async def on_cancel(
    call: CallbackQuery, callback_data: AnnounceCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories,
) -> None:
    """Drop the announcement being written; back to the segments."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await _leave_writing(state)
    await call.answer(_("Cancelled. Nothing was sent."))
    await show_in_place(call, bot, *await _menu(repos, programme))


# ----------------------------------------------------------------- writing


def _prompt(segment: str, count: int) -> str:
    return _(
        "Write the announcement for: {segment} ({count}). One text message, up to {max} characters. "
        "Each person gets it with the line «Message from the coordinator of …» above it.\n"
        "/cancel — stop"
    ).format(segment=segment_label(segment), count=count, max=TEXT_MAX)


def _cancel_markup(programme_id: int) -> InlineKeyboardMarkup:
    cb = AnnounceCb(action="cancel", programme=programme_id)
    return InlineKeyboardMarkup(inline_keyboard=[row(_("Cancel"), cb)])


async def on_segment(
    call: CallbackQuery, callback_data: AnnounceCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories,
) -> None:
    """Ask for the text of the announcement to the chosen segment."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    segment = callback_data.segment
    if segment not in SEGMENTS:
        await refuse(call, _("This button is out of date. Open the programme again."))
        return
    count = len(await repos.announcements.recipients(programme.id, segment))
    if count == 0:
        await refuse(call, _("There is nobody in this group yet."))
        return
    await state.set_state(Announcing.text)
    await state.set_data({"programme": programme.id, "segment": segment})
    await call.answer()
    await show_in_place(call, bot, _prompt(segment, count), _cancel_markup(programme.id))


async def _writing_target(
    user_id: int, state: FSMContext, settings: Settings, repos: Repositories
) -> tuple[Programme, str] | None:
    """The programme and segment being written to, if the person still manages the programme."""
    data = await state.get_data()
    segment = str(data.get("segment", ""))
    programme = await managed_programme(user_id, int(data.get("programme", 0)), settings, repos)
    if programme is None or segment not in SEGMENTS:
        return None
    return programme, segment


async def on_text(
    message: Message, state: FSMContext, settings: Settings, repos: Repositories
) -> None:
    """The text, checked; then the preview with "Send to N people"."""
    user_id = message.from_user.id if message.from_user else message.chat.id
    target = await _writing_target(user_id, state, settings, repos)
    if target is None:
        await state.clear()
        await message.answer(no_programme_access_text())
        return
    programme, segment = target
    count = len(await repos.announcements.recipients(programme.id, segment))
    if message.text is None:
        problem = _("Please send the announcement as a text message: stickers, photos and files are "
                    "not sent.")
        await message.answer(f"{problem}\n\n{_prompt(segment, count)}",
                             reply_markup=_cancel_markup(programme.id))
        return
    if len(message.text) > TEXT_MAX:
        problem = _("The text is {length} characters long; the limit is {max}. Please shorten it.").format(
            length=len(message.text), max=TEXT_MAX
        )
        await message.answer(f"{problem}\n\n{_prompt(segment, count)}",
                             reply_markup=_cancel_markup(programme.id))
        return
    token = secrets.token_hex(6)
    await state.update_data(text=message.text, token=token)
    await state.set_state(Announcing.confirm)
    preview = _("Preview. It goes to: {segment} ({count}).").format(
        segment=segment_label(segment), count=count
    )
    send_label = ngettext("Send to {count} person", "Send to {count} people", count).format(count=count)
    markup = InlineKeyboardMarkup(inline_keyboard=[
        row(send_label, AnnounceCb(action="send", programme=programme.id, token=token)),
        row(_("Cancel"), AnnounceCb(action="cancel", programme=programme.id)),
    ])
    await message.answer(f"{preview}\n\n{header_text(programme)}\n\n{message.text}", reply_markup=markup)


# ----------------------------------------------------------------- sending


async def queue_announcement(
    repos: Repositories, i18n: I18n, programme: Programme, segment: str, text: str, author: int
) -> tuple[int, int]:
    """Write the announcement and its outbox rows in one transaction; (announcement id, recipients)."""
    recipients = await repos.announcements.recipients(programme.id, segment)
    headers: dict[str, str] = {}
    for _user, locale in recipients:
        lang = normalise_locale(locale) or i18n.default_locale
        if lang not in headers:
            with i18n.use_locale(lang):
                headers[lang] = header_text(programme)
    async with repos.db.transaction() as conn:
        ann_id = await repos.announcements.create(conn, programme.id, segment, text, author, len(recipients))
        messages = [
            OutboxMessage(
                user_id=user_id, kind=ANNOUNCEMENT_KIND, ref=ann_id, dedupe=f"ann:{ann_id}:{user_id}",
                text=f"{headers[normalise_locale(locale) or i18n.default_locale]}\n\n{text}",
            )
            for user_id, locale in recipients
        ]
        await repos.outbox.enqueue(messages, conn)
    return ann_id, len(recipients)


async def on_send(
    call: CallbackQuery, callback_data: AnnounceCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n, outbox: Outbox,
) -> None:
    """Queue the previewed announcement once; a repeated or stale tap sends nothing."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    data = await state.get_data()
    current = await state.get_state()
    if (
        current != Announcing.confirm.state or not callback_data.token
        or data.get("token") != callback_data.token or data.get("programme") != programme.id
        or data.get("segment") not in SEGMENTS or not data.get("text")
    ):
        await refuse(call, _("This announcement has already been sent or was cancelled."))
        return
    _ann_id, count = await queue_announcement(
        repos, i18n, programme, str(data["segment"]), str(data["text"]), call.from_user.id
    )
    await state.clear()
    outbox.wake()
    await call.answer()
    text = ngettext(
        "Queued for {count} person. The bot sends it within Telegram's limits and tells you when it "
        "is delivered.",
        "Queued for {count} people. The bot sends it within Telegram's limits and tells you when it "
        "is delivered.",
        count,
    ).format(count=count)
    markup = InlineKeyboardMarkup(inline_keyboard=[
        row(_("Sent announcements"), AnnounceCb(action="list", programme=programme.id)),
        row(_("Back to the programme"), ProgrammeCb(action="open", programme=programme.id)),
    ])
    await show_in_place(call, bot, text, markup)


# ----------------------------------------------------------------- sent announcements


def _status_line(counts: dict[str, int]) -> str:
    line = _("delivered {sent}, pending {pending}, blocked {blocked}, failed {failed}").format(
        sent=counts["sent"], pending=counts["pending"] + counts["sending"], blocked=counts["blocked"],
        failed=counts["failed"],
    )
    if counts["uncertain"]:
        line += _(", unknown {count} (the bot restarted while sending)").format(count=counts["uncertain"])
    return line


async def _entry(repos: Repositories, i18n: I18n, tz: ZoneInfo, ann: Announcement) -> str:
    counts = await repos.outbox.counts(ANNOUNCEMENT_KIND, ann.id)
    when = format_datetime(ann.created_at, "short", tzinfo=tz, locale=i18n.current_locale)
    short = " ".join(ann.text.split())
    if len(short) > PREVIEW_CHARS:
        short = short[:PREVIEW_CHARS - 1] + "…"
    people = ngettext("{count} person", "{count} people", ann.recipients).format(count=ann.recipients)
    head = _("{when} · {segment} · {people}").format(
        when=when, segment=segment_label(ann.segment), people=people
    )
    return f"{head}\n«{short}»\n{_status_line(counts)}"


async def on_list(
    call: CallbackQuery, callback_data: AnnounceCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """The programme's newest announcements with delivered / pending / blocked / failed counts."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await _leave_writing(state)
    org = await repos.organisations.get(programme.organisation_id)
    tz = ZoneInfo(org.timezone if org else settings.default_timezone)
    announcements = await repos.announcements.of_programme(programme.id, LISTED)
    title = _("Sent announcements of «{programme}»").format(programme=programme.title)
    if announcements:
        entries = [await _entry(repos, i18n, tz, a) for a in announcements]
        text = "\n\n".join([title, *entries])
    else:
        text = f"{title}\n\n" + _("No announcements yet.")
    markup = InlineKeyboardMarkup(inline_keyboard=[
        row(_("Refresh"), AnnounceCb(action="list", programme=programme.id)),
        row(_("New announcement"), ProgrammeCb(action="announce", programme=programme.id)),
        row(_("Back to the programme"), ProgrammeCb(action="open", programme=programme.id)),
    ])
    await call.answer()
    await show_in_place(call, bot, text, markup)


# ----------------------------------------------------------------- the report to the author


def report_text(ann: Announcement, programme_title: str, counts: dict[str, int]) -> str:
    """What the author reads when every message of the announcement is done (current language)."""
    text = _("Announcement to «{segment}» in «{programme}» delivered to {sent} of {total}.").format(
        segment=segment_label(ann.segment), programme=programme_title, sent=counts["sent"],
        total=ann.recipients,
    )
    text += " " + ngettext(
        "{count} person has blocked the bot.", "{count} people have blocked the bot.", counts["blocked"]
    ).format(count=counts["blocked"])
    lost = counts["failed"] + counts["uncertain"]
    if lost:
        text += " " + ngettext(
            "{count} message could not be delivered.", "{count} messages could not be delivered.", lost
        ).format(count=lost)
    return text


async def report_when_delivered(repos: Repositories, i18n: I18n, announcement_id: int) -> None:
    """The outbox's hook: queue the author's report once (dedupe `ann-report:{id}`)."""
    ann = await repos.announcements.get(announcement_id)
    if ann is None:
        return
    programme = await repos.programmes.get(ann.programme_id)
    counts = await repos.outbox.counts(ANNOUNCEMENT_KIND, ann.id)
    await repos.outbox.enqueue([await queued_in_language(
        repos, i18n, ann.created_by, lambda: report_text(ann, programme.title if programme else "", counts),
        kind=REPORT_KIND, dedupe=f"ann-report:{ann.id}", ref=ann.id,
    )])


def router() -> Router:
    """The announcement buttons, then the typed text."""
    r = Router(name="announcements")
    r.callback_query.register(on_menu, ProgrammeCb.filter(F.action == "announce"))
    r.callback_query.register(on_segment, AnnounceCb.filter(F.action == "seg"))
    r.callback_query.register(on_send, AnnounceCb.filter(F.action == "send"))
    r.callback_query.register(on_cancel, AnnounceCb.filter(F.action == "cancel"))
    r.callback_query.register(on_list, AnnounceCb.filter(F.action == "list"))
    r.message.register(on_text, Announcing.text, ~F.text.startswith("/"))
    r.message.register(on_text, Announcing.confirm, ~F.text.startswith("/"))
    return r
