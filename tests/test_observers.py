"""Observers: invited by link, consent and position, notes about mentees, privacy, withdrawal."""

from __future__ import annotations

import re

from bot.callbacks import BasesCb, NoteCb, ObserverCb, ProgrammeCb
from storage.db import Database
from storage.models import Participant, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, around_today, school

NO_ACCESS = "You don't have access to this programme."


async def observer_token(maria: TgUser) -> str:
    """The coordinator opens the programme's observers screen and takes the link (and its QR code)."""
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Observers")
    assert maria.last_text.startswith("Observers of «Вместе по лестнице успеха»: 0")
    photos = len(maria.photos)
    await maria.click("Observer link and QR code")
    assert len(maria.photos) == photos + 1
    link = next(t for t in reversed(maria.texts) if t.startswith("Invite link for observers"))
    match = re.search(r"start=(\S+)", link)
    assert match and "Valid until" in link
    return match.group(1)


async def join(user: TgUser, token: str, position: str) -> None:
    await user.send(f"/start {token}")
    await user.click("I agree")
    await user.click(position)


async def mentees(repos: Repositories, sch: School) -> tuple[Participant, Participant, Participant]:
    """Two consented mentees and one whose parent has not confirmed yet."""
    vera = await repos.participants.enrol(sch.programme.id, 10_001, Role.MENTEE, "pupil_pupil", "Вера",
                                          False, "v1")
    petr = await repos.participants.enrol(sch.programme.id, 10_002, Role.MENTEE, "pupil_pupil", "Пётр",
                                          False, "v1")
    minor = await repos.participants.enrol(sch.programme.id, 10_003, Role.MENTEE, "pupil_pupil", "Малыш",
                                           True, "v1")
    return vera, petr, minor


