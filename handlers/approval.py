"""Approval of accepted pairs: they become active, everyone concerned is told, the school gets documents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MatchCb, MeetingCb, button
from bot.config import Settings
from bot.documents import PairRow, PersonRow, lists_xlsx, order_docx
from bot.labels import form_label, role_label, state_label
from bot.outbox import Outbox
from dialogs.schema import Registry
from handlers.access import programme_for_button, programme_to_change, show_in_place
from handlers.matching import _back_to_overview, overview, stale_text
from handlers.notices import queued_in_language
from storage.models import MatchProposal, OutboxMessage, Participant, Programme, ProposalStatus, Role
from storage.repos import Repositories
from storage.repos.pairs import StaleDecision

PAIR_KIND = "pair"


async def on_ask(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                 repos: Repositories) -> None:
    """Confirm before the accepted pairs become active and people are told."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    accepted = await repos.pairs.proposals(programme.id, ProposalStatus.ACCEPTED)
    mentors = len({p.mentor_id for p in accepted})
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Yes, approve"), MatchCb(action="apy", programme=programme.id))],
        _back_to_overview(programme),
    ])
    await call.answer()
    await show_in_place(call, bot, _(
        "Approve {pairs} accepted pairs ({mentors} mentors)? They become active: each mentor, mentee and "
        "the parents of minors are told who the partner is and what comes next. Pairs not accepted stay "
        "as they are."
    ).format(pairs=len(accepted), mentors=mentors), markup)


async def _message(repos: Repositories, i18n: I18n, user_id: int, dedupe: str, ref: int,
                   text: Callable[[], str],
                   markup: Callable[[], InlineKeyboardMarkup] | None = None) -> OutboxMessage:
    return await queued_in_language(repos, i18n, user_id, text, kind=PAIR_KIND, dedupe=dedupe, ref=ref,
                                    markup=markup)


def _schedule_markup(programme: Programme) -> InlineKeyboardMarkup:
    """The mentor's button to schedule the first meeting (their pair is found when it is tapped)."""
    cb = MeetingCb(action="schedule", value=str(programme.id))
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Schedule the organisational meeting"), callback_data=cb.pack())]])


async def _messages(repos: Repositories, i18n: I18n, programme: Programme,
                    accepted: list[MatchProposal]) -> list[OutboxMessage]:
    """What the mentors, the mentees and the minors' parents are told about their new pair."""
    groups: dict[int, list[int]] = defaultdict(list)
    for proposal in accepted:
        groups[proposal.mentor_id].append(proposal.mentee_id)
    out: list[OutboxMessage] = []
    title = programme.title
    for mentor_id, mentee_ids in groups.items():
        mentor = await repos.participants.get(mentor_id)
        mentees = [m for i in sorted(mentee_ids) if (m := await repos.participants.get(i)) is not None]
        if mentor is None or not mentees:
            continue
        names = ", ".join(m.full_name for m in mentees)
        key = f"pair:{programme.id}:{mentor.id}:" + ",".join(str(m.id) for m in mentees)
        out.append(await _message(repos, i18n, mentor.user_id, key, programme.id, lambda names=names: _(
            "Your mentoring in «{programme}» is approved. Your mentees: {names}.\n\n"
            "What comes next: arrange the first, organisational meeting with them. /mypairs shows your "
            "mentees; the bot will help you schedule and log the meetings."
        ).format(programme=title, names=names), lambda: _schedule_markup(programme)))
        for guardian in await repos.participants.guardians(mentor.id):
            out.append(await _message(
                repos, i18n, guardian, f"{key}:parent:{guardian}", programme.id,
                lambda mentor=mentor, names=names: _(
                    "{child} is now a mentor in «{programme}». Mentees: {names}."
                ).format(child=mentor.full_name, programme=title, names=names)))
        for mentee in mentees:
            out += await _mentee_messages(repos, i18n, programme, mentor, mentee)
    return out


async def _mentee_messages(repos: Repositories, i18n: I18n, programme: Programme, mentor: Participant,
                           mentee: Participant) -> list[OutboxMessage]:
    key = f"pair:{programme.id}:{mentee.id}"
    out = [await _message(repos, i18n, mentee.user_id, key, programme.id, lambda: _(
        "Your mentor in «{programme}» is {mentor}.\n\n"
        "What comes next: your mentor will invite you to the first meeting here in the bot. /mymentor "
        "shows who your mentor is."
    ).format(programme=programme.title, mentor=mentor.full_name))]
    for guardian in await repos.participants.guardians(mentee.id):
        out.append(await _message(repos, i18n, guardian, f"{key}:parent:{guardian}", programme.id, lambda: _(
            "{child} now has a mentor in «{programme}»: {mentor}. The bot will tell {child} about the "
            "meetings."
        ).format(child=mentee.full_name, programme=programme.title, mentor=mentor.full_name)))
    return out


