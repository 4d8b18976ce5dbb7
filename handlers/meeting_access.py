"""Who may change a meeting, and the small pieces the meeting handlers share (`scheduling`, `meeting_cancel`,
`move_requests`, `meeting_log`, `meeting_feedback`): the pair's mentor changes its meetings, a coordinator of
the programme the group final meeting; a button of a meeting that has changed since is refused. Also the
meeting's Move / Cancel buttons, the texts of those refusals, the organisation's timezone, a pair's member
by who taps, and the filter for typed answers.
"""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MeetingCb, button
from bot.config import Settings
from handlers.access import managed_programme, refuse
from storage.models import Meeting, MeetingStatus, Pair, Participant, Programme
from storage.repos import Repositories

not_command = ~F.text.startswith("/")  # a typed answer, not a command


def changed_text() -> str:
    return _("This meeting has changed since this message (it was moved, cancelled or logged). "
             "Use the newest message about it.")


def not_yours_text() -> str:
    return _("Only the pair's mentor can schedule, move or cancel its meetings.")


# ----------------------------------------------------------------- who may do what


async def timezone(repos: Repositories, programme: Programme) -> str:
    org = await repos.organisations.get(programme.organisation_id)
    return org.timezone if org else "Europe/Moscow"


async def led_pair(repos: Repositories, user_id: int, pair_id: int) -> tuple[Pair, Participant] | None:
    """The active pair and its mentor, if the person is that mentor."""
    pair = await repos.pairs.get(pair_id)
    mentor = await repos.participants.get(pair.mentor_id) if pair else None
    if pair is None or mentor is None or mentor.user_id != user_id:
        return None
    active = await repos.pairs.of_participant(mentor.id)
    return (pair, mentor) if active is not None and active.id == pair.id else None


async def member(repos: Repositories, pair: Pair, user_id: int, *, mentor: bool) -> Participant | None:
    """The tapping person as the pair's mentor (mentor=True) or as one of its mentees."""
    ids = (pair.mentor_id,) if mentor else pair.mentee_ids
    for participant_id in ids:
        person = await repos.participants.get(participant_id)
        if person is not None and person.user_id == user_id:
            return person
    return None


async def may_change(user_id: int, meeting: Meeting, settings: Settings, repos: Repositories) -> bool:
    """The pair's mentor changes its meetings; a coordinator of the programme changes the group final."""
    if meeting.pair_id is None:
        return await managed_programme(user_id, meeting.programme_id, settings, repos) is not None
    return await led_pair(repos, user_id, meeting.pair_id) is not None


def meeting_markup(meeting: Meeting) -> InlineKeyboardMarkup:
    """A scheduled meeting's buttons: move it, cancel it."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        button(_("Move"), MeetingCb(action="move", meeting=meeting.id, version=meeting.version)),
        button(_("Cancel the meeting"),
               MeetingCb(action="cancel_ask", meeting=meeting.id, version=meeting.version)),
    ]])


async def changeable(call: CallbackQuery, callback_data: MeetingCb, settings: Settings,
                     repos: Repositories) -> Meeting | None:
    """The button's meeting if the person may change it and it is as the button was drawn; else refused."""
    meeting = await repos.meetings.get(callback_data.meeting)
    if meeting is None or not await may_change(call.from_user.id, meeting, settings, repos):
        await refuse(call, not_yours_text())
        return None
    if meeting.status is not MeetingStatus.SCHEDULED or meeting.version != callback_data.version:
        await refuse(call, changed_text())
        return None
    return meeting
