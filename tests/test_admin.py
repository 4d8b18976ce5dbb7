"""The administrator: organisations added with bad input on the way, coordinators invited by link and QR."""

from __future__ import annotations

import re
from datetime import timedelta

from aiogram import Bot, Dispatcher

from bot.callbacks import OrgCb
from bot.qr import qr_png
from storage.db import Database, utcnow
from storage.models import InviteKind
from storage.repos import Repositories
from tests.conftest import ADMIN_ID, UserFactory
from tests.qr_helpers import PNG_SIGNATURE, decode_qr

LINK = re.compile(r"https://t\.me/nastavnik_test_bot\?start=([A-Za-z0-9_-]{16,64})")


async def count(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
    return row[0]


async def fsm_state(dp: Dispatcher, bot: Bot, user_id: int) -> str | None:
    """The conversation state the dispatcher keeps for a private chat."""
    return await dp.fsm.get_context(bot=bot, chat_id=user_id, user_id=user_id).get_state()


async def test_admin_adds_an_organisation_despite_bad_input(
    make_user: UserFactory, repos: Repositories, db: Database, dp: Dispatcher,
    bot: Bot,
) -> None:
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/neworg")
    assert "organisation's name" in admin.last_text
    assert await fsm_state(dp, bot, ADMIN_ID) == "NewOrganisation:name"

    await admin.send_sticker()
    assert "text message, not a sticker" in admin.last_text and "organisation's name" in admin.last_text
    await admin.send_photo()
    assert "text message, not a sticker, photo" in admin.last_text
    await admin.send("x")
    assert "2 to 200 characters long; yours has 1" in admin.last_text
    await admin.send("Л" * 201)
    assert "yours has 201" in admin.last_text
    assert await count(db, "organisations") == 0

    await admin.send("  МБОУ  «Лицей №21»\n г. Тула ")
    assert "In which time zone is «МБОУ «Лицей №21» г. Тула»" in admin.last_text
    labels = admin.buttons()
    assert labels[:3] == ["Kaliningrad (UTC+2)", "Moscow (UTC+3)", "Samara (UTC+4)"]
    assert "Petropavlovsk-Kamchatsky (UTC+12)" in labels and "Cancel" in labels
    assert len(labels) == 13

    await admin.send("Moscow")
    assert "choose the time zone with one of the buttons" in admin.last_text
    await admin.click("Yekaterinburg (UTC+5)")

    orgs = await repos.organisations.list_all()
    assert [(o.name, o.timezone) for o in orgs] == [("МБОУ «Лицей №21» г. Тула", "Asia/Yekaterinburg")]
    assert await fsm_state(dp, bot, ADMIN_ID) is None
    assert admin.last_text == (
        "Organisation: МБОУ «Лицей №21» г. Тула\nTime zone: Yekaterinburg (UTC+5)\n"
        "Coordinators: none yet\nProgrammes: 0"
    )
    assert "Invite a coordinator" in admin.buttons()

    # A time-zone button of the finished conversation creates nothing.
    await admin.click_data(OrgCb(action="tz", value="Europe/Moscow").pack(), admin.last_message.message_id)
    assert "conversation is over" in admin.alerts[-1]
    assert await count(db, "organisations") == 1


async def test_cancel_leaves_the_new_organisation(
    make_user: UserFactory, db: Database, dp: Dispatcher,
    bot: Bot,
) -> None:
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/neworg")
    await admin.click("Cancel")
    assert "Cancelled" in admin.last_text
    assert await fsm_state(dp, bot, ADMIN_ID) is None

    await admin.send("/neworg")
    await admin.send("Гимназия №5")
    await admin.send("/cancel")
    assert await fsm_state(dp, bot, ADMIN_ID) is None
    await admin.send("Гимназия №5")  # no longer taken as an answer
    assert await count(db, "organisations") == 0


async def test_admin_invites_a_coordinator_with_link_and_qr(
    make_user: UserFactory, repos: Repositories
) -> None:
    org = await repos.organisations.create("Лицей №21", "Europe/Moscow", created_by=ADMIN_ID)
    await repos.organisations.create("Гимназия №5", "Asia/Omsk", created_by=ADMIN_ID)
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/orgs")
    assert admin.last_text == "Organisations (2):"
    assert admin.buttons() == ["Гимназия №5", "Лицей №21"]
    await admin.click("Лицей №21")
    assert "Time zone: Moscow (UTC+3)" in admin.last_text

    await admin.click("Invite a coordinator")
    invitation = admin.texts[-2]
    match = LINK.search(invitation)
    assert match is not None, invitation
    assert "one person" in invitation and "7 days" in invitation
    invite = await repos.invites.by_token(match.group(1))
    assert invite is not None and invite.kind is InviteKind.COORDINATOR
    assert invite.organisation_id == org.id and invite.programme_id is None
    assert invite.is_usable(utcnow())
    assert timedelta(days=6, hours=23) < invite.expires_at - utcnow() <= timedelta(days=7)

    assert len(admin.photos) == 1
    png = bytes(admin.photos[0])
    assert png.startswith(PNG_SIGNATURE)
    assert png == qr_png(match.group(0))
    assert decode_qr(png) == [match.group(0)]
    assert "coordinator invitation for «Лицей №21»" in admin.last_text  # the photo's caption

    # Each press makes another single-use link.
    await admin.click("Invite a coordinator")
    second = LINK.search(admin.texts[-2])
    assert second is not None and second.group(1) != match.group(1)

    await repos.organisations.add_coordinator(org.id, 2001, "Мария Ивановна", "test")
    await admin.send("/orgs")
    await admin.click("Лицей №21")
    assert "Coordinators: Мария Ивановна" in admin.last_text


async def test_non_admin_gets_no_administrator_powers(
    make_user: UserFactory, repos: Repositories, db: Database, dp: Dispatcher,
    bot: Bot,
) -> None:
    org = await repos.organisations.create("Лицей №21", "Europe/Moscow", created_by=ADMIN_ID)
    stranger = make_user(3001, "Ivan", "en")
    await stranger.send("/neworg")
    assert stranger.last_text == "This is for administrators of the bot only."
    assert await fsm_state(dp, bot, 3001) is None
    await stranger.send("/orgs")
    assert stranger.last_text == "This is for administrators of the bot only."

    # Forged buttons do nothing either.
    await stranger.click_data(OrgCb(action="link", org=org.id).pack(), 1)
    await stranger.click_data(OrgCb(action="open", org=org.id).pack(), 1)
    await stranger.click_data(OrgCb(action="tz", value="Europe/Moscow").pack(), 1)
    assert stranger.alerts == ["This is for administrators of the bot only."] * 3
    assert await count(db, "invites") == 0
    assert await count(db, "organisations") == 1
    assert not any("Лицей" in text for text in stranger.texts)


async def test_long_list_of_organisations_is_paged(make_user: UserFactory, repos: Repositories) -> None:
    for number in range(1, 26):
        await repos.organisations.create(f"Школа №{number:02d}", "Europe/Moscow", created_by=ADMIN_ID)
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/orgs")
    assert admin.last_text == "Organisations (25):"
    assert admin.buttons()[0] == "Школа №01" and admin.buttons()[-2:] == ["Школа №20", "More »"]
    assert len(admin.buttons()) == 21
    await admin.click("More »")
    assert admin.buttons() == [f"Школа №{n}" for n in range(21, 26)] + ["« Back"]
    await admin.click("Школа №23")
    assert admin.last_text.startswith("Organisation: Школа №23\n")
    await admin.click("All organisations")
    assert admin.buttons()[-1] == "More »"
