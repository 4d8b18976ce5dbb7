"""Messages about a participant: their status, and notices to other people in those people's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.i18n import normalise_locale
from bot.labels import form_label, role_label, state_label
from bot.messenger import deliver
from storage.models import OutboxMessage, Participant, ResponseStatus, Role, User
from storage.repos import Repositories


async def submitted_text(repos: Repositories, participant: Participant) -> str:
    """What a participant reads after submitting: the status and what happens next."""
    programme = await repos.programmes.get(participant.programme_id)
    title = programme.title if programme else ""
    partner = _("your mentor") if participant.role is Role.MENTEE else _("your mentee")
    return _(
        "Thank you! Your questionnaire has been sent.\n\n"
        "Status: submitted, waiting for pairing.\n"
        "What happens next: the coordinator of «{programme}» compares the questionnaires and forms "
        "mentoring pairs. The bot will tell you who {partner} is. You can look at your data any time "
        "with /mydata."
    ).format(programme=title, partner=partner)


async def send_in_language(
    bot: Bot,
    repos: Repositories,
    user_id: int,
    text: Callable[[], str],
    reply_markup: InlineKeyboardMarkup | Callable[[], InlineKeyboardMarkup] | None = None,
) -> None:
    """Send a message to another person, with texts (and buttons, given as a callable) built in that
    person's language."""
    i18n = get_i18n()
    with i18n.use_locale(await language_of(repos, i18n, user_id)):
        body = text()
        markup = reply_markup() if callable(reply_markup) else reply_markup
    await deliver(repos, user_id, lambda: bot.send_message(user_id, body, reply_markup=markup))


async def language_of(repos: Repositories, i18n: I18n, user_id: int) -> str:
    """The language to write to a person in: their choice, else Telegram's, if the bot speaks it."""
    user = await repos.users.get(user_id)
    locale = user.language(i18n.default_locale) if user else i18n.default_locale
    return normalise_locale(locale) or i18n.default_locale


class _UsersRead:
    """Stands in for `repos.users` with the users read at once."""

    def __init__(self, users: dict[int, User]) -> None:
        self.found = users

    async def get(self, user_id: int) -> User | None:
        return self.found.get(user_id)


class _WithUsersRead:
    def __init__(self, repos: Repositories, users: dict[int, User]) -> None:
        self.repos = repos
        self.users = _UsersRead(users)

    def __getattr__(self, name: str) -> object:
        return getattr(self.repos, name)


def with_users_read(repos: Repositories, users: dict[int, User]) -> Repositories:
    """`repos` whose `users.get` answers from `users`, read at once for every reader of a batch job's messages
    (`queued_in_language` looks up each reader's language)."""
    return cast(Repositories, _WithUsersRead(repos, users))


async def queued_in_language(
    repos: Repositories,
    i18n: I18n,
    user_id: int,
    text: Callable[[], str],
    *,
    kind: str,
    dedupe: str,
    ref: int | None = None,
    markup: Callable[[], InlineKeyboardMarkup] | None = None,
) -> OutboxMessage:
    """A message for the outbox to another person, its text (and buttons) built in their language.
    Works inside a handler and in background jobs alike."""
    with i18n.context(), i18n.use_locale(await language_of(repos, i18n, user_id)):
        body = text()
        keyboard = markup() if markup else None
    return OutboxMessage(
        user_id=user_id, kind=kind, dedupe=dedupe, text=body, ref=ref,
        markup=keyboard.model_dump_json(exclude_none=True) if keyboard else None,
    )


async def notify_coordinators(bot: Bot, repos: Repositories, participant: Participant) -> None:
    """A short notice to the programme's coordinators that a questionnaire was submitted."""
    programme = await repos.programmes.get(participant.programme_id)
    if programme is None:
        return
    for coordinator in await repos.organisations.coordinators(programme.organisation_id):
        await send_in_language(
            bot,
            repos,
            coordinator.user_id,
            lambda: _("New questionnaire in «{programme}»: {name}, {role}, {form}.").format(
                programme=programme.title,
                name=participant.full_name,
                role=role_label(participant.role),
                form=form_label(participant.form),
            ),
        )


async def questionnaire_status(repos: Repositories, participant: Participant) -> str:
    """One line on where the participant's questionnaire stands."""
    responses = await repos.responses.of_participant(participant.id)
    if any(r.status is ResponseStatus.SUBMITTED for r in responses):
        return state_label("submitted")
    if responses and responses[0].answers:
        return state_label("in_progress")
    return state_label("not_started")
