"""Completing a programme (stage 7): awards and thank-you letters, closing it, the long-term mentor base,
and the deletion of its personal data once its retention after closing has passed.

- **Awards**: the coordinator marks mentors of the year and best pairs (toggles on paged lists) and gets
  the thank-you letters as one DOCX, a page per award, in the coordinator's language. Awards stay
  available after closing: they are part of the completion itself.
- **Closing** (confirmed): those in an active pair get the satisfaction and quality surveys (the round
  "end" the survey job uses after a final meeting, so nobody is asked twice); then, in one transaction, the
  pairs end, scheduled meetings are cancelled with their reminders, invite links are revoked, and each
  mentor is asked through the outbox whether they stay in the organisation's long-term mentor base. A
  closed programme is read-only: every changing action asks `handlers.access.programme_to_change`.
- **Retention**: a daily job (`retention_sweep`) deletes the people of programmes closed more than
  `retention_days` ago, as a withdrawal does (the anonymous consent trail stays).
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import CompletionCb, MentorBaseCb, ProgrammeCb
from bot.clock import Clock
from bot.config import Settings
from bot.documents import Letter, thank_you_docx
from bot.outbox import Outbox
from dialogs.schema import Registry
from handlers.access import (
    Screen,
    page_nav,
    page_of,
    programme_for_button,
    programme_screen,
    programme_to_change,
    show_in_place,
)
from handlers.invite_links import long_date
from handlers.notices import queued_in_language
from handlers.surveys import AT_THE_END, invite
from storage.models import OutboxMessage, Participant, Programme
from storage.repos import Repositories
from storage.repos.completion import PairNames

BASE_KIND = "mentor_base"  # the outbox kind of the long-term base question (ref: the participant)
END_SURVEYS = AT_THE_END  # satisfaction, quality, and the self-assessment again (before/after)
END_LABEL = "end"  # the same round the survey job opens after a pair's final meeting


def _names(names: list[str]) -> str:
    return ", ".join(names) if names else "—"


async def _timezone(repos: Repositories, programme: Programme) -> ZoneInfo:
    org = await repos.organisations.get(programme.organisation_id)
    return ZoneInfo(org.timezone if org else "Europe/Moscow")


async def _status_lines(repos: Repositories, i18n: I18n, programme: Programme) -> list[str]:
    closed = await repos.completion.closed_at(programme.id)
    if closed is None:
        return [_("Status: running. Close it when the work of the pairs is over.")]
    tz = await _timezone(repos, programme)
    purge_on = (closed + timedelta(days=programme.retention_days)).astimezone(tz).date()
    lines = [_("Status: closed on {date}, kept read-only. Personal data will be deleted on {purge}.").format(
        date=long_date(closed.astimezone(tz).date(), i18n), purge=long_date(purge_on, i18n))]
    if await repos.completion.purged_at(programme.id) is not None:
        lines = [_("Status: closed; its personal data has been deleted after the retention period.")]
    agreed = await repos.completion.base_names(programme.id, "agreed")
    declined = await repos.completion.base_names(programme.id, "declined")
    waiting = await repos.completion.base_names(programme.id, None)
    lines.append(_(
        "Long-term mentor base (agreed to mentor again next year): {agreed}\n"
        "Declined: {declined}. Not answered yet: {waiting}."
    ).format(agreed=_names(agreed), declined=len(declined), waiting=len(waiting)))
    return lines


async def _screen(repos: Repositories, i18n: I18n, programme: Programme) -> Screen:
    mentors = dict(await repos.completion.mentors(programme.id))
    pairs = {p.id: p for p in await repos.completion.pairs(programme.id)}
    best_mentors = [mentors[i] for i in sorted(await repos.completion.awarded(programme.id, "mentor"))
                    if i in mentors]
    best_pairs = [_pair_label(pairs[i]) for i in sorted(await repos.completion.awarded(programme.id, "pair"))
                  if i in pairs]
    lines = [_("Completing «{programme}»").format(programme=programme.title), ""]
    lines += await _status_lines(repos, i18n, programme)
    lines += ["", _("Mentor of the year: {names}").format(names=_names(best_mentors)),
              _("Best pair: {names}").format(names=_names(best_pairs))]
    kb = InlineKeyboardBuilder()
    pid = programme.id
    kb.button(text=_("Mentor of the year…"), callback_data=CompletionCb(action="mentors", programme=pid))
    kb.button(text=_("Best pair…"), callback_data=CompletionCb(action="pairs", programme=pid))
    kb.button(text=_("Thank-you letters (DOCX)"), callback_data=CompletionCb(action="letters", programme=pid))
    if await repos.completion.closed_at(pid) is None:
        kb.button(text=_("Close the programme…"),
                  callback_data=CompletionCb(action="ask_close", programme=pid))
    kb.button(text=_("Back to the card"), callback_data=ProgrammeCb(action="open", programme=pid))
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


def _pair_label(pair: PairNames) -> str:
    return "{mentor} — {mentees}".format(mentor=pair.mentor, mentees=", ".join(pair.mentees))


async def on_screen(
    call: CallbackQuery, callback_data: ProgrammeCb | CompletionCb, bot: Bot, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """The completion screen of a programme (from its card, or back to it)."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _screen(repos, i18n, programme))


