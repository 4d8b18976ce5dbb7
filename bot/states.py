"""FSM states of multi-step conversations (stored in the database, so they survive restarts)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Joining(StatesGroup):
    """A person who opened a mentor/mentee invite and agreed: their name is asked next."""

    name = State()


class Answering(StatesGroup):
    """A person inside a questionnaire."""

    question = State()


class NewOrganisation(StatesGroup):
    """An administrator adding an organisation."""

    name = State()
    timezone = State()


class NewProgramme(StatesGroup):
    """A coordinator creating a programme."""

    organisation = State()
    title = State()
    forms = State()
    start_date = State()
    end_date = State()
    confirm = State()


class Readiness(StatesGroup):
    """A coordinator recording the training a mentor attended: the course, then its date."""

    course = State()
    date = State()


class NoteWriting(StatesGroup):
    """An observer or a coordinator writing a note about a participant."""

    text = State()


class Announcing(StatesGroup):
    """A coordinator writing an announcement to a segment of a programme: the text, then the preview."""

    text = State()
    confirm = State()


class NextYear(StatesGroup):
    """A coordinator typing another title for the programme started again for a new year."""

    title = State()


class MeetingLogging(StatesGroup):
    """A mentor logging a meeting (the draft in FSM data), or a mentee commenting on their rating."""

    buttons = State()  # a step answered with buttons: a typed message gets a hint
    minutes = State()  # the duration, typed
    note = State()  # a short note, typed or skipped
    goals = State()  # the personalised programme's goals, one per line (planning meeting)
    reason = State()  # why it was not held, typed
    comment = State()  # a mentee's comment on their rating


class Scheduling(StatesGroup):
    """A mentor scheduling or moving a pair's meeting, or a coordinator the group final: the day, the time
    (a slot or typed), the duration, the place (a room, an online link or any place), then the summary."""

    date = State()
    time = State()
    minutes = State()
    place = State()
    room = State()
    link = State()
    confirm = State()


class MoveAsking(StatesGroup):
    """A mentee writing why and when a meeting should be moved, for the mentor."""

    text = State()


class MeetingAdmin(StatesGroup):
    """A coordinator typing school holidays on the meetings settings screen."""

    holidays = State()
