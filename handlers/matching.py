"""A coordinator's matching screens: run, review the explained proposals, accept, reject (swapping and
pairing by hand are in handlers.matching_hand).

Every button re-reads the programme (access checked) and the proposal or person it names: a stale screen or
a forged id is refused, never acted on. Approval and documents are in handlers.approval.
"""

from __future__ import annotations

from collections import Counter

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MatchCb, ProgrammeCb, button
from bot.config import Settings
from bot.labels import form_label
from dialogs.schema import Registry
from handlers import pairing
from handlers.access import page_nav, page_of, programme_screen, programme_to_change, show_in_place
from storage.models import MatchProposal, Programme, ProposalStatus
from storage.repos import Repositories

PER_PAGE = 8


def _back_to_overview(programme: Programme) -> list[InlineKeyboardButton]:
    return [button(_("Back to matching"), MatchCb(action="v", programme=programme.id))]


def stale_text() -> str:
    """A button about a proposal that changed since the screen was drawn."""
    return _("This proposal has changed since the screen was shown. Open the list again.")


# --- the overview ------------------------------------------------------------------------------------


async def overview(
    repos: Repositories, registry: Registry, programme: Programme, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """Where matching stands, with the next actions."""
    pool = await pairing.load_pool(repos, registry, programme.id)
    statuses = Counter(p.status for p in await repos.pairs.proposals(programme.id))
    unmatched = len(await repos.pairs.unmatched(programme.id))
    pairs = await repos.pairs.active(programme.id)
    mentors = pool.mentors()
    lines = [
        _("Matching of «{programme}»").format(programme=programme.title),
        "",
        _("Ready mentors with a questionnaire: {mentors} (places for mentees: {places})").format(
            mentors=len(mentors), places=sum(m.capacity for m in mentors)),
        _("Mentees with a questionnaire: {count}").format(count=len(pool.mentees())),
        _("Proposed: {proposed} · accepted: {accepted} · rejected: {rejected}").format(
            proposed=statuses[ProposalStatus.PROPOSED], accepted=statuses[ProposalStatus.ACCEPTED],
            rejected=statuses[ProposalStatus.REJECTED]),
        _("Left without a proposal: {count}").format(count=unmatched),
        _("Approved pairs and groups: {pairs} (mentees in them: {mentees})").format(
            pairs=len(pairs), mentees=sum(len(p.mentee_ids) for p in pairs)),
    ]
    if note:
        lines = [note, "", *lines]
    here = MatchCb(action="v", programme=programme.id)
    ever = any(statuses.values()) or pairs
    rows = [[button(_("Run matching again for the rest") if ever else _("Run matching"),
                     here.model_copy(update={"action": "run"}))]]
    lists = [
        (ProposalStatus.PROPOSED, _("Proposed ({count})")),
        (ProposalStatus.ACCEPTED, _("Accepted ({count})")),
        (ProposalStatus.REJECTED, _("Rejected ({count})")),
    ]
    rows += [[button(label.format(count=statuses[status]),
                      here.model_copy(update={"action": "l", "value": status.value}))]
             for status, label in lists if statuses[status]]
    if unmatched:
        rows.append([button(_("Without a pair ({count})").format(count=unmatched),
                             here.model_copy(update={"action": "um"}))])
    rows.append([button(_("Pair by hand"), here.model_copy(update={"action": "mh"}))])
    if statuses[ProposalStatus.PROPOSED]:
        label = _("Accept all proposed ({count})").format(count=statuses[ProposalStatus.PROPOSED])
        rows.append([button(label, here.model_copy(update={"action": "all"}))])
    if statuses[ProposalStatus.ACCEPTED]:
        rows.append([button(_("Approve accepted pairs ({count})").format(
            count=statuses[ProposalStatus.ACCEPTED]), here.model_copy(update={"action": "ap"}))])
    if pairs or statuses[ProposalStatus.ACCEPTED]:
        rows.append([button(_("Documents"), here.model_copy(update={"action": "docs"}))])
    rows.append([InlineKeyboardButton(
        text=_("Back to the programme"),
        callback_data=ProgrammeCb(action="open", programme=programme.id).pack())])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def on_view(call: CallbackQuery, callback_data: MatchCb | ProgrammeCb, bot: Bot, settings: Settings,
                  repos: Repositories, questionnaires: Registry) -> None:
    """«Matching and pairs» on the programme card, or back to the overview."""
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: overview(repos, questionnaires, programme))


