"""What follows a logged meeting: the follow-ups it queues, the mentees' feedback and the fit check.

`follow_ups` composes what a logged meeting sends (`handlers.meeting_log` passes it to `repos.meetings.log`,
which queues it in the log's transaction): a held meeting asks each mentee for a rating 1–5 (`MeetingCb`
"fb"), then an optional comment (or "fb_skip"); after the organisational meeting the mentor and each mentee
are asked privately whether the pair fits (`MeetingCb` "fit"), and "not a good fit" sends a re-pair request
to the programme's coordinators.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb, button
from bot.i18n import current_locale
from bot.labels import role_label, step_label
from bot.outbox import Outbox
from bot.states import MeetingLogging
from handlers.access import refuse
from handlers.meeting_access import member, not_command
from handlers.meeting_notices import audience, when_text
from handlers.notices import queued_in_language
from handlers.questionnaire_screen import close_keyboard
from storage.models import Meeting, MeetingStatus, OutboxMessage, Pair, Participant
from storage.repos import Repositories
from storage.repos.meetings import FIT_ANSWERS

COMMENT_LENGTH = 1000
FEEDBACK_KIND, FIT_KIND, REPAIR_KIND = "feedback", "fit_check", "repair_request"
FEEDBACK = "meeting_feedback"

# --- follow-ups of a logged meeting --------------------------------------------------------------------


async def follow_ups(repos: Repositories, i18n: I18n, meeting: Meeting) -> list[OutboxMessage]:
    """What a logged meeting sends: a held one asks each mentee for feedback; after the organisational
    meeting, the fit check goes to the mentor and each mentee privately."""
    if meeting.status is not MeetingStatus.HELD or meeting.pair_id is None:
        return []
    people = await audience(repos, meeting)
    out = [await _feedback_request(repos, i18n, meeting, people.programme.title, people.timezone, mentee)
           for mentee in people.mentees]
    if meeting.step == "organisational":
        out += [await _fit_question(repos, i18n, meeting.pair_id, people.programme.title, person)
                for person in (*people.mentors, *people.mentees)]
    return out


async def _feedback_request(
    repos: Repositories, i18n: I18n, meeting: Meeting, title: str, tz: str, mentee: Participant
) -> OutboxMessage:
    def text() -> str:
        return _("How useful was the {step} of «{programme}» ({when}) for you? Rate it from 1 to 5. Only the "
                 "coordinator sees your answer.").format(
            step=step_label(meeting.step), programme=title,
            when=when_text(meeting.starts_at, tz, current_locale()))

    def markup() -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[
            button(str(n), MeetingCb(action="fb", meeting=meeting.id, value=str(n)).pack())
            for n in range(1, 6)]])

    return await queued_in_language(repos, i18n, mentee.user_id, text, kind=FEEDBACK_KIND, ref=meeting.id,
                                    dedupe=f"fb:{meeting.id}:{mentee.id}", markup=markup)


def _fit_labels() -> dict[str, str]:
    return {"good": _("Good fit"), "unsure": _("Not sure yet"), "bad": _("Not a good fit")}


async def _fit_question(
    repos: Repositories, i18n: I18n, pair_id: int, title: str, person: Participant
) -> OutboxMessage:
    def text() -> str:
        return _("After your organisational meeting in «{programme}»: does your pair fit? Your answer is "
                 "private: only the coordinator sees it.").format(programme=title)

    def markup() -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[
            [button(label, MeetingCb(action="fit", pair=pair_id, value=answer).pack())]
            for answer, label in _fit_labels().items()])

    return await queued_in_language(repos, i18n, person.user_id, text, kind=FIT_KIND, ref=pair_id,
                                    dedupe=f"fit:{pair_id}:{person.id}", markup=markup)


# --- feedback ------------------------------------------------------------------------------------------


async def on_feedback(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, state: FSMContext, repos: Repositories
) -> None:
    """A mentee's rating 1–5, once; then the optional comment."""
    meeting = await repos.meetings.get(callback_data.meeting)
    pair = await repos.pairs.get(meeting.pair_id) if meeting and meeting.pair_id is not None else None
    if meeting is None or pair is None or meeting.status is not MeetingStatus.HELD \
            or callback_data.value not in {"1", "2", "3", "4", "5"}:
        await refuse(call, _("This meeting cannot be rated."))
        return
    mentee = await member(repos, pair, call.from_user.id, mentor=False)
    if mentee is None:
        await refuse(call, _("Only the mentees of this pair rate its meetings."))
        return
    if not await repos.meetings.add_feedback(meeting.id, mentee.id, int(callback_data.value)):
        await refuse(call, _("You have already rated this meeting."))
        return
    await call.answer()
    await close_keyboard(call.message if isinstance(call.message, Message) else None,
                         f"{callback_data.value}/5")
    await state.set_state(MeetingLogging.comment)
    await state.set_data({FEEDBACK: {"meeting": meeting.id, "participant": mentee.id}})
    skip = MeetingCb(action="fb_skip", meeting=meeting.id).pack()
    await bot.send_message(
        call.from_user.id,
        _("Thank you, your rating is saved. Add a comment if you like (up to {limit} characters), or tap "
          "Skip.").format(limit=COMMENT_LENGTH),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button(_("Skip"), skip)]]))


