"""Callback data of every inline button, in one place so prefixes stay short and unique."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.models import Role


class LanguageCb(CallbackData, prefix="lang"):
    """Pick the interface language."""

    code: str


class ConsentCb(CallbackData, prefix="cs"):
    """A decision on the consent screen of an invite."""

    action: str  # agree | minor | decline | again
    invite: int


class FormCb(CallbackData, prefix="fm"):
    """Pick a form of mentoring while joining a programme."""

    invite: int
    form: str


class ParentCb(CallbackData, prefix="pc"):
    """A legal representative's decision."""

    action: str  # agree | refuse
    invite: int


class WithdrawCb(CallbackData, prefix="wd"):
    """Withdraw consent for one participation (ask, then confirm)."""

    action: str  # ask | yes | no
    participant: int


class QuestionCb(CallbackData, prefix="q"):
    """A tap inside a questionnaire: bound to one response and one question."""

    action: str  # a(nswer) | t(oggle) | d(one) | s(kip) | b(ack) | n(ext) | e(dit) | sub(mit)
    response: int
    question: str = ""
    value: str = ""


class CoordinatorInviteCb(CallbackData, prefix="ci"):
    """Accept or decline an appointment as coordinator."""

    action: str  # accept | decline
    invite: int


class OrgCb(CallbackData, prefix="org"):
    """An administrator's action on an organisation."""

    action: str  # tz | link | open
    org: int = 0
    value: str = ""


class ProgrammeCb(CallbackData, prefix="pg"):
    """A coordinator's action on a programme or on the programme being created."""

    action: str
    programme: int = 0
    value: str = ""


class OpenQuestionnaireCb(CallbackData, prefix="qo"):
    """Open (or resume) the questionnaire of one participation."""

    participant: int


class BasesCb(CallbackData, prefix="bs"):
    """A coordinator's view of a programme's mentee or mentor base: a filtered page or a person's card."""

    action: str  # l(ist) | c(ard)
    programme: int
    role: Role
    state: str = ""  # "" (all) | parent_pending | not_started | in_progress | submitted
    form: str = ""  # "" (all forms) | a form of mentoring of the programme
    page: int = 0
    participant: int = 0


class ReadinessCb(CallbackData, prefix="rd"):
    """A coordinator's record of a mentor's readiness: the screen, a toggle, or the training question."""

    action: str  # v(iew) | i(nterview) | a(greement) | r(eady) | t(raining)
    programme: int
    participant: int


class PreferenceCb(CallbackData, prefix="pf"):
    """A participant's tap in the preference survey: toggle a candidate, or save the choice."""

    action: str  # t(oggle) | s(ave)
    participant: int
    chosen: int = 0


# Reserved prefixes for the areas being built: ob/nt (observers, notes), an (announcements),
# ny (next year), mt/ap (matching, approval). Add each area's CallbackData below this line.


class ObserverCb(CallbackData, prefix="ob"):
    """Observers: the coordinator's screen and link, joining by link, an observer's mentees, withdrawal."""

    action: str  # co(ordinator screen) | lk (link) | rn (renew link) | ag(ree) | no | ps (position)
    # | pr(ogrammes) | l(ist) | m(entee) | a(dd note) | wa/wy/wn (withdraw: ask, yes, no)
    programme: int = 0
    participant: int = 0
    invite: int = 0
    observer: int = 0
    page: int = 0
    value: str = ""


class NoteCb(CallbackData, prefix="nt"):
    """A coordinator's notes and history screens on a person's card, and adding a note."""

    action: str  # n(otes) | a(dd) | h(istory)
    programme: int
    role: Role
    participant: int
    page: int = 0


class MatchCb(CallbackData, prefix="mt"):
    """A coordinator's matching screens: the overview, proposals, decisions, pairing by hand, approval."""

    # v(iew) | run | l(ist) | c(ard) | a(ccept) | r(eject) | u(ndo) | all | ally | sw (swap list) | sx (swap)
    # | um (unmatched) | mh (by hand: mentees) | mm (by hand: mentors) | mx (pair) | ap | apy | docs
    action: str
    programme: int
    item: int = 0
    other: int = 0
    page: int = 0
    value: str = ""


class AnnounceCb(CallbackData, prefix="an"):
    """A coordinator's announcement: pick a segment, send or cancel the preview, the list of sent ones."""

    action: str  # seg | send | cancel | list
    programme: int
    segment: str = ""  # mentors | mentees | parents | observers | unfinished
    token: str = ""  # the preview being sent (a second tap on "Send" finds it gone)


class NextYearCb(CallbackData, prefix="ny"):
    """A mentor's answer to the offer to continue in the next year's programme."""

    action: str  # y(es) | n(o)
    programme: int  # the new programme
    participant: int  # the mentor in the old programme


class MeetingCb(CallbackData, prefix="mg"):
    """A tap about a meeting or a pair's next step: scheduling (mentor, coordinator), a request to move
    (mentee), logging (mentor), feedback (mentee), the fit check (both sides)."""

    action: str
    meeting: int = 0  # the meeting (0 while a new one is being scheduled)
    pair: int = 0
    version: int = 0  # the meeting's version the button was drawn for: after a move, old buttons are stale
    value: str = ""


class DigestCb(CallbackData, prefix="dg"):
    """The coordinator's digest: its schedule (freq / day / hour) and its buttons (remind, export)."""

    action: str  # freq | day | hour | remind | export
    programme: int = 0
    value: str = ""  # daily | weekly | off; a weekday 0–6; an hour 0–23; the digest's period (remind)


class SurveyCb(CallbackData, prefix="sv"):
    """Open a survey round's questions for one participant (the invitation's button)."""

    round: int
    participant: int


class CompletionCb(CallbackData, prefix="cp"):
    """Completing a programme: the screen, award toggles (mentors / pairs, paged), letters, closing."""

    action: str  # screen | mentors | pairs | award_m | award_p | letters | ask_close | close
    programme: int
    item: int = 0  # the mentor's participant id or the pair id of a toggle
    page: int = 0


class MentorBaseCb(CallbackData, prefix="mb"):
    """A mentor's answer whether they stay in the organisation's long-term mentor base."""

    action: str  # y(es) | n(o)
    participant: int


class SurveyDeptCb(CallbackData, prefix="sd"):
    """A department's survey results of all its schools: the screen, the spreadsheet or the charts."""

    action: str  # open | xlsx | png
    org: int