async def _award_list(repos: Repositories, programme: Programme, kind: str, page: int) -> Screen:
    if kind == "mentor":
        items = await repos.completion.mentors(programme.id)
        title = _("Mentor of the year: tap a mentor to mark or unmark them.")
        empty = _("The programme has no mentors.")
    else:
        items = [(p.id, _pair_label(p)) for p in await repos.completion.pairs(programme.id)]
        title = _("Best pair: tap a pair or group to mark or unmark it.")
        empty = _("The programme has no pairs yet.")
    awarded = await repos.completion.awarded(programme.id, kind)
    shown, page, more = page_of(items, page)
    action = "award_m" if kind == "mentor" else "award_p"
    rows = [[InlineKeyboardButton(
        text=("☑ " if item_id in awarded else "☐ ") + label[:60],
        callback_data=CompletionCb(action=action, programme=programme.id, item=item_id, page=page).pack(),
    )] for item_id, label in shown]
    list_action = "mentors" if kind == "mentor" else "pairs"
    nav = page_nav(page, more, lambda n: CompletionCb(action=list_action, programme=programme.id, page=n))
    back = InlineKeyboardButton(text=_("Back"), callback_data=CompletionCb(action="screen",
                                                                           programme=programme.id).pack())
    return (title if items else empty), InlineKeyboardMarkup(inline_keyboard=rows + ([nav] if nav else [])
                                                             + [[back]])


async def on_award_list(
    call: CallbackQuery, callback_data: CompletionCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """The mentors or the pairs, paged, each a toggle."""
    kind = "mentor" if callback_data.action == "mentors" else "pair"
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: _award_list(repos, programme, kind, callback_data.page))


async def on_award(
    call: CallbackQuery, callback_data: CompletionCb, bot: Bot, settings: Settings, repos: Repositories,
    clock: Clock,
) -> None:
    """Mark or unmark a mentor of the year / a best pair of this programme."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    kind = "mentor" if callback_data.action == "award_m" else "pair"
    try:
        await repos.completion.toggle_award(programme.id, kind, callback_data.item, call.from_user.id,
                                            clock.now())
    except ValueError:
        await call.answer(_("This mentor or pair is not in the programme any more."), show_alert=True)
        return
    await call.answer()
    await show_in_place(call, bot, *await _award_list(repos, programme, kind, callback_data.page))


async def _letters(repos: Repositories, programme: Programme) -> list[Letter]:
    mentors = dict(await repos.completion.mentors(programme.id))
    pairs = {p.id: p for p in await repos.completion.pairs(programme.id)}
    letters = [Letter(_("Mentor of the year"), (mentors[i],))
               for i in sorted(await repos.completion.awarded(programme.id, "mentor")) if i in mentors]
    letters += [Letter(_("Best pair"), (pairs[i].mentor, *pairs[i].mentees))
                for i in sorted(await repos.completion.awarded(programme.id, "pair")) if i in pairs]
    return letters


async def on_letters(
    call: CallbackQuery, callback_data: CompletionCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n, clock: Clock,
) -> None:
    """The thank-you letters of every award as one DOCX, a page each."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    letters = await _letters(repos, programme)
    if not letters:
        await call.answer(_("Mark a mentor of the year or a best pair first."), show_alert=True)
        return
    org = await repos.organisations.get(programme.organisation_id)
    today = clock.now().astimezone(await _timezone(repos, programme)).date()
    data = thank_you_docx(org.name if org else "", programme.title, letters, today, i18n.current_locale)
    await call.answer()
    await bot.send_document(
        call.from_user.id, BufferedInputFile(data, filename=f"thank-you-{programme.id}.docx"),
        caption=_("Thank-you letters: {count}.").format(count=len(letters)),
    )


