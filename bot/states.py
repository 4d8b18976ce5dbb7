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
