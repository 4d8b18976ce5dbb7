"""Callback data of every inline button, in one place so prefixes stay short and unique; `button` and `row`
make the buttons."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from pydantic import Field

from storage.models import Role

# A number a button carries: an id or a page, within SQLite's INTEGER. Forged data with a bigger number
# does not match the button at all (it is "out of date") instead of failing in the database.
Id = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class LanguageCb(CallbackData, prefix="lang"):
    """Pick the interface language."""

    code: str


class ConsentCb(CallbackData, prefix="cs"):
    """A decision on the consent screen of an invite."""

    action: str  # agree | minor | decline | again
    invite: str  # the link's token, not its id: only someone who opened the link can act on it


class FormCb(CallbackData, prefix="fm"):
    """Pick a form of mentoring while joining a programme."""

    invite: Id
    form: str


class ParentCb(CallbackData, prefix="pc"):
    """A legal representative's decision."""

    action: str  # agree | refuse
    invite: str  # the link's token, not its id: only someone who opened the link can act on it


class WithdrawCb(CallbackData, prefix="wd"):
    """Withdraw consent for one participation (ask, then confirm)."""

    action: str  # ask | yes | no
    participant: Id


class QuestionCb(CallbackData, prefix="q"):
    """A tap inside a questionnaire: bound to one response and one question."""

    action: str  # a(nswer) | t(oggle) | d(one) | s(kip) | b(ack) | n(ext) | e(dit) | sub(mit)
    response: Id
    question: str = ""
    value: str = ""


class CoordinatorInviteCb(CallbackData, prefix="ci"):
    """Accept or decline an appointment as coordinator."""

    action: str  # accept | decline
    invite: str  # the link's token, not its id: only someone who opened the link can act on it


class OrgCb(CallbackData, prefix="org"):
    """An administrator's action on an organisation."""

    action: str  # tz | link | open
    org: Id = 0
    value: str = ""


class ProgrammeCb(CallbackData, prefix="pg"):
    """A coordinator's action on a programme or on the programme being created."""

    action: str
    programme: Id = 0
    value: str = ""


class OpenQuestionnaireCb(CallbackData, prefix="qo"):
    """Open (or resume) the questionnaire of one participation."""

    participant: Id


class BasesCb(CallbackData, prefix="bs"):
    """A coordinator's view of a programme's mentee or mentor base: a filtered page or a person's card."""

    action: str  # l(ist) | c(ard)
    programme: Id
    role: Role
    state: str = ""  # "" (all) | parent_pending | not_started | in_progress | submitted
    form: str = ""  # "" (all forms) | a form of mentoring of the programme
    page: Id = 0
    participant: Id = 0


class ReadinessCb(CallbackData, prefix="rd"):
    """A coordinator's record of a mentor's readiness: the screen, a toggle, or the training question."""

    action: str  # v(iew) | i(nterview) | a(greement) | r(eady) | t(raining)
    programme: Id
    participant: Id


class PreferenceCb(CallbackData, prefix="pf"):
    """A participant's tap in the preference survey: toggle a candidate, or save the choice."""

    action: str  # t(oggle) | s(ave)
    participant: Id
    chosen: Id = 0


# Reserved prefixes for the areas being built: ob/nt (observers, notes), an (announcements),
# ny (next year), mt/ap (matching, approval). Add each area's CallbackData below this line.


class ObserverCb(CallbackData, prefix="ob"):
    """Observers: the coordinator's screen and link, joining by link, an observer's mentees, withdrawal."""

    action: str  # co(ordinator screen) | lk (link) | rn (renew link) | ag(ree) | no | ps (position)
    # | pr(ogrammes) | l(ist) | m(entee) | a(dd note) | wa/wy/wn (withdraw: ask, yes, no)
    programme: Id = 0
    participant: Id = 0
    invite: str = ""  # the link's token (ag, no, ps), not its id: only someone who opened the link
    observer: Id = 0
    page: Id = 0
    value: str = ""


class NoteCb(CallbackData, prefix="nt"):
    """A coordinator's notes and history screens on a person's card, and adding a note."""

    action: str  # n(otes) | a(dd) | h(istory)
    programme: Id
    role: Role
    participant: Id
    page: Id = 0


class MatchCb(CallbackData, prefix="mt"):
    """A coordinator's matching screens: the overview, proposals, decisions, pairing by hand, approval."""

    # v(iew) | run | l(ist) | c(ard) | a(ccept) | r(eject) | u(ndo) | all | ally | sw (swap list) | sx (swap)
    # | um (unmatched) | mh (by hand: mentees) | mm (by hand: mentors) | mx (pair) | ap | apy | docs
    action: str
    programme: Id
    item: Id = 0
    other: Id = 0
    page: Id = 0
    value: str = ""


class AnnounceCb(CallbackData, prefix="an"):
    """A coordinator's announcement: pick a segment, send or cancel the preview, the list of sent ones."""

    action: str  # seg | send | cancel | list
    programme: Id
    segment: str = ""  # mentors | mentees | parents | observers | unfinished
    token: str = ""  # the preview being sent (a second tap on "Send" finds it gone)


class NextYearCb(CallbackData, prefix="ny"):
    """A mentor's answer to the offer to continue in the next year's programme."""

    action: str  # y(es) | n(o)
    programme: Id  # the new programme
    participant: Id  # the mentor in the old programme


class MeetingCb(CallbackData, prefix="mg"):
    """A tap about a meeting or a pair's next step: scheduling (mentor, coordinator), a request to move
    (mentee), logging (mentor), feedback (mentee), the fit check (both sides)."""

    action: str
    meeting: Id = 0  # the meeting (0 while a new one is being scheduled)
    pair: Id = 0
    version: Id = 0  # the meeting's version the button was drawn for: after a move, old buttons are stale
    value: str = ""


class DigestCb(CallbackData, prefix="dg"):
    """The coordinator's digest: its schedule (freq / day / hour) and its buttons (remind, export)."""

    action: str  # freq | day | hour | remind | export
    programme: Id = 0
    value: str = ""  # daily | weekly | off; a weekday 0–6; an hour 0–23; the digest's period (remind)


class SurveyCb(CallbackData, prefix="sv"):
    """Open a survey round's questions for one participant (the invitation's button)."""

    round: Id
    participant: Id


class CompletionCb(CallbackData, prefix="cp"):
    """Completing a programme: the screen, award toggles (mentors / pairs, paged), letters, closing."""

    action: str  # screen | mentors | pairs | award_m | award_p | letters | ask_close | close
    programme: Id
    item: Id = 0  # the mentor's participant id or the pair id of a toggle
    page: Id = 0


class MentorBaseCb(CallbackData, prefix="mb"):
    """A mentor's answer whether they stay in the organisation's long-term mentor base."""

    action: str  # y(es) | n(o)
    participant: Id


class SurveyDeptCb(CallbackData, prefix="sd"):
    """A department's survey results of all its schools: the screen, the spreadsheet or the charts."""

    action: str  # open | xlsx | png
    org: Id


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    """An inline button that sends `data` (callback data, or its packed string) when tapped."""
    return InlineKeyboardButton(text=text, callback_data=data if isinstance(data, str) else data.pack())


def row(text: str, data: CallbackData | str) -> list[InlineKeyboardButton]:
    """A keyboard row of one button."""
    return [button(text, data)]