async def on_ask_close(
    call: CallbackQuery, callback_data: CompletionCb, bot: Bot, settings: Settings, repos: Repositories
) -> None:
    """Confirm before the programme is closed."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    text = _(
        "Close «{programme}»? Its pairs end; those in a pair who have not been asked yet get the "
        "satisfaction and quality surveys; scheduled meetings are cancelled; invite links stop working; "
        "mentors are asked whether they stay in the long-term mentor base. The programme is then kept "
        "read-only, and its personal data is deleted {days} days later. This cannot be undone."
    ).format(programme=programme.title, days=programme.retention_days)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, close the programme"),
              callback_data=CompletionCb(action="close", programme=programme.id))
    kb.button(text=_("No, back"), callback_data=CompletionCb(action="screen", programme=programme.id))
    kb.adjust(1)
    await call.answer()
    await show_in_place(call, bot, text, kb.as_markup())


async def _people_in_pairs(repos: Repositories, programme: Programme) -> list[Participant]:
    people = []
    for pair in await repos.pairs.active(programme.id):
        for participant_id in (pair.mentor_id, *pair.mentee_ids):
            person = await repos.participants.get(participant_id)
            if person is not None:
                people.append(person)
    return people


def _base_markup(participant_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("Yes, keep me in the base"),
                              callback_data=MentorBaseCb(action="y", participant=participant_id).pack())],
        [InlineKeyboardButton(text=_("No, thank you"),
                              callback_data=MentorBaseCb(action="n", participant=participant_id).pack())],
    ])


async def _ask_base(
    repos: Repositories, i18n: I18n, programme: Programme, mentor_ids: list[int] | tuple[int, ...]
) -> list[OutboxMessage]:
    org = await repos.organisations.get(programme.organisation_id)
    messages = []
    for participant_id in mentor_ids:
        mentor = await repos.participants.get(participant_id)
        if mentor is None:
            continue
        messages.append(await queued_in_language(
            repos, i18n, mentor.user_id,
            lambda: _(
                "The mentoring programme «{programme}» is complete. Thank you for your work as a "
                "mentor!\n\n"
                "Would you like to stay in the long-term mentor base of {organisation}? The coordinator "
                "will then invite you to mentor again when the programme starts next year."
            ).format(programme=programme.title, organisation=org.name if org else ""),
            kind=BASE_KIND, ref=participant_id, dedupe=f"mentor-base:{participant_id}",
            markup=lambda participant_id=participant_id: _base_markup(participant_id),
        ))
    return messages


async def on_close(
    call: CallbackQuery, callback_data: CompletionCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n, questionnaires: Registry, clock: Clock, outbox: Outbox,
) -> None:
    """Close the programme (see the module's notes); the surveys first, so a failure in between loses
    nothing: pressing again asks nobody twice."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    now = clock.now()
    people = await _people_in_pairs(repos, programme)
    asked = 0
    for kind in END_SURVEYS:
        _round, count = await invite(repos, i18n, questionnaires, programme, kind, END_LABEL, people, now,
                                     by=call.from_user.id)
        asked += count
    done = await repos.completion.close(
        programme.id, call.from_user.id, now, lambda ids: _ask_base(repos, i18n, programme, list(ids))
    )
    outbox.wake()
    await call.answer()
    if done is None:
        await show_in_place(call, bot, *await _screen(repos, i18n, programme))
        return
    summary = _(
        "The programme is closed. Pairs ended: {pairs}. Survey invitations sent: {surveys}. Meetings "
        "cancelled: {meetings}. Mentors asked about the long-term base: {mentors}."
    ).format(pairs=done.pairs_ended, surveys=asked, meetings=done.meetings_cancelled,
             mentors=done.mentors_asked)
    text, markup = await _screen(repos, i18n, programme)
    await show_in_place(call, bot, summary + "\n\n" + text, markup)


async def on_base_answer(
    call: CallbackQuery, callback_data: MentorBaseCb, repos: Repositories, clock: Clock
) -> None:
    """A mentor's Yes / No about the long-term base (they may change it with the other button)."""
    mentor = await repos.participants.get(callback_data.participant)
    agreed = callback_data.action == "y"
    if (
        mentor is None or mentor.user_id != call.from_user.id
        or not await repos.completion.answer_base(mentor.id, "agreed" if agreed else "declined", clock.now())
    ):
        await call.answer(_("This button is not for you."), show_alert=True)
        return
    await call.answer()
    if agreed:
        text = _("Thank you! You stay in the long-term mentor base: the coordinator will invite you to "
                 "mentor again when the programme starts next year.")
    else:
        text = _("Noted: you are not in the long-term mentor base. Thank you for your work!")
    if isinstance(call.message, Message):
        await call.message.answer(text)


async def retention_sweep(repos: Repositories, clock: Clock) -> int:
    """The daily job: delete the personal data of programmes closed longer ago than their retention.
    How many people were deleted."""
    deleted = 0
    for programme_id in await repos.completion.past_retention(clock.now()):
        deleted += await repos.completion.purge(programme_id, clock.now())
    return deleted


def router() -> Router:
    """The completion screen, awards, letters, closing and the mentors' base answers."""
    r = Router(name="completion")
    r.callback_query.register(on_screen, ProgrammeCb.filter(F.action == "complete"))
    r.callback_query.register(on_screen, CompletionCb.filter(F.action == "screen"))
    r.callback_query.register(on_award_list, CompletionCb.filter(F.action.in_({"mentors", "pairs"})))
    r.callback_query.register(on_award, CompletionCb.filter(F.action.in_({"award_m", "award_p"})))
    r.callback_query.register(on_letters, CompletionCb.filter(F.action == "letters"))
    r.callback_query.register(on_ask_close, CompletionCb.filter(F.action == "ask_close"))
    r.callback_query.register(on_close, CompletionCb.filter(F.action == "close"))
    r.callback_query.register(on_base_answer, MentorBaseCb.filter(F.action.in_({"y", "n"})))
    return r