async def on_approve(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                     repos: Repositories, questionnaires: Registry, i18n: I18n, outbox: Outbox) -> None:
    """The accepted pairs become active; the messages are queued in the same transaction; documents sent."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    accepted = await repos.pairs.proposals(programme.id, ProposalStatus.ACCEPTED)
    if not accepted:
        await call.answer(_("There are no accepted pairs to approve."), show_alert=True)
        return
    messages = await _messages(repos, i18n, programme, accepted)
    try:
        pairs = await repos.pairs.approve(programme.id, [p.id for p in accepted], call.from_user.id, messages)
    except StaleDecision:
        await call.answer(stale_text(), show_alert=True)
        return
    outbox.wake()
    await call.answer()
    note = _("Approved: {pairs} pairs and groups, {mentees} mentees. Messages queued: {messages}.").format(
        pairs=len(pairs), mentees=len(accepted), messages=len(messages))
    await show_in_place(call, bot, *await overview(repos, questionnaires, programme, note))
    await send_documents(bot, call.from_user.id, repos, i18n, programme)


async def on_documents(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                       repos: Repositories, i18n: I18n) -> None:
    """The order draft and the lists, as they stand now."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    await call.answer()
    await send_documents(bot, call.from_user.id, repos, i18n, programme)


async def _pair_rows(repos: Repositories, programme: Programme) -> tuple[list[PairRow], dict[int, list[str]]]:
    """The approved pairs, and each participant's partners' names."""
    org = await repos.organisations.get(programme.organisation_id)
    timezone = ZoneInfo(org.timezone if org else "Europe/Moscow")
    rows: list[PairRow] = []
    partners: dict[int, list[str]] = defaultdict(list)
    for pair in await repos.pairs.active(programme.id):
        mentor = await repos.participants.get(pair.mentor_id)
        mentees = [m for i in pair.mentee_ids if (m := await repos.participants.get(i)) is not None]
        if mentor is None or not mentees:
            continue
        mentees.sort(key=lambda m: m.full_name)
        rows.append(PairRow(mentor.full_name, tuple(m.full_name for m in mentees), form_label(mentor.form),
                            programme.start_date, programme.end_date,
                            pair.approved_at.astimezone(timezone).date()))
        partners[mentor.id] += [m.full_name for m in mentees]
        for mentee in mentees:
            partners[mentee.id].append(mentor.full_name)
    return rows, partners


async def send_documents(
    bot: Bot, chat_id: int, repos: Repositories, i18n: I18n, programme: Programme
) -> None:
    """The DOCX order draft (approved pairs) and the XLSX lists, in the coordinator's language."""
    org = await repos.organisations.get(programme.organisation_id)
    pairs, partners = await _pair_rows(repos, programme)
    people: list[PersonRow] = []
    for role in (Role.MENTOR, Role.MENTEE):
        for person, state in await repos.participants.of_programme(programme.id, role, limit=None):
            people.append(PersonRow(
                person.full_name, role_label(role), form_label(person.form), person.is_minor,
                state_label(state), tuple(partners.get(person.id, ())),
            ))
    lists = lists_xlsx(programme.title, people, pairs)
    caption = _("Participants and pairs of «{programme}».").format(programme=programme.title)
    await bot.send_document(
        chat_id, BufferedInputFile(lists, filename=f"pairs-{programme.id}.xlsx"), caption=caption
    )
    if not pairs:
        await bot.send_message(chat_id, _("The order draft is made once pairs are approved."))
        return
    order = order_docx(org.name if org else "", programme.title, pairs, i18n.current_locale)
    await bot.send_document(chat_id, BufferedInputFile(order, filename=f"order-pairs-{programme.id}.docx"),
                            caption=_("Draft order «On approving mentoring pairs/groups»: check, number and "
                                      "sign it."))


def router() -> Router:
    """Approval and documents (each checks the person's access to the programme)."""
    r = Router(name="approval")
    r.callback_query.register(on_ask, MatchCb.filter(F.action == "ap"))
    r.callback_query.register(on_approve, MatchCb.filter(F.action == "apy"))
    r.callback_query.register(on_documents, MatchCb.filter(F.action == "docs"))
    return r
