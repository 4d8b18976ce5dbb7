"""A mentor's readiness, recorded by a coordinator: interview, training, written agreement, decision.

Every button and every typed answer checks again that the person manages the programme and that the
participant is a mentor of it, so a forged or stale button changes nothing.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.callbacks import BasesCb, ReadinessCb
from bot.config import Settings
from bot.states import Readiness as ReadinessState
from handlers.access import managed_programme, no_programme_access_text, refuse, show_in_place
from handlers.programme_dates import DateProblem, parse_date
from storage.models import Participant, Programme, Readiness, Role
from storage.repos import Repositories

COURSE_MIN, COURSE_MAX = 2, 200
FLAGS = {"i": "interview", "a": "agreement", "r": "ready"}


def readiness_lines(readiness: Readiness | None, locale: str) -> list[str]:
    """The mentor's readiness as lines of the card and of the readiness screen."""
    def yes_no(value: object) -> str:
        return _("Yes") if value else _("No")

    if readiness is not None and readiness.training_course and readiness.training_date:
        training = _("{course}, {date}").format(
            course=readiness.training_course,
            date=format_date(readiness.training_date, format="long", locale=locale),
        )
    else:
        training = _("not recorded")
    ready = readiness is not None and readiness.ready
    return [
        _("Interview held: {value}").format(value=yes_no(readiness and readiness.interview_at)),
        _("Training attended: {value}").format(value=training),
        _("Written agreement to the extra duties received: {value}").format(
            value=yes_no(readiness and readiness.agreement_at)
        ),
        _("Decision: ready to be matched") if ready else _("Decision: not ready"),
    ]


def readiness_button(programme_id: int, participant_id: int) -> InlineKeyboardButton:
    """The button on a mentor's card that opens the readiness screen."""
    cb = ReadinessCb(action="v", programme=programme_id, participant=participant_id)
    return InlineKeyboardButton(text=_("Readiness"), callback_data=cb.pack())


async def _mentor(
    user_id: int, target: ReadinessCb, settings: Settings, repos: Repositories
) -> tuple[Programme, Participant] | None:
    """The programme and the mentor, if the person manages the programme and it is its mentor."""
    programme = await managed_programme(user_id, target.programme, settings, repos)
    participant = await repos.participants.get(target.participant) if programme else None
    if (
        programme is None or participant is None or participant.programme_id != programme.id
        or participant.role is not Role.MENTOR
    ):
        return None
    return programme, participant


