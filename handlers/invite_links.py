"""Mentor and mentee invite links of a programme: issued, sent as text and QR codes, revoked."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.messenger import start_link
from bot.qr import send_qr
from storage.db import utcnow
from storage.models import Invite, InviteKind, Organisation, Programme
from storage.repos import Repositories

LINKS_OUTLIVE_PROGRAMME = timedelta(days=30)
LINK_KINDS = (InviteKind.MENTOR, InviteKind.MENTEE)


def long_date(value: date, i18n: I18n) -> str:
    """A date as people write it in their language, e.g. «1 сентября 2026 г.»."""
    return format_date(value, format="long", locale=i18n.current_locale)


def links_expire_at(programme: Programme, timezone: str) -> datetime:
    """Mentor and mentee links work through the 30th day after the programme ends, local time."""
    last_day = programme.end_date + LINKS_OUTLIVE_PROGRAMME
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))


def _last_valid_day(invite: Invite, timezone: str) -> date:
    return (invite.expires_at.astimezone(ZoneInfo(timezone)) - timedelta(seconds=1)).date()


def _link_texts(kind: InviteKind) -> tuple[str, str]:
    """(message, QR caption) templates for a mentor or a mentee link."""
    if kind is InviteKind.MENTOR:
        return (
            _("Invite link for mentors of «{programme}»:\n{link}\n\nShare it with everyone who will be a "
              "mentor in this programme.\nValid until {date}"),
            _("«{programme}» — for mentors. Scan the code to join."),
        )
    return (
        _("Invite link for mentees of «{programme}»:\n{link}\n\nShare it with everyone who will be "
          "mentored in this programme.\nValid until {date}"),
        _("«{programme}» — for mentees. Scan the code to join."),
    )


async def send_links(
    bot: Bot, chat_id: int, repos: Repositories, i18n: I18n, programme: Programme, org: Organisation,
    created_by: int,
) -> bool:
    """Send the programme's mentor and mentee links (issuing missing ones) as text and QR codes."""
    now = utcnow()
    active = await repos.invites.active_for_programme(programme.id, now)
    expires = links_expire_at(programme, org.timezone)
    current = {kind: next((i for i in active if i.kind is kind), None) for kind in LINK_KINDS}
    if None in current.values() and expires <= now:
        await bot.send_message(chat_id, _(
            "«{programme}» ended more than 30 days ago, so no new invite links can be issued."
        ).format(programme=programme.title))
        return False
    for kind in LINK_KINDS:
        invite = current[kind]  # the newest active link of this kind
        if invite is None:
            invite = await repos.invites.create(
                kind, org.id, created_by, ttl=expires - now, programme_id=programme.id
            )
        link = await start_link(bot, invite.token)
        text, caption = _link_texts(kind)
        until = long_date(_last_valid_day(invite, org.timezone), i18n)
        await bot.send_message(chat_id, text.format(programme=programme.title, link=link, date=until))
        await send_qr(bot, chat_id, link, caption.format(programme=programme.title))
    return True


async def revoke_links(repos: Repositories, programme: Programme) -> int:
    """Revoke every active mentor and mentee link of the programme; how many there were."""
    active = await repos.invites.active_for_programme(programme.id, utcnow())
    for invite in active:
        await repos.invites.revoke(invite.id)
    return len(active)


async def send_observer_link(
    bot: Bot, chat_id: int, repos: Repositories, i18n: I18n, programme: Programme, org: Organisation,
    created_by: int, renew: bool = False,
) -> bool:
    """Send the programme's observer link as text and a QR code (issued when missing; `renew` revokes the
    current one first). Multi-use, valid as long as the mentor and mentee links."""
    now = utcnow()
    if renew:
        await repos.observers.revoke_links(programme.id)
    invite = await repos.observers.link(programme.id, now)
    expires = links_expire_at(programme, org.timezone)
    if invite is None and expires <= now:
        await bot.send_message(chat_id, _(
            "«{programme}» ended more than 30 days ago, so no new invite links can be issued."
        ).format(programme=programme.title))
        return False
    if invite is None:
        invite = await repos.invites.create(
            InviteKind.OBSERVER, org.id, created_by, ttl=expires - now, programme_id=programme.id
        )
    link = await start_link(bot, invite.token)
    until = long_date(_last_valid_day(invite, org.timezone), i18n)
    await bot.send_message(chat_id, _(
        "Invite link for observers of «{programme}» (class teachers, psychologists, social pedagogues):\n"
        "{link}\n\nThey can add notes about mentees' requests for the coordinators.\nValid until {date}"
    ).format(programme=programme.title, link=link, date=until))
    await send_qr(bot, chat_id, link, _("«{programme}» — for observers. Scan the code to join.").format(
        programme=programme.title
    ))
    return True
