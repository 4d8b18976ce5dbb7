"""A coordinator's changes to the proposals by hand: swapping two pairs' mentors, the mentees left without
a pair, and pairing a mentee with a chosen mentor. Every button re-reads what it names."""

from __future__ import annotations

from collections import Counter

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import MatchCb, button
from bot.config import Settings
from bot.labels import form_label
from dialogs.schema import Registry
from handlers import pairing
from handlers.access import page_nav, page_of, programme_for_button, programme_to_change, show_in_place
from handlers.matching import (
    PER_PAGE,
    _back_to_overview,
    _proposal_for,
    proposal_card,
    stale_text,
)
from storage.models import Programme, ProposalStatus, Role
from storage.repos import Repositories
from storage.repos.pairs import StaleDecision

# --- swapping ------------------------------------------------------------------------------------------


async def on_swap_list(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                       repos: Repositories) -> None:
    """The other live pairs of the same form whose mentor can be swapped with this one's."""
    found = await _proposal_for(call, callback_data, settings, repos)
    if found is None:
        return
    programme, proposal = found
    mentee = await repos.participants.get(proposal.mentee_id)
    live = [p for p in await repos.pairs.proposals(programme.id)
            if p.status is not ProposalStatus.REJECTED and p.id != proposal.id
            and p.mentor_id != proposal.mentor_id]
    same_form = []
    for p in live:
        other = await repos.participants.get(p.mentee_id)
        if other is not None and mentee is not None and other.form == mentee.form:
            same_form.append(p)
    names = await repos.participants.names([i for p in same_form for i in (p.mentor_id, p.mentee_id)])
    shown, page, more = page_of(same_form, callback_data.page, PER_PAGE)
    here = callback_data.model_copy(update={"page": page})
    rows = [[button(f"{names.get(p.mentor_id, '?')} → {names.get(p.mentee_id, '?')}"[:64],
                     here.model_copy(update={"action": "sx", "other": p.id}))] for p in shown]
    nav = page_nav(page, more, lambda n: here.model_copy(update={"page": n}))
    rows += [nav] if nav else []
    rows.append([button(_("Back to the pair"), here.model_copy(update={"action": "c", "page": 0}))])
    mentee_name = mentee.full_name if mentee else "?"
    text = _("Swap mentors: {mentee} gets the mentor of the pair you choose, and that pair's mentee gets "
             "this one's. Both pairs become accepted.").format(mentee=mentee_name)
    if not same_form:
        text += "\n\n" + _("There is no other pair of this form to swap with.")
    await call.answer()
    await show_in_place(call, bot, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def on_swap(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                  repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """Exchange the mentors of two pairs."""
    found = await _proposal_for(call, callback_data, settings, repos)
    if found is None:
        return
    programme, first = found
    second = await repos.pairs.proposal(callback_data.other)
    pool = await pairing.load_pool(repos, questionnaires, programme.id)
    people = (first.mentor_id, first.mentee_id) + ((second.mentor_id, second.mentee_id) if second else ())
    if (
        second is None or second.programme_id != programme.id or ProposalStatus.REJECTED in
        (first.status, second.status) or any(i not in pool.candidates for i in people)
        or pool.candidates[first.mentee_id].form != pool.candidates[second.mentee_id].form
    ):
        await call.answer(stale_text(), show_alert=True)
        return
    new = [pairing.assess(pool, second.mentor_id, first.mentee_id),
           pairing.assess(pool, first.mentor_id, second.mentee_id)]
    try:
        await repos.pairs.swap(first, second, new, call.from_user.id)
    except StaleDecision:
        await call.answer(stale_text(), show_alert=True)
        return
    await call.answer(_("Swapped."))
    mine = await repos.pairs.live_proposal_of(first.mentee_id)
    back = MatchCb(action="l", programme=programme.id, value=ProposalStatus.ACCEPTED.value)
    if mine is not None:
        await show_in_place(call, bot, *await proposal_card(
            repos, questionnaires, programme, mine, back, i18n.current_locale))


# --- without a pair, and pairing by hand ---------------------------------------------------------------


async def on_unmatched(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                       repos: Repositories) -> None:
    """Mentees the last run left without a proposal, each with the reason; a tap pairs by hand."""
    programme = await programme_for_button(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    found = await repos.pairs.unmatched(programme.id)
    names = await repos.participants.names([mentee_id for mentee_id, _reason in found])
    shown, page, more = page_of(found, callback_data.page, PER_PAGE)
    here = MatchCb(action="um", programme=programme.id, page=page)
    lines = [_("Without a pair in «{programme}»: {count}. Tap a mentee to choose a mentor by hand.").format(
        programme=programme.title, count=len(found)), ""]
    lines += [f"• {names.get(m, '?')}: {pairing.unmatched_text(reason)}" for m, reason in shown]
    rows = [[button(names.get(m, "?")[:64], MatchCb(action="mm", programme=programme.id, item=m))]
            for m, _reason in shown]
    nav = page_nav(page, more, lambda n: here.model_copy(update={"page": n}))
    rows += [nav] if nav else []
    rows.append(_back_to_overview(programme))
    await call.answer()
    await show_in_place(call, bot, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def _unpaired_mentees(repos: Repositories, pool: pairing.Pool, programme: Programme) -> list[int]:
    """Mentees who can be paired by hand: in the pool, not accepted or approved yet."""
    fixed, _forbidden = await repos.pairs.fixed_and_forbidden(programme.id)
    taken = {mentee for _mentor, mentee in fixed}
    mentees = [c for c in pool.mentees() if c.id not in taken]
    return [c.id for c in sorted(mentees, key=lambda c: (pool.people[c.id].full_name, c.id))]


async def on_by_hand(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                     repos: Repositories, questionnaires: Registry) -> None:
    """Pair by hand, step 1: the mentee."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    pool = await pairing.load_pool(repos, questionnaires, programme.id)
    mentees = await _unpaired_mentees(repos, pool, programme)
    shown, page, more = page_of(mentees, callback_data.page, PER_PAGE)
    here = MatchCb(action="mh", programme=programme.id, page=page)
    rows = [[button(pool.people[m].full_name[:64], MatchCb(action="mm", programme=programme.id, item=m))]
            for m in shown]
    nav = page_nav(page, more, lambda n: here.model_copy(update={"page": n}))
    rows += [nav] if nav else []
    rows.append(_back_to_overview(programme))
    text = _("Pair by hand: choose the mentee.") + " " + _(
        "Not accepted or approved yet: {count}.").format(count=len(mentees))
    await call.answer()
    await show_in_place(call, bot, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def _taken_places(repos: Repositories, programme: Programme) -> dict[int, int]:
    fixed, _forbidden = await repos.pairs.fixed_and_forbidden(programme.id)
    return dict(Counter(mentor for mentor, _mentee in fixed))


async def on_pick_mentor(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                         repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """Pair by hand, step 2: a ready mentor of the mentee's form with a free place."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    pool = await pairing.load_pool(repos, questionnaires, programme.id)
    mentee = pool.candidates.get(callback_data.item)
    if mentee is None or mentee.role != Role.MENTEE.value:
        await call.answer(_("This mentee cannot be paired now: they left or have no questionnaire."),
                          show_alert=True)
        return
    taken = await _taken_places(repos, programme)
    mentors = [m for m in pool.mentors(mentee.form) if pairing.free_slots(pool, taken, m.id) > 0]
    mentors.sort(key=lambda m: (-pairing.assess(pool, m.id, mentee.id).score, pool.people[m.id].full_name))
    shown, page, more = page_of(mentors, callback_data.page, PER_PAGE)
    here = MatchCb(action="mm", programme=programme.id, item=mentee.id, page=page)

    def label(m_id: int) -> str:
        fit = pairing.assess(pool, m_id, mentee.id).score
        return _("{name} — free places: {free}, compatibility {score}").format(
            name=pool.people[m_id].full_name, free=pairing.free_slots(pool, taken, m_id), score=f"{fit:g}")

    rows = [[button(label(m.id)[:64], here.model_copy(update={"action": "mx", "other": m.id}))]
            for m in shown]
    nav = page_nav(page, more, lambda n: here.model_copy(update={"page": n}))
    rows += [nav] if nav else []
    rows.append(_back_to_overview(programme))
    text = _("Choose a mentor for {mentee} ({form}), the best fitting first.").format(
        mentee=pool.people[mentee.id].full_name, form=form_label(mentee.form))
    if not mentors:
        text += "\n\n" + _("No ready mentor of this form has a free place.")
    await call.answer()
    await show_in_place(call, bot, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def on_pair(call: CallbackQuery, callback_data: MatchCb, bot: Bot, settings: Settings,
                  repos: Repositories, questionnaires: Registry, i18n: I18n) -> None:
    """Pair by hand, done: an accepted pair made by the coordinator."""
    programme = await programme_to_change(call, callback_data.programme, settings, repos)
    if programme is None:
        return
    pool = await pairing.load_pool(repos, questionnaires, programme.id)
    mentee, mentor = pool.candidates.get(callback_data.item), pool.candidates.get(callback_data.other)
    taken = await _taken_places(repos, programme)
    if (
        mentee is None or mentor is None or mentee.role != "mentee" or mentor.role != "mentor"
        or mentee.form != mentor.form or pairing.free_slots(pool, taken, mentor.id) <= 0
        or await repos.pairs.of_participant(mentee.id) is not None
    ):
        await call.answer(_("This pair cannot be made now: the mentor has no free place, or the mentee "
                            "is already paired."), show_alert=True)
        return
    pair = pairing.assess(pool, mentor.id, mentee.id)
    await repos.pairs.pair_by_hand(programme.id, pair, call.from_user.id)
    await call.answer(_("Paired."))
    made = await repos.pairs.live_proposal_of(mentee.id)
    back = MatchCb(action="l", programme=programme.id, value=ProposalStatus.ACCEPTED.value)
    if made is not None:
        await show_in_place(call, bot, *await proposal_card(
            repos, questionnaires, programme, made, back, i18n.current_locale))


def router() -> Router:
    """Swapping and pairing by hand (each checks the person's access to the programme)."""
    r = Router(name="matching_hand")
    r.callback_query.register(on_swap_list, MatchCb.filter(F.action == "sw"))
    r.callback_query.register(on_swap, MatchCb.filter(F.action == "sx"))
    r.callback_query.register(on_unmatched, MatchCb.filter(F.action == "um"))
    r.callback_query.register(on_by_hand, MatchCb.filter(F.action == "mh"))
    r.callback_query.register(on_pick_mentor, MatchCb.filter(F.action == "mm"))
    r.callback_query.register(on_pair, MatchCb.filter(F.action == "mx"))
    return r
