"""Announcements: the coordinator's flow end to end, segments, forged buttons, wrong input, the report."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Dispatcher
from aiogram.utils.i18n import I18n

from bot.callbacks import AnnounceCb, ProgrammeCb
from storage.models import Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, school
from tests.fakeapi import FakeBotAPI

NO_ACCESS = "You don't have access to this programme."
HEADER = "Message from the coordinator of «{programme}»:"
RU_HEADER = "Сообщение от координатора «{programme}»:"
TITLE = "Вместе по лестнице успеха"
MENTORS = (21_001, 21_002, 21_003)
MENTEES = (22_001, 22_002)  # adults
MINOR, PENDING_MINOR, PARENT, OBSERVER = 22_003, 22_004, 23_001, 24_001


async def populate(repos: Repositories, sch: School) -> None:
    """3 mentors (one submitted), 2 adult mentees (one submitted), a minor with a confirmed parent,
    a minor whose parent has not answered, an observer. 22_001 speaks English, the rest Russian."""
    pid = sch.programme.id
    for i, uid in enumerate(MENTORS):
        p = await repos.participants.enrol(pid, uid, Role.MENTOR, "pupil_pupil", f"Ментор {i}", False, "v1")
        if i == 0:
            await repos.responses.submit((await repos.responses.start(p.id, "mentor_pupil", 1)).id)
    for i, uid in enumerate(MENTEES):
        p = await repos.participants.enrol(pid, uid, Role.MENTEE, "pupil_pupil", f"Ученик {i}", False, "v1")
        if i == 0:
            await repos.responses.submit((await repos.responses.start(p.id, "mentee_pupil", 1)).id)
    minor = await repos.participants.enrol(pid, MINOR, Role.MENTEE, "pupil_pupil", "Маша", True, "v1")
    await repos.participants.parent_decision(minor.id, PARENT, True, "v1")
    await repos.participants.enrol(pid, PENDING_MINOR, Role.MENTEE, "pupil_pupil", "Петя", True, "v1")
    await repos.observers.add(pid, OBSERVER, "Анна Сергеевна", "class_teacher", "v1")
    for uid in (*MENTORS, *MENTEES, MINOR, PENDING_MINOR, PARENT, OBSERVER):
        await repos.users.seen(uid, "en" if uid == MENTEES[0] else "ru")


async def wait_status(repos: Repositories, dedupe: str, status: str = "sent") -> None:
    """Wait until the outbox row reaches the status (the deadline only stops a hang)."""
    end = time.monotonic() + 30
    while True:
        row = await repos.db.fetchone("SELECT status FROM outbox WHERE dedupe = ?", (dedupe,))
        if row is not None and row[0] == status:
            return
        assert time.monotonic() < end, f"{dedupe} never became {status}"
        await asyncio.sleep(0.05)


async def open_announcement(maria: TgUser) -> None:
    await maria.send("/programmes")
    await maria.click(TITLE)
    await maria.click("Announcement")


async def announcements(repos: Repositories) -> list[tuple]:
    rows = await repos.db.fetchall("SELECT id, segment, text, recipients FROM announcements")
    return [tuple(r) for r in rows]


async def test_announcement_to_mentees_end_to_end(
    make_user: UserFactory, repos: Repositories, fake: FakeBotAPI, i18n: I18n,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(i18n.locales["ru"]._catalog, HEADER, RU_HEADER)  # type: ignore[attr-defined]
    sch = await school(repos)
    await populate(repos, sch)
    fake.block(MENTEES[1])
    maria = make_user(COORDINATOR_ID, "Maria", "en")

    await open_announcement(maria)
    assert maria.last_text.startswith(f"Announcement in «{TITLE}». Whom to write to?")
    assert maria.buttons()[:5] == [
        "All mentors (3)", "All mentees (3)", "Parents (1)", "Observers (1)",
        "Those who have not submitted the questionnaire (4)",
    ]
    await maria.click("All mentees (3)")
    assert maria.last_text.startswith("Write the announcement for: All mentees (3).")

    await maria.send_sticker()
    assert maria.last_text.startswith("Please send the announcement as a text message")
    await maria.send("x" * 3501)
    assert maria.last_text.startswith("The text is 3501 characters long; the limit is 3500.")
    assert await announcements(repos) == []

    body = "Собрание в пятницу в 15:00, кабинет 12."
    await maria.send(body)
    preview = maria.last_message
    assert preview.text == (
        f"Preview. It goes to: All mentees (3).\n\n{HEADER.format(programme=TITLE)}\n\n{body}"
    )
    assert preview.buttons == ["Send to 3 people", "Cancel"]
    send_data = preview.keyboard[0][0]["callback_data"]

    await maria.click("Send to 3 people")
    assert fake.message(COORDINATOR_ID, preview.message_id)["text"].startswith("Queued for 3 people.")
    [(ann_id, segment, text, recipients)] = await announcements(repos)
    assert (segment, text, recipients) == ("mentees", body, 3)
    rows = await repos.db.conn.execute_fetchall("SELECT dedupe FROM outbox WHERE kind = 'announcement'")
    assert sorted(r[0] for r in rows) == sorted(f"ann:{ann_id}:{u}" for u in (*MENTEES, MINOR))

    # A second tap on the same "Send" sends nothing more.
    await maria.click_data(send_data, preview.message_id)
    assert maria.alerts[-1] == "This announcement has already been sent or was cancelled."
    assert len(await announcements(repos)) == 1

    await wait_status(repos, f"ann-report:{ann_id}")
    assert fake.messages(MENTEES[0])[-1]["text"] == f"{HEADER.format(programme=TITLE)}\n\n{body}"
    assert fake.messages(MINOR)[-1]["text"] == f"{RU_HEADER.format(programme=TITLE)}\n\n{body}"
    assert fake.messages(MENTEES[1]) == []
    for uid in (*MENTORS, PARENT, OBSERVER, PENDING_MINOR):
        assert fake.deliveries[uid] == 0
    assert (await repos.users.get(MENTEES[1])).blocked_at is not None
    report = f"Announcement to «All mentees» in «{TITLE}» delivered to 2 of 3. 1 person has blocked the bot."
    assert maria.texts.count(report) == 1

    await maria.click("Sent announcements")
    [screen] = [m for m in maria.messages if m.text.startswith(f"Sent announcements of «{TITLE}»")]
    assert "delivered 2, pending 0, blocked 1, failed 0" in screen.text
    assert "«Собрание в пятницу в 15:00, кабинет 12.»" in screen.text
    assert screen.buttons == ["Refresh", "New announcement", "Back to the programme"]


async def test_each_segment_reaches_its_people(
    make_user: UserFactory, repos: Repositories, fake: FakeBotAPI
) -> None:
    sch = await school(repos)
    await populate(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    expected = {
        "All mentors": {*MENTORS},
        "Parents": {PARENT},
        "Observers": {OBSERVER},
        "Those who have not submitted": {MENTORS[1], MENTORS[2], MENTEES[1], MINOR},
    }
    for label, people in expected.items():
        await open_announcement(maria)
        await maria.click(label)
        await maria.send(f"For {label}")
        await maria.click("Send to")
        [ann_id] = [r[0] for r in await announcements(repos) if r[2] == f"For {label}"]
        await wait_status(repos, f"ann-report:{ann_id}")
        got = {u for u in (*MENTORS, *MENTEES, MINOR, PENDING_MINOR, PARENT, OBSERVER)
               if any(m["text"].endswith(f"For {label}") for m in fake.messages(u))}
        assert got == people, label


async def test_forged_and_stale_buttons_are_refused(
    make_user: UserFactory, repos: Repositories, dp: Dispatcher
) -> None:
    ours = await school(repos)
    await populate(repos, ours)
    theirs = await school(repos, name="Гимназия №5", coordinator_id=2001)
    other = make_user(2001, "Oleg", "en")
    await other.send("/programmes")
    pid = ours.programme.id
    forged = [
        ProgrammeCb(action="announce", programme=pid),
        AnnounceCb(action="seg", programme=pid, segment="mentees"),
        AnnounceCb(action="list", programme=pid),
        AnnounceCb(action="cancel", programme=pid),
        AnnounceCb(action="send", programme=pid, token="abc"),
    ]
    for cb in forged:
        await other.click_data(cb.pack(), other.last_message.message_id)
        assert other.alerts[-1] == NO_ACCESS, cb

    # Their own programme, but a segment that does not exist, and a send with no preview behind it.
    tid = theirs.programme.id
    await other.click_data(AnnounceCb(action="seg", programme=tid, segment="all").pack(), 1)
    assert other.alerts[-1] == "This button is out of date. Open the programme again."
    await other.click_data(AnnounceCb(action="seg", programme=tid, segment="mentors").pack(), 1)
    assert other.alerts[-1] == "There is nobody in this group yet."

    # A coordinator with a preview of her own programme cannot send it "to" another one.
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_announcement(maria)
    await maria.click("All mentors")
    await maria.send("Hello")
    token = AnnounceCb.unpack(maria.last_message.keyboard[0][0]["callback_data"]).token
    await maria.click_data(AnnounceCb(action="send", programme=theirs.programme.id, token=token).pack(), 1)
    assert maria.alerts[-1] == NO_ACCESS
    await maria.click_data(AnnounceCb(action="send", programme=pid, token="wrong").pack(), 1)
    assert maria.alerts[-1] == "This announcement has already been sent or was cancelled."
    assert await announcements(repos) == []

    # Cancelled: the preview's button no longer sends, and typed text is not an announcement.
    await maria.click("Cancel")
    await maria.click_data(AnnounceCb(action="send", programme=pid, token=token).pack(), 1)
    assert maria.alerts[-1] == "This announcement has already been sent or was cancelled."
    await maria.click("All mentors")
    await maria.send("/cancel")
    await maria.send("Not an announcement")
    assert await announcements(repos) == []
    row = await repos.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert row[0] == 0