async def _screen(
    repos: Repositories, programme: Programme, participant: Participant, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    readiness = await repos.readiness.get(participant.id)
    title = _("Readiness of {name} to work as a mentor").format(name=participant.full_name)
    text = "\n".join([title, "", *readiness_lines(readiness, locale)])

    def toggle(label: str, on: bool, action: str) -> list[InlineKeyboardButton]:
        cb = ReadinessCb(action=action, programme=programme.id, participant=participant.id)
        return [InlineKeyboardButton(text=("☑ " if on else "☐ ") + label, callback_data=cb.pack())]

    def plain(label: str, cb: ReadinessCb | BasesCb) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=label, callback_data=cb.pack())]

    held = readiness is not None and readiness.interview_at is not None
    agreed = readiness is not None and readiness.agreement_at is not None
    ready = readiness is not None and readiness.ready
    card = BasesCb(action="c", programme=programme.id, role=Role.MENTOR, participant=participant.id)
    keyboard = [
        toggle(_("Interview held"), held, "i"),
        plain(_("Training…"), ReadinessCb(action="t", programme=programme.id, participant=participant.id)),
        toggle(_("Written agreement received"), agreed, "a"),
        toggle(_("Ready to be matched"), ready, "r"),
        plain(_("Back to the card"), card),
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


async def on_view(
    call: CallbackQuery, callback_data: ReadinessCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories, i18n: I18n,
) -> None:
    """The readiness screen (also leaves an unfinished training question)."""
    found = await _mentor(call.from_user.id, callback_data, settings, repos)
    if found is None:
        await refuse(call, no_programme_access_text())
        return
    if await state.get_state() in (ReadinessState.course.state, ReadinessState.date.state):
        await state.clear()
    await call.answer()
    await show_in_place(call, bot, *await _screen(repos, *found, i18n.current_locale))


async def on_toggle(
    call: CallbackQuery, callback_data: ReadinessCb, bot: Bot, settings: Settings, repos: Repositories,
    i18n: I18n,
) -> None:
    """Interview held, written agreement received, ready to be matched: on or off."""
    found = await _mentor(call.from_user.id, callback_data, settings, repos)
    if found is None:
        await refuse(call, no_programme_access_text())
        return
    programme, participant = found
    flag = FLAGS[callback_data.action]
    current = await repos.readiness.get(participant.id)
    value = {
        "interview": current is not None and current.interview_at is not None,
        "agreement": current is not None and current.agreement_at is not None,
        "ready": current is not None and current.ready,
    }[flag]
    if flag == "ready" and not value and (current is None or current.interview_at is None):
        await refuse(call, _("A mentor can be marked ready only after the interview. Record the "
                             "interview first."))
        return
    await repos.readiness.set_flag(participant.id, flag, not value, call.from_user.id)
    await call.answer()
    await show_in_place(call, bot, *await _screen(repos, programme, participant, i18n.current_locale))


def _course_question() -> str:
    text = _("Which training course did the mentor attend? Write its name ({min} to {max} characters).")
    return text.format(min=COURSE_MIN, max=COURSE_MAX)


def _date_question() -> str:
    return _("When was the training? Write the date as DD.MM.YYYY, for example 15.08.2026.")


def _cancel_markup(programme_id: int, participant_id: int) -> InlineKeyboardMarkup:
    cb = ReadinessCb(action="v", programme=programme_id, participant=participant_id)
    button = InlineKeyboardButton(text=_("Cancel"), callback_data=cb.pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def on_training(
    call: CallbackQuery, callback_data: ReadinessCb, bot: Bot, state: FSMContext, settings: Settings,
    repos: Repositories,
) -> None:
    """Ask for the training course, then its date."""
    found = await _mentor(call.from_user.id, callback_data, settings, repos)
    if found is None:
        await refuse(call, no_programme_access_text())
        return
    programme, participant = found
    await state.set_state(ReadinessState.course)
    await state.set_data({"programme": programme.id, "participant": participant.id})
    await call.answer()
    markup = _cancel_markup(programme.id, participant.id)
    await bot.send_message(call.from_user.id, _course_question(), reply_markup=markup)


async def on_typed(
    message: Message, state: FSMContext, settings: Settings, repos: Repositories, i18n: I18n
) -> None:
    """The course name or the date of the training, checked; the access is checked again."""
    data = await state.get_data()
    user_id = message.from_user.id if message.from_user else message.chat.id
    target = ReadinessCb(
        action="t", programme=int(data.get("programme", 0)), participant=int(data.get("participant", 0))
    )
    found = await _mentor(user_id, target, settings, repos)
    if found is None:
        await state.clear()
        await message.answer(no_programme_access_text())
        return
    programme, participant = found
    cancel = _cancel_markup(programme.id, participant.id)
    if await state.get_state() == ReadinessState.course.state:
        if message.text is None:
            await message.answer(_("Please write the course name in a text message.") + "\n\n"
                                 + _course_question(), reply_markup=cancel)
            return
        course = " ".join(message.text.split())
        if not COURSE_MIN <= len(course) <= COURSE_MAX:
            problem = _("The course name is {length} characters long; it must be {min} to {max}.").format(
                length=len(course), min=COURSE_MIN, max=COURSE_MAX
            )
            await message.answer(f"{problem}\n\n{_course_question()}", reply_markup=cancel)
            return
        await state.update_data(course=course)
        await state.set_state(ReadinessState.date)
        await message.answer(_date_question(), reply_markup=cancel)
        return
    try:
        on = parse_date(message.text)
    except DateProblem as problem:
        await message.answer(f"{problem}\n\n{_date_question()}", reply_markup=cancel)
        return
    await repos.readiness.set_training(participant.id, str(data["course"]), on, user_id)
    await state.clear()
    text, markup = await _screen(repos, programme, participant, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


def router() -> Router:
    """The readiness buttons, then the typed answers about the training."""
    r = Router(name="readiness")
    r.callback_query.register(on_view, ReadinessCb.filter(F.action == "v"))
    r.callback_query.register(on_toggle, ReadinessCb.filter(F.action.in_(set(FLAGS))))
    r.callback_query.register(on_training, ReadinessCb.filter(F.action == "t"))
    r.message.register(on_typed, ReadinessState.course, ~F.text.startswith("/"))
    r.message.register(on_typed, ReadinessState.date, ~F.text.startswith("/"))
    return r