async def test_an_observer_joins_and_adds_a_note_the_coordinator_reads(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    sch = await school(repos, dates=around_today())
    vera, petr, _minor = await mentees(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    token = await observer_token(maria)

    irina = make_user(3001, "Irina", "en", last_name="Petrova")
    await irina.send(f"/start {token}")
    consent = irina.last_text
    assert "Irina Petrova" in consent and "Лицей №21" in consent and "/mydata" in consent
    assert "position" in consent and "coordinators" in consent
    assert await repos.observers.of_user(3001) == []
    await irina.click("I agree")
    assert irina.last_text == "What is your position?"
    assert irina.buttons() == ["Class teacher", "Psychologist", "Social pedagogue", "Other position"]
    assert await repos.observers.of_user(3001) == []  # nothing kept before the position
    await irina.click("Class teacher")
    assert irina.last_text.startswith("Thank you! You are now an observer of «Вместе по лестнице успеха»")
    [observer] = await repos.observers.of_user(3001)
    assert (observer.full_name, observer.position) == ("Irina Petrova", "class_teacher")
    assert observer.consent_version.startswith("observer-1.0")
    menus = [c for c in irina.fake.calls_of("setMyCommands")
             if c.params.get("scope", {}).get("chat_id") == 3001]
    assert "mentees" in [c["command"] for c in menus[-1].params["commands"]]
    await irina.send(f"/start {token}")
    assert irina.last_text.startswith("You already observe")

    await irina.send("/mentees")
    assert irina.last_text.startswith("Mentees of «Вместе по лестнице успеха»: 2.")
    assert irina.buttons() == ["Вера — Pupil – pupil", "Пётр — Pupil – pupil"]  # no minor without a parent
    await irina.click("Вера")
    screen = irina.last_text
    assert screen.startswith("Вера\nForm of mentoring: Pupil – pupil")
    assert "You have not written notes about them yet." in screen and "consent" not in screen.lower()
    await irina.click("Add a note")
    await irina.send_sticker()
    assert "A note can only be text" in irina.last_text
    await irina.send_photo()
    assert "A note can only be text" in irina.last_text
    await irina.send("я" * 2001)
    assert "at most 2000" in irina.last_text
    await irina.send("   ")
    assert irina.last_text == "The note is empty. Please write it in a message, or /cancel."
    assert await repos.observers.count_notes(vera.id) == 0
    await irina.send("Просит помочь с математикой, стесняется отвечать у доски")
    assert irina.last_text == "Saved."
    [note] = await repos.observers.notes(vera.id)
    assert (note.author_id, note.author_role, note.author_name) == (3001, "observer", "Irina Petrova")
    await irina.click("Back to Вера")
    assert "Your notes (1), newest first:" in irina.last_text
    assert "Просит помочь с математикой" in irina.last_text

    # The coordinator is told, and reads the note on the card.
    notice = next(t for t in reversed(maria.texts) if t.startswith("New note in"))
    assert notice == ("New note in «Вместе по лестнице успеха»: Irina Petrova (class teacher) wrote "
                      "about Вера.")
    await maria.click("Open the notes")
    assert "— Irina Petrova, class teacher\nПросит помочь с математикой" in maria.last_text
    await maria.click("Back to the card")
    assert "Notes (1)" in maria.buttons()
    await maria.click("Back to the list")
    await maria.click("Back to the programme")
    await maria.click("Observers")
    assert maria.last_text == "Observers of «Вместе по лестнице успеха»: 1\n• Irina Petrova — class teacher"
    assert await repos.observers.count_notes(petr.id) == 0


async def test_observers_see_only_their_own_notes_and_programme(
    make_user: UserFactory, repos: Repositories
) -> None:
    sch = await school(repos, dates=around_today())
    vera, _petr, minor = await mentees(repos, sch)
    other = await school(repos, name="Гимназия №5", coordinator_id=2100, dates=around_today())
    stranger = await repos.participants.enrol(other.programme.id, 30_000, Role.MENTEE, "pupil_pupil",
                                              "Чужой Ученик", False, "v1")
    mentor = await repos.participants.enrol(sch.programme.id, 20_000, Role.MENTOR, "pupil_pupil", "Наставник",
                                            False, "v1")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    token = await observer_token(maria)
    irina = make_user(3001, "Irina", "en")
    await join(irina, token, "Class teacher")
    await irina.send("/mentees")
    await irina.click("Вера")
    await irina.click("Add a note")
    await irina.send("Секретная заметка Ирины")

    oleg = make_user(3002, "Oleg", "en")
    await join(oleg, token, "Psychologist")
    await oleg.send("/mentees")
    await oleg.click("Вера")
    assert "You have not written notes about them yet." in oleg.last_text
    assert not any("Секретная" in t for t in oleg.texts)

    # Forged buttons: another programme's mentee, a mentor, a minor without a parent's consent, the other
    # school's programme, and the coordinator's own screens.
    message_id = oleg.last_message.message_id
    forged = [
        ObserverCb(action="m", programme=sch.programme.id, participant=stranger.id),
        ObserverCb(action="a", programme=sch.programme.id, participant=stranger.id),
        ObserverCb(action="m", programme=other.programme.id, participant=stranger.id),
        ObserverCb(action="l", programme=other.programme.id),
        ObserverCb(action="m", programme=sch.programme.id, participant=mentor.id),
        ObserverCb(action="a", programme=sch.programme.id, participant=minor.id),
        ProgrammeCb(action="observers", programme=sch.programme.id),
        ObserverCb(action="lk", programme=sch.programme.id),
        BasesCb(action="c", programme=sch.programme.id, role=Role.MENTEE, participant=vera.id),
        NoteCb(action="n", programme=sch.programme.id, role=Role.MENTEE, participant=vera.id),
    ]
    for cb in forged:
        await oleg.click_data(cb.pack(), message_id)
    assert oleg.alerts == [NO_ACCESS] * len(forged)
    assert not any("Секретная" in t or "Чужой" in t or "Invite link" in t for t in oleg.texts)
    await oleg.send("a note after forged buttons")
    assert await repos.observers.count_notes(stranger.id) == 0
    assert await repos.observers.count_notes(mentor.id) == 0
    assert await repos.observers.count_notes(minor.id) == 0

    # The other school's coordinator can't open this programme's observers or their link.
    olga = make_user(2100, "Olga", "en")
    await olga.send("/programmes")
    for cb in (ProgrammeCb(action="observers", programme=sch.programme.id),
               ObserverCb(action="rn", programme=sch.programme.id)):
        await olga.click_data(cb.pack(), olga.last_message.message_id)
    assert olga.alerts == [NO_ACCESS] * 2
    assert not any("Irina" in t or "Invite link" in t for t in olga.texts)

    # Someone who observes nothing.
    nobody = make_user(3999, "Nobody", "en")
    await nobody.send("/mentees")
    assert nobody.last_text.startswith("This is for observers")


async def test_withdrawal_keeps_notes_without_the_name(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    sch = await school(repos, dates=around_today())
    await mentees(repos, sch)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    token = await observer_token(maria)
    irina = make_user(3001, "Irina", "en")
    await join(irina, token, "Social pedagogue")
    await irina.send("/mentees")
    await irina.click("Вера")
    await irina.click("Add a note")
    await irina.send("Нужна поддержка")

    await irina.send("/mydata")
    summary = next(t for t in reversed(irina.texts) if t.startswith("What is stored about you"))
    assert "Observer of «Вместе по лестнице успеха»: Irina, social pedagogue" in summary
    await irina.click("Stop observing")
    await irina.click("No, keep")
    assert await repos.observers.of_user(3001) != []
    await irina.click("Stop observing")
    await irina.click("Yes, stop")
    assert irina.last_text.startswith("Done: you are no longer an observer")
    assert await repos.observers.of_user(3001) == []
    row = await db.fetchone("SELECT author_id, author_name, text FROM notes")
    assert (row["author_id"], row["author_name"], row["text"]) == (0, "", "Нужна поддержка")
    await irina.send("/mentees")
    assert irina.last_text.startswith("This is for observers")
    await irina.send("/mydata")
    assert not any("Irina, social" in t for t in irina.texts[-2:])

    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Mentees (3)")
    await maria.click("Вера")
    await maria.click("Notes (1)")
    assert "— an observer who has withdrawn\nНужна поддержка" in maria.last_text
    assert "Irina" not in maria.last_text
