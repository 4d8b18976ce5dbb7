"""The coordinator: a programme created step by step, its invite links and QR codes, access checked."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n

from bot.callbacks import OrgCb, ProgrammeCb
from bot.labels import RUSSIAN_TIMEZONES
from handlers.programme_dates import DateProblem, parse_date
from storage.db import Database, utcnow
from storage.models import InviteKind, Role
from storage.repos import Repositories
from tests.conftest import ADMIN_ID, UserFactory
from tests.factories import school
from tests.qr_helpers import decode_qr

LINK = re.compile(r"https://t\.me/nastavnik_test_bot\?start=([A-Za-z0-9_-]{16,64})")
COORDINATOR = 2000
NO_ACCESS = "You don't have access to this programme."
Y = date.today().year + 1  # the next school year starts on 1 September of Y: always ahead
Y1 = Y + 1
START = f"01.09.{Y}"


async def count(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
    return row[0]


async def fsm_state(dp: Dispatcher, bot: Bot, user_id: int) -> str | None:
    """The conversation state the dispatcher keeps for a private chat."""
    return await dp.fsm.get_context(bot=bot, chat_id=user_id, user_id=user_id).get_state()


def links_in(texts: list[str]) -> list[str]:
    """Every invite link in the texts, in order."""
    return [m.group(0) for text in texts for m in LINK.finditer(text)]


async def test_coordinator_creates_a_programme_with_two_forms(
    make_user: UserFactory, repos: Repositories, db: Database, dp: Dispatcher, bot: Bot
) -> None:
    org = await repos.organisations.create("Лицей №21", "Europe/Moscow", created_by=ADMIN_ID)
    await repos.organisations.add_coordinator(org.id, COORDINATOR, "Мария Ивановна", "test")
    maria = make_user(COORDINATOR, "Maria", "en")

    await maria.send("/newprogramme")
    assert "New programme of «Лицей №21»" in maria.texts[-1] and "called" in maria.last_text
    await maria.send_sticker()
    assert "text message, not a sticker" in maria.last_text
    await maria.send("ab")
    assert "3 to 200 characters long; yours has 2" in maria.last_text
    await maria.send("Вместе по лестнице успеха")
    assert "forms of mentoring" in maria.last_text
    assert maria.buttons() == [
        "Pupil – pupil", "Teacher – teacher", "Teacher – pupil", "Student – student",
        "Lecturer – student", "Employer – student", "Head – teacher", "Done", "Cancel",
    ]

    await maria.click("Done")
    assert maria.alerts[-1] == "Choose at least one form of mentoring."
    await maria.click("Pupil – pupil")
    await maria.click("Teacher – teacher")
    await maria.click("Teacher – teacher")  # ticked, then unticked
    await maria.click("Teacher – pupil")
    assert [b for b in maria.buttons() if b.startswith("✅")] == ["✅ Pupil – pupil", "✅ Teacher – pupil"]
    await maria.send("pupils and teachers")
    assert "choose with the buttons" in maria.last_text
    assert [b for b in maria.buttons() if b.startswith("✅")] == ["✅ Pupil – pupil", "✅ Teacher – pupil"]
    await maria.click("Done")
    assert maria.texts[-2] == "Forms of mentoring: Pupil – pupil, Teacher – pupil."
    assert "When does the programme start?" in maria.last_text

    for wrong in ("tomorrow", "1 September"):
        await maria.send(wrong)
        assert "write the date as DD.MM.YYYY" in maria.last_text
    await maria.send_sticker()
    assert "write the date as DD.MM.YYYY" in maria.last_text
    await maria.send("31.02.2026")
    assert "There is no such date in the calendar: 31.02.2026." in maria.last_text
    await maria.send(START)
    assert "When does the programme end?" in maria.last_text
    await maria.send(f"{Y}-08-31")
    assert f"The end must be after the start (September 1, {Y})." in maria.last_text
    await maria.send(START)
    assert "The end must be after the start" in maria.last_text
    await maria.send(f"{Y1}-05-31")
    summary = maria.last_text
    assert "Organisation: Лицей №21\nTitle: «Вместе по лестнице успеха»" in summary
    assert "Forms of mentoring: Pupil – pupil, Teacher – pupil" in summary
    assert f"Dates: September 1, {Y} — May 31, {Y1}" in summary
    assert summary.endswith(f"The links are valid until June 30, {Y1}")
    assert maria.buttons() == ["Create", "Cancel"]
    assert await count(db, "programmes") == 0

    await maria.click("Create")
    [programme] = await repos.programmes.of_organisation(org.id)
    assert programme.title == "Вместе по лестнице успеха"
    assert programme.forms == ("pupil_pupil", "teacher_pupil")
    assert (programme.start_date, programme.end_date) == (date(Y, 9, 1), date(Y + 1, 5, 31))
    assert await fsm_state(dp, bot, COORDINATOR) is None

    links = links_in(maria.texts)
    assert len(links) == 2
    mentor_text = next(t for t in maria.texts if t.startswith("Invite link for mentors"))
    mentee_text = next(t for t in maria.texts if t.startswith("Invite link for mentees"))
    assert links[0] in mentor_text and links[1] in mentee_text
    assert mentor_text.endswith(f"\nValid until June 30, {Y1}")
    kinds = []
    for link in links:
        invite = await repos.invites.by_token(link.rsplit("=", 1)[1])
        assert invite is not None and invite.programme_id == programme.id
        # through the 30th day after the end, Moscow time (the repo takes a ttl: allow for the clock)
        assert abs(invite.expires_at - datetime(Y + 1, 7, 1, tzinfo=ZoneInfo("Europe/Moscow"))) < timedelta(
            seconds=10
        )
        kinds.append(invite.kind)
    assert kinds == [InviteKind.MENTOR, InviteKind.MENTEE]
    assert [decode_qr(bytes(photo)) for photo in maria.photos] == [[links[0]], [links[1]]]
    captions = [m.text for m in maria.messages if m.photo]
    assert captions == [
        "«Вместе по лестнице успеха» — for mentors. Scan the code to join.",
        "«Вместе по лестнице успеха» — for mentees. Scan the code to join.",
    ]

    # Buttons of the finished conversation create nothing more.
    for action in ("create", "forms_done", "form"):
        await maria.click_data(ProgrammeCb(action=action, value="pupil_pupil").pack(), 1)
        assert "This step is over" in maria.alerts[-1]
    assert await count(db, "programmes") == 1 and await count(db, "invites") == 2


async def test_cancel_and_organisation_choice(
    make_user: UserFactory, repos: Repositories, db: Database, dp: Dispatcher, bot: Bot
) -> None:
    first = await repos.organisations.create("Лицей №21", "Europe/Moscow", created_by=ADMIN_ID)
    second = await repos.organisations.create("Колледж связи", "Asia/Omsk", created_by=ADMIN_ID)
    other = await repos.organisations.create("Школа №3", "Europe/Samara", created_by=ADMIN_ID)
    for org in (first, second):
        await repos.organisations.add_coordinator(org.id, COORDINATOR, "Мария Ивановна", "test")
    maria = make_user(COORDINATOR, "Maria", "en")

    await maria.send("/newprogramme")
    assert maria.buttons() == ["Колледж связи", "Лицей №21", "Cancel"]
    forged = ProgrammeCb(action="org", value=str(other.id)).pack()
    await maria.click_data(forged, maria.last_message.message_id)
    assert maria.alerts[-1] == "You don't coordinate this organisation."
    assert await fsm_state(dp, bot, COORDINATOR) == "NewProgramme:organisation"
    await maria.click("Колледж связи")
    assert "New programme of «Колледж связи»" in maria.texts[-2]
    await maria.send("Профессиональный старт")
    await maria.click("Cancel")
    assert "Cancelled. No programme was created." in maria.texts
    assert await fsm_state(dp, bot, COORDINATOR) is None
    await maria.click_data(ProgrammeCb(action="forms_done").pack(), 1)
    assert "This step is over" in maria.alerts[-1]

    # An administrator chooses among every organisation.
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/newprogramme")
    assert admin.buttons() == ["Колледж связи", "Лицей №21", "Школа №3", "Cancel"]
    await admin.click("Школа №3")
    await admin.send("/cancel")
    assert await fsm_state(dp, bot, ADMIN_ID) is None
    assert await count(db, "programmes") == 0


async def test_create_rechecks_access_to_the_organisation(
    make_user: UserFactory, repos: Repositories, db: Database, dp: Dispatcher, bot: Bot
) -> None:
    own = await repos.organisations.create("Лицей №21", "Europe/Moscow", created_by=ADMIN_ID)
    foreign = await repos.organisations.create("Гимназия №5", "Europe/Moscow", created_by=ADMIN_ID)
    await repos.organisations.add_coordinator(own.id, COORDINATOR, "Мария Ивановна", "test")
    maria = make_user(COORDINATOR, "Maria", "en")
    await maria.send("/newprogramme")
    await maria.send("Вместе по лестнице успеха")
    await maria.click("Pupil – pupil")
    await maria.click("Done")
    await maria.send("01.09.2019")
    await maria.send("31.05.2020")
    assert "This date has already passed" in maria.last_text
    await maria.send(f"31.05.{Y1}")
    assert "can't last more than five years" in maria.last_text
    await maria.send("/newprogramme")
    await maria.send("Вместе по лестнице успеха")
    await maria.click("Pupil – pupil")
    await maria.click("Done")
    await maria.send(START)
    await maria.send(f"31.05.{Y1}")
    assert maria.buttons() == ["Create", "Cancel"]
    # The conversation's data pointed at another school (as if tampered with): nothing is created.
    context = dp.fsm.get_context(bot=bot, chat_id=COORDINATOR, user_id=COORDINATOR)
    await context.update_data(org=foreign.id)
    await maria.click("Create")
    assert maria.alerts[-1] == "You don't coordinate this organisation."
    assert await count(db, "programmes") == 0 and await count(db, "invites") == 0


async def test_card_links_renewed_and_revoked(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    org = await repos.organisations.create("Лицей №21", "Europe/Moscow", created_by=ADMIN_ID)
    await repos.organisations.add_coordinator(org.id, COORDINATOR, "Мария Ивановна", "test")
    programme = await repos.programmes.create(
        org.id, "Вместе по лестнице успеха", ["pupil_pupil"], date(Y, 9, 1), date(Y + 1, 5, 31), COORDINATOR
    )
    await repos.participants.enrol(programme.id, 501, Role.MENTOR, "pupil_pupil", "Анна Петрова", False, "t")
    maria = make_user(COORDINATOR, "Maria", "en")

    await maria.send("/programmes")
    assert maria.buttons() == ["Вместе по лестнице успеха"]
    await maria.click("Вместе по лестнице успеха")
    card = maria.last_text
    assert card.startswith("Programme: «Вместе по лестнице успеха»\nOrganisation: Лицей №21\n")
    assert f"Forms of mentoring: Pupil – pupil\nDates: September 1, {Y} — May 31, {Y1}" in card
    assert "Mentors: 1\nMentees: 0\nActive invite links: 0" in card
    assert maria.buttons() == [
        "Invite links", "New links", "Revoke links", "All programmes", "Mentees (0)", "Mentors (1)",
        "Observers", "Preference survey", "Matching and pairs", "Meetings", "Group final meeting",
        "Survey results", "Announcement", "Start again for a new year", "Completion",
    ]

    await maria.click("Invite links")
    first = links_in(maria.texts)
    assert len(first) == 2 and len(maria.photos) == 2
    await maria.click("Invite links")  # the same links again, none issued
    assert links_in(maria.texts) == first * 2 and await count(db, "invites") == 2
    assert [decode_qr(bytes(p)) for p in maria.photos] == [[link] for link in first * 2]

    await maria.click("New links")
    assert "Issue new invite links" in maria.last_text
    await maria.click("Yes, issue new links")
    renewed = links_in(maria.texts)[4:]
    assert len(renewed) == 2 and not set(renewed) & set(first)
    for link in first:
        old = await repos.invites.by_token(link.rsplit("=", 1)[1])
        assert old is not None and old.revoked_at is not None
    assert len(await repos.invites.active_for_programme(programme.id, utcnow())) == 2

    pupil = make_user(601, "Pavel", "en")
    await pupil.send("/start " + first[1].rsplit("=", 1)[1])
    assert "revoked" in pupil.last_text

    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Revoke links")
    await maria.click("No, back")
    assert "Active invite links: 2" in maria.last_text
    await maria.click("Revoke links")
    await maria.click("Yes, revoke")
    assert maria.last_text.startswith("Links revoked: 2.")
    assert "Active invite links: 0" in maria.last_text
    assert await repos.invites.active_for_programme(programme.id, utcnow()) == []


async def test_coordinator_cannot_touch_another_schools_programme(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    school_a = await school(repos, name="Лицей №21", coordinator_id=COORDINATOR)
    school_b = await school(repos, name="Гимназия №5", coordinator_id=2100)
    maria = make_user(COORDINATOR, "Maria", "en")

    await maria.send("/programmes")
    assert maria.buttons() == [school_a.programme.title]
    message_id = maria.last_message.message_id
    before = await repos.invites.active_for_programme(school_b.programme.id, utcnow())
    invites_before = await count(db, "invites")
    for action in ("open", "links", "ask_renew", "renew", "ask_revoke", "revoke"):
        await maria.click_data(ProgrammeCb(action=action, programme=school_b.programme.id).pack(), message_id)
    await maria.click_data(ProgrammeCb(action="open", programme=99999).pack(), message_id)
    assert maria.alerts == [NO_ACCESS] * 7
    assert await repos.invites.active_for_programme(school_b.programme.id, utcnow()) == before
    assert await count(db, "invites") == invites_before
    assert not any("Гимназия" in text for text in maria.texts)
    assert maria.photos == []
    # Nor the administrator's buttons.
    await maria.click_data(OrgCb(action="link", org=school_b.org.id).pack(), message_id)
    assert maria.alerts[-1] == "This is for administrators of the bot only."
    assert await count(db, "invites") == invites_before


async def test_people_who_coordinate_nothing_are_told_so(make_user: UserFactory, db: Database) -> None:
    pupil = make_user(3001, "Ivan", "en")
    for command in ("/newprogramme", "/programmes"):
        await pupil.send(command)
        assert pupil.last_text.startswith("This is for coordinators of mentoring programmes.")
    await pupil.click_data(ProgrammeCb(action="list").pack(), 1)
    assert not any("Programmes (" in text for text in pupil.texts)


async def test_administrator_sees_every_programme(make_user: UserFactory, repos: Repositories) -> None:
    await school(repos, name="Лицей №21", coordinator_id=COORDINATOR)
    await school(repos, name="Гимназия №5", coordinator_id=2100)
    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/programmes")
    assert admin.last_text.startswith("Programmes (2).")
    assert sorted(admin.buttons()) == [
        "Вместе по лестнице успеха — Гимназия №5", "Вместе по лестнице успеха — Лицей №21",
    ]
    await admin.click("Гимназия №5")
    assert "Organisation: Гимназия №5" in admin.last_text


def test_dates_are_parsed_strictly(i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("en"):
        assert parse_date("01.09.2026") == date(2026, 9, 1)
        assert parse_date(" 1.9.2026 ") == date(2026, 9, 1)
        assert parse_date("2026-09-01") == date(2026, 9, 1)
        assert parse_date("29.02.2028") == date(2028, 2, 29)
        for wrong in ("31.02.2026", "29.02.2027", "2026-13-01", "01.09.26", "01/09/2026", "", None,
                      "01.09.1900"):
            with pytest.raises(DateProblem):
                parse_date(wrong)


def test_largest_callback_payloads_fit() -> None:
    assert len(ProgrammeCb(action="ask_revoke", programme=2**63 - 1).pack().encode()) <= 64
    assert len(ProgrammeCb(action="form", value="employer_student").pack().encode()) <= 64
    assert len(ProgrammeCb(action="org", value=str(2**63 - 1)).pack().encode()) <= 64
    for tz in RUSSIAN_TIMEZONES:
        assert len(OrgCb(action="tz", value=tz).pack().encode()) <= 64
    assert len(OrgCb(action="link", org=2**63 - 1).pack().encode()) <= 64
