"""/mypairs for a mentor and /mymentor for a mentee: who the partner is and the personalised programme."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.labels import form_label
from storage.models import Role
from storage.repos import Repositories


async def _goals_line(repos: Repositories, pair_id: int) -> str:
    goals = await repos.pairs.goals(pair_id)
    if not goals:
        return _("Personalised programme: the goals are agreed at the planning meeting.")
    return _("Personalised programme:") + "\n" + "\n".join(f"{n}. {g}" for n, g in enumerate(goals, 1))


async def on_my_pairs(message: Message, repos: Repositories) -> None:
    """A mentor's approved pairs and groups."""
    blocks = []
    for participant in await repos.participants.of_user(message.chat.id):
        if participant.role is not Role.MENTOR:
            continue
        pair = await repos.pairs.of_participant(participant.id)
        programme = await repos.programmes.get(participant.programme_id)
        if pair is None or programme is None:
            continue
        mentees = [m for i in pair.mentee_ids if (m := await repos.participants.get(i)) is not None]
        blocks.append("\n".join([
            _("«{programme}», {form}. Your mentees: {names}.").format(
                programme=programme.title, form=form_label(participant.form),
                names=", ".join(m.full_name for m in mentees)),
            await _goals_line(repos, pair.id),
        ]))
    if not blocks:
        blocks = [_("You have no approved mentoring pairs yet. The coordinator approves the pairs after "
                    "matching; the bot will tell you.")]
    await message.answer("\n\n".join(blocks))


async def on_my_mentor(message: Message, repos: Repositories) -> None:
    """A mentee's mentor in each programme."""
    blocks = []
    for participant in await repos.participants.of_user(message.chat.id):
        if participant.role is not Role.MENTEE:
            continue
        pair = await repos.pairs.of_participant(participant.id)
        programme = await repos.programmes.get(participant.programme_id)
        mentor = await repos.participants.get(pair.mentor_id) if pair else None
        if pair is None or programme is None or mentor is None:
            continue
        blocks.append("\n".join([
            _("«{programme}»: your mentor is {mentor}.").format(programme=programme.title,
                                                               mentor=mentor.full_name),
            await _goals_line(repos, pair.id),
        ]))
    if not blocks:
        blocks = [_("You have no mentor yet. The coordinator forms the pairs after everyone has answered "
                    "the questionnaire; the bot will tell you who your mentor is.")]
    await message.answer("\n\n".join(blocks))


def router() -> Router:
    """/mypairs and /mymentor."""
    r = Router(name="my_pairs")
    r.message.register(on_my_pairs, Command("mypairs"))
    r.message.register(on_my_mentor, Command("mymentor"))
    return r