async def on_run(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                 repos: Repositories, questionnaires: Registry) -> None:
    """Run the engine for everyone not accepted or paired yet; decisions taken are kept."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    proposed, unmatched = await pairing.run(repos, questionnaires, programme.id)
    note = _("Matching done: {proposed} new proposals, {unmatched} without a pair.").format(
        proposed=proposed, unmatched=unmatched)
    await call.answer()
    await show_in_place(call, bot, *await overview(repos, questionnaires, programme, note))


# --- lists and the proposal card ---------------------------------------------------------------------


def _status_from(value: str) -> ProposalStatus:
    try:
        return ProposalStatus(value)
    except ValueError:
        return ProposalStatus.PROPOSED


async def proposal_list(repos: Repositories, programme: Programme, status: ProposalStatus,
                        page: int) -> tuple[str, InlineKeyboardMarkup]:
    """A page of proposals in one status, one button per pair."""
    found = await repos.pairs.proposals(programme.id, status)
    names = await repos.participants.names([i for p in found for i in (p.mentor_id, p.mentee_id)])
    found.sort(key=lambda p: (names.get(p.mentor_id, ""), names.get(p.mentee_id, ""), p.id))
    shown, page, more = page_of(found, page, PER_PAGE)
    here = MatchCb(action="l", programme=programme.id, value=status.value, page=page)
    rows = [[button(f"{names.get(p.mentor_id, '?')} → {names.get(p.mentee_id, '?')}"[:64],
                     here.model_copy(update={"action": "c", "item": p.id}))] for p in shown]
    nav = page_nav(page, more, lambda n: here.model_copy(update={"page": n}))
    rows += [nav] if nav else []
    rows.append(_back_to_overview(programme))
    titles = {
        ProposalStatus.PROPOSED: _("Proposed pairs of «{programme}»: {count}. Mentor → mentee."),
        ProposalStatus.ACCEPTED: _("Accepted pairs of «{programme}»: {count}. Mentor → mentee."),
        ProposalStatus.REJECTED: _("Rejected pairs of «{programme}»: {count}. Mentor → mentee."),
    }
    text = titles[status].format(programme=programme.title, count=len(found))
    if not found:
        text += "\n\n" + _("None here now.")
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_list(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                  repos: Repositories) -> None:
    """Proposed, accepted or rejected pairs."""
    status = _status_from(callback_data.value)
    await programme_screen(call, callback_data.programme, bot, settings, repos,
                           lambda programme: proposal_list(repos, programme, status, callback_data.page))


async def _proposal_for(call: CallbackQuery, callback_data: MatchCb, settings: Settings,
                        repos: Repositories) -> tuple[Programme, MatchProposal] | None:
    """The programme and the proposal a button names, if the person runs it and it is still there."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return None
    proposal = await repos.pairs.proposal(callback_data.item)
    if proposal is None or proposal.programme_id != programme.id:
        await call.answer(stale_text(), show_alert=True)
        return None
    return programme, proposal