async def on_feedback_skip(call: CallbackQuery, callback_data: MeetingCb, state: FSMContext) -> None:
    """No comment."""
    pending = (await state.get_data()).get(FEEDBACK)
    if pending and pending["meeting"] == callback_data.meeting:
        await state.clear()
    await call.answer()
    await close_keyboard(call.message if isinstance(call.message, Message) else None, _("Skip"))


async def on_comment_typed(message: Message, state: FSMContext, repos: Repositories) -> None:
    """The comment on a rating."""
    pending = (await state.get_data()).get(FEEDBACK)
    if pending is None:
        await state.clear()
        await message.answer(_("This step is over. /start — main menu."))
        return
    text = (message.text or "").strip()
    if not text or len(text) > COMMENT_LENGTH:
        await message.answer(_("Send the comment as a text message of up to {limit} characters, or tap "
                               "Skip.").format(limit=COMMENT_LENGTH))
        return
    saved = await repos.meetings.comment_feedback(pending["meeting"], pending["participant"], text)
    await state.clear()
    await message.answer(_("Thank you, your comment is saved. Only the coordinator sees it.") if saved
                         else _("You have already commented on this meeting."))


# --- the fit check -------------------------------------------------------------------------------------


async def on_fit(
    call: CallbackQuery, callback_data: MeetingCb, bot: Bot, repos: Repositories, i18n: I18n, outbox: Outbox
) -> None:
    """A side's private answer whether the pair fits; "not a good fit" goes to the coordinators."""
    pair = await repos.pairs.get(callback_data.pair)
    if pair is None or callback_data.value not in FIT_ANSWERS or not await _organisational_held(repos, pair):
        await refuse(call, _("This question is no longer open."))
        return
    person = (await member(repos, pair, call.from_user.id, mentor=True)
              or await member(repos, pair, call.from_user.id, mentor=False))
    if person is None:
        await refuse(call, _("This question is not for you."))
        return
    answer = callback_data.value
    messages = await repair_request(repos, i18n, pair, person) if answer == "bad" else []
    if not await repos.meetings.answer_fit(pair.id, person.id, answer, messages):
        await refuse(call, _("You have already answered this question."))
        return
    outbox.wake()
    await call.answer()
    await close_keyboard(call.message if isinstance(call.message, Message) else None, _fit_labels()[answer])
    reply = (_("Thank you. The coordinator will get in touch with you about your pair. Nobody else sees "
               "your answer.") if answer == "bad"
             else _("Thank you! Nobody but the coordinator sees your answer."))
    await bot.send_message(call.from_user.id, reply)


async def _organisational_held(repos: Repositories, pair: Pair) -> bool:
    return any(m.step == "organisational" and m.status is MeetingStatus.HELD
               for m in await repos.meetings.of_pair(pair.id))


async def repair_request(
    repos: Repositories, i18n: I18n, pair: Pair, person: Participant
) -> list[OutboxMessage]:
    """The re-pair request to the programme's coordinators, each in their language."""
    programme = await repos.programmes.get(pair.programme_id)
    if programme is None:
        return []
    mentor = await repos.participants.get(pair.mentor_id)
    mentees = [m for i in pair.mentee_ids if (m := await repos.participants.get(i)) is not None]
    out = []
    for coordinator in await repos.organisations.coordinators(programme.organisation_id):
        def text() -> str:
            return _("Re-pair request in «{programme}»: {name} ({role}) says the pair of {mentor} with "
                     "{mentees} is not a good fit after their organisational meeting.").format(
                programme=programme.title, name=person.full_name, role=role_label(person.role),
                mentor=mentor.full_name if mentor else "—", mentees=", ".join(m.full_name for m in mentees))

        out.append(await queued_in_language(
            repos, i18n, coordinator.user_id, text, kind=REPAIR_KIND, ref=pair.id,
            dedupe=f"repair:{pair.id}:{person.id}:{coordinator.user_id}"))
    return out


def router() -> Router:
    """Feedback and the fit check; included by `handlers.meeting_log.router`."""
    r = Router(name="meeting_feedback")
    r.callback_query.register(on_feedback, MeetingCb.filter(F.action == "fb"))
    r.callback_query.register(on_feedback_skip, MeetingCb.filter(F.action == "fb_skip"))
    r.callback_query.register(on_fit, MeetingCb.filter(F.action == "fit"))
    r.message.register(on_comment_typed, MeetingLogging.comment, not_command)
    return r
