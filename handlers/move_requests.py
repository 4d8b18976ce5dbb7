"""A mentee asks to move a meeting: "Ask to move it" on the meeting's notice, then one typed message (why and
when suits them), which goes to the mentor with a "Move the meeting" button. The meeting stays as it is until
the mentor moves it (`handlers.scheduling`). The request and its message are written together by
`repos.meetings`.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb, button
from bot.clock import Clock
from bot.i18n import current_locale
from bot.labels import step_label
from bot.outbox import Outbox
from bot.states import MoveAsking
from handlers.access import refuse
from handlers.meeting_access import changed_text, timezone
from handlers.meeting_notices import when_text
from handlers.notices import queued_in_language
from storage.models import Meeting, MeetingStatus, OutboxMessage, Participant
from storage.repos import Repositories

REQUEST_MAX = 500
MOVE_REQUEST_KIND = "move_request"


async def _mentee_of(repos: Repositories, user_id: int, meeting: Meeting) -> Participant | None:
    """The person's participation if they are a mentee of the meeting's pair."""
    pair = await repos.pairs.get(meeting.pair_id) if meeting.pair_id is not None else None
    mentee = await repos.participants.find(meeting.programme_id, user_id)
    return mentee if pair is not None and mentee is not None and mentee.id in pair.mentee_ids else None


def _open_for_request(meeting: Meeting | None, version: int, clock: Clock) -> bool:
    return (meeting is not None and meeting.status is MeetingStatus.SCHEDULED and meeting.version == version
            and meeting.starts_at > clock.now())


def _request_prompt() -> str:
    return _("Write to your mentor why the meeting should be moved and when suits you (one message, up to "
             "{max} characters).\n/cancel — stop").format(max=REQUEST_MAX)


async def on_ask_move(call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext,
                      repos: Repositories, clock: Clock) -> None:
    """The mentee's "Ask to move it": the request is typed next."""
    meeting = await repos.meetings.get(callback_data.meeting)
    if meeting is None or await _mentee_of(repos, call.from_user.id, meeting) is None:
        await refuse(call, _("This button is not for you."))
        return
    if not _open_for_request(meeting, callback_data.version, clock):
        await refuse(call, changed_text())
        return
    await state.set_state(MoveAsking.text)
    await state.set_data({"meeting": meeting.id, "version": meeting.version})
    await call.answer()
    await bot.send_message(call.from_user.id, _request_prompt())


async def on_request_text(message: Message, state: FSMContext, repos: Repositories, i18n: I18n,
                          clock: Clock, outbox: Outbox) -> None:
    """The request: checked, saved with the message to the mentor, then the mentee is told."""
    data = await state.get_data()
    meeting = await repos.meetings.get(int(data.get("meeting", 0)))
    user_id = message.chat.id
    mentee = await _mentee_of(repos, user_id, meeting) if meeting else None
    version = int(data.get("version", 0))
    if meeting is None or mentee is None or not _open_for_request(meeting, version, clock):
        await state.clear()
        await message.answer(changed_text())
        return
    if message.text is None or not message.text.strip():
        await message.answer(_("Please write it as a text message.") + "\n\n" + _request_prompt())
        return
    if len(message.text) > REQUEST_MAX:
        await message.answer(_("The text is {length} characters long; the limit is {max}. Please shorten "
                               "it.").format(length=len(message.text), max=REQUEST_MAX))
        return
    to_mentor = await _request_message(repos, i18n, meeting, mentee, message.text.strip(), message.message_id)
    await repos.meetings.add_move_request(meeting.id, mentee.id, message.text.strip(), [to_mentor])
    await state.clear()
    outbox.wake()
    await message.answer(_("Sent to your mentor. Until they move it, the meeting stays as it is."))


async def _request_message(repos: Repositories, i18n: I18n, meeting: Meeting, mentee: Participant,
                           text: str, message_id: int) -> OutboxMessage:
    pair = await repos.pairs.get(meeting.pair_id or 0)
    mentor = await repos.participants.get(pair.mentor_id) if pair else None
    programme = await repos.programmes.get(meeting.programme_id)
    assert mentor is not None and programme is not None
    tz = await timezone(repos, programme)

    def body() -> str:
        return _("{name} asks to move the {step} ({when}):\n«{text}»").format(
            name=mentee.full_name, step=step_label(meeting.step),
            when=when_text(meeting.starts_at, tz, current_locale()), text=text)

    def markup() -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[button(
            _("Move the meeting"), MeetingCb(action="move", meeting=meeting.id, version=meeting.version))]])

    return await queued_in_language(
        repos, i18n, mentor.user_id, body, kind=MOVE_REQUEST_KIND, ref=meeting.id, markup=markup,
        dedupe=f"move-req:{meeting.id}:v{meeting.version}:{mentee.id}:{message_id}")


def router() -> Router:
    """The mentee's "Ask to move it" and the typed request (included by `handlers.scheduling.router`)."""
    r = Router(name="move_requests")
    r.callback_query.register(on_ask_move, MeetingCb.filter(F.action == "ask_move"))
    r.message.register(on_request_text, StateFilter(MoveAsking.text))
    return r