async def proposal_card(
    repos: Repositories, registry: Registry, programme: Programme, proposal: MatchProposal, back: MatchCb,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """A pair with why it was proposed, and what the coordinator can do with it."""
    mentor = await repos.participants.get(proposal.mentor_id)
    mentee = await repos.participants.get(proposal.mentee_id)
    questionnaires = []
    for person in (mentee, mentor):
        if person is not None:
            questionnaires.append(registry.for_participant(person.role, person.form))
    statuses = {
        ProposalStatus.PROPOSED: _("proposed"),
        ProposalStatus.ACCEPTED: _("accepted (paired by hand)") if proposal.manual else _("accepted"),
        ProposalStatus.REJECTED: _("rejected"),
    }
    group = [p for p in await repos.pairs.proposals(programme.id) if p.mentor_id == proposal.mentor_id
             and p.status is not ProposalStatus.REJECTED]
    text = _(
        "Mentor: {mentor}\nMentee: {mentee}\nForm of mentoring: {form}\nCompatibility: {score}\n"
        "Why: {why}\nStatus: {status}"
    ).format(
        mentor=mentor.full_name if mentor else "?", mentee=mentee.full_name if mentee else "?",
        form=form_label(mentee.form) if mentee else "", score=f"{proposal.score:g}",
        why=pairing.explain(proposal.reasons, questionnaires, locale), status=statuses[proposal.status],
    )
    if len(group) > 1:
        text += "\n" + ngettext("This mentor would lead a group of {count} mentee.",
                                 "This mentor would lead a group of {count} mentees.",
                                 len(group)).format(count=len(group))
    here = MatchCb(action="c", programme=programme.id, item=proposal.id, value=back.value, page=back.page)
    rows = []
    if proposal.status is ProposalStatus.PROPOSED:
        rows.append([button(_("Accept"), here.model_copy(update={"action": "a"})),
                     button(_("Reject"), here.model_copy(update={"action": "r"}))])
    elif proposal.status is ProposalStatus.ACCEPTED:
        rows.append([button(_("Undo acceptance"), here.model_copy(update={"action": "u"}))])
    if proposal.status is not ProposalStatus.REJECTED:
        rows.append([button(_("Swap mentors with another pair"), here.model_copy(update={"action": "sw"}))])
        rows.append([button(_("Choose another mentor by hand"),
                             here.model_copy(update={"action": "mm", "item": proposal.mentee_id}))])
    rows.append([button(_("Back to the list"), back), *_back_to_overview(programme)])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_card(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                  repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """One proposal with its reasons."""
    found = await _proposal_for(call, callback_data, settings, repos)
    if found is None:
        return
    programme, proposal = found
    back = MatchCb(action="l", programme=programme.id, value=callback_data.value, page=callback_data.page)
    await call.answer()
    await show_in_place(call, bot, *await proposal_card(
        repos, questionnaires, programme, proposal, back, i18n.current_locale))


async def on_decide(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                    repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """Accept, reject, or undo an acceptance; then the card again."""
    found = await _proposal_for(call, callback_data, settings, repos)
    if found is None:
        return
    programme, proposal = found
    status = {"a": ProposalStatus.ACCEPTED, "r": ProposalStatus.REJECTED,
              "u": ProposalStatus.PROPOSED}[callback_data.action]
    if not await repos.pairs.decide(proposal.id, status, call.from_user.id):
        await call.answer(stale_text(), show_alert=True)
        return
    done = {ProposalStatus.ACCEPTED: _("Accepted."), ProposalStatus.REJECTED: _("Rejected."),
            ProposalStatus.PROPOSED: _("Back among the proposals.")}[status]
    await call.answer(done)
    updated = await repos.pairs.proposal(proposal.id)
    back = MatchCb(action="l", programme=programme.id, value=callback_data.value, page=callback_data.page)
    await show_in_place(call, bot, *await proposal_card(
        repos, questionnaires, programme, updated or proposal, back, i18n.current_locale))


async def on_accept_all(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                        repos: Repositories, questionnaires: Registry) -> None:
    """Ask before accepting every proposal; «ally» accepts them."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    if callback_data.action == "ally":
        count = await repos.pairs.accept_all(programme.id, call.from_user.id)
        await call.answer()
        note = _("Accepted: {count}.").format(count=count)
        await show_in_place(call, bot, *await overview(repos, questionnaires, programme, note))
        return
    count = len(await repos.pairs.proposals(programme.id, ProposalStatus.PROPOSED))
    markup = InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Yes, accept all"), MatchCb(action="ally", programme=programme.id))],
        _back_to_overview(programme),
    ])
    await call.answer()
    await show_in_place(call, bot, _(
        "Accept all {count} proposed pairs? You can still undo an acceptance before approval."
    ).format(count=count), markup)


def router() -> Router:
    """The matching screens (each checks the person's access to the programme)."""
    r = Router(name="matching")
    r.callback_query.register(on_view, ProgrammeCb.filter(F.action == "match"))
    r.callback_query.register(on_view, MatchCb.filter(F.action == "v"))
    r.callback_query.register(on_run, MatchCb.filter(F.action == "run"))
    r.callback_query.register(on_list, MatchCb.filter(F.action == "l"))
    r.callback_query.register(on_card, MatchCb.filter(F.action == "c"))
    r.callback_query.register(on_decide, MatchCb.filter(F.action.in_({"a", "r", "u"})))
    r.callback_query.register(on_accept_all, MatchCb.filter(F.action.in_({"all", "ally"})))
    return r
