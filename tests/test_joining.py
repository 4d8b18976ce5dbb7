"""Joining by invite: consent before data, a minor's parent, /mydata and withdrawal."""

from __future__ import annotations

import json
from datetime import timedelta

from storage.db import Database
from storage.models import InviteKind, ParticipantStatus
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, school


async def minor_joins(kid: TgUser, invite: str, name: str) -> str:
    """A pupil under 18 opens the invite, consents, gives their name; the token of the parent's link."""
    await kid.send(f"/start {invite}")
    await kid.click("I agree, I am under 18")
    await kid.send(name)
    return kid.last_message.url_buttons[0][1].split("start=")[1]


async def count(db: Database, table: str, where: str = "true") -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {table} WHERE {where}")
    return row[0]


async def test_adult_mentor_consents_then_starts_questionnaire(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    s = await school(repos)
    anna = make_user(501, "Anna", "en")
    await anna.send(f"/start {s.mentor_token}")
    consent = anna.last_text
    assert "Лицей №21" in consent and "Вместе по лестнице успеха" in consent
    assert "version 1.0" in consent and "withdraw" in consent
    assert await count(db, "participants") == 0 and await count(db, "consents") == 0

    await anna.click("I do not agree")
    assert "Nothing about you has been saved" in anna.last_text
    assert await count(db, "participants") == 0 and await count(db, "consents") == 0
    await anna.click("Read it again")
    await anna.click("I agree (I am 18 or older)")
    assert "first name and surname" in anna.last_text
    assert await count(db, "participants") == 0

    await anna.send_sticker()
    assert "write your name in a text message" in anna.last_text
    await anna.send("12345")
    assert "in letters" in anna.last_text
    await anna.send("x" * 5000)
    assert "in letters" in anna.last_text
    await anna.send("Anna Petrova")
    participant = await repos.participants.find(s.programme.id, 501)
    assert participant is not None and participant.full_name == "Anna Petrova"
    assert participant.status is ParticipantStatus.ACTIVE and participant.form == "pupil_pupil"
    consents = await repos.participants.consents(participant.id)
    assert [(c.kind, c.decision, c.given_by) for c in consents] == [("self", "given", 501)]
    assert consents[0].text_version.startswith("1.0")
    assert anna.texts[-2].startswith("Mentor questionnaire") or "questionnaire" in anna.texts[-2]
    assert anna.last_text.startswith("1 / ")


async def test_form_is_asked_when_the_programme_has_several(
    make_user: UserFactory, repos: Repositories
) -> None:
    s = await school(repos, forms=("pupil_pupil", "teacher_pupil"))
    pupil = make_user(502, "Pavel", "en")
    await pupil.send(f"/start {s.mentee_token}")
    await pupil.click("I agree (I am 18 or older)")
    assert "Which form of mentoring" in pupil.last_text
    await pupil.send("Pavel Smirnov")
    assert "choose the form of mentoring" in pupil.last_text
    await pupil.click("Teacher")
    await pupil.send("Pavel Smirnov")
    participant = await repos.participants.find(s.programme.id, 502)
    assert participant is not None and participant.form == "teacher_pupil"


async def test_minor_waits_for_parent_who_confirms(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    s = await school(repos)
    kid = make_user(601, "Masha", "en")
    mum = make_user(602, "Olga", "en")
    await kid.send(f"/start {s.mentee_token}")
    await kid.click("I agree, I am under 18")
    await kid.send("Masha Ivanova")
    participant = await repos.participants.find(s.programme.id, 601)
    assert participant is not None and participant.status is ParticipantStatus.PARENT_PENDING
    forward = kid.last_message
    assert "Masha Ivanova" in forward.text and "Вместе по лестнице успеха" in forward.text
    link = forward.url_buttons[0][1]
    assert link.startswith("https://t.me/")
    token = link.split("start=")[1]

    await kid.send("/questionnaire")
    assert "confirmation is still needed" in kid.last_text
    await kid.send(f"/start {token}")
    assert "forward it to them" in kid.last_text

    await mum.send(f"/start {token}")
    assert any("Masha Ivanova asks for your consent" in t for t in mum.texts)
    await mum.click("I confirm")
    assert "confirmation is saved" in mum.last_text
    assert "has confirmed" in kid.last_text
    participant = await repos.participants.get(participant.id)
    assert participant.status is ParticipantStatus.ACTIVE
    assert await repos.participants.guardians(participant.id) == [602]
    consents = await repos.participants.consents(participant.id)
    assert [(c.kind, c.decision, c.given_by) for c in consents] == [
        ("self", "given", 601), ("parent", "given", 602)
    ]
    await kid.click("Start the questionnaire")
    assert kid.last_text.startswith("1 / ")

    other = make_user(603, "Igor", "en")
    await other.send(f"/start {token}")
    assert "already been used" in other.last_text


async def test_parent_refusal_deletes_the_childs_data(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    s = await school(repos)
    kid = make_user(611, "Kolya", "en")
    dad = make_user(612, "Sergey", "en")
    token = await minor_joins(kid, s.mentee_token, "Kolya Sidorov")
    await dad.send(f"/start {token}")
    await dad.click("I refuse")
    assert await repos.participants.find(s.programme.id, 611) is None
    assert "did not confirm" in kid.last_text
    rows = await db.fetchall("SELECT kind, decision, given_by, participant_id FROM consents ORDER BY id")
    assert [tuple(r) for r in rows] == [("self", "given", None, None), ("parent", "refused", None, None)]


async def test_bad_links_get_clear_messages(make_user: UserFactory, repos: Repositories) -> None:
    s = await school(repos)
    user = make_user(701, "Vera", "en")
    await user.send("/start definitely-not-a-real-token-123")
    assert "not valid" in user.last_text
    invite = await repos.invites.by_token(s.mentor_token)
    await repos.invites.revoke(invite.id)
    await user.send(f"/start {s.mentor_token}")
    assert "revoked" in user.last_text
    expired = await repos.invites.create(
        InviteKind.MENTEE, s.org.id, COORDINATOR_ID, timedelta(seconds=-1), programme_id=s.programme.id
    )
    await user.send(f"/start {expired.token}")
    assert "expired" in user.last_text


async def test_mydata_and_withdrawal(make_user: UserFactory, repos: Repositories, db: Database) -> None:
    s = await school(repos)
    anna = make_user(801, "Anna", "en")
    await anna.send(f"/start {s.mentor_token}")
    await anna.click("I agree (I am 18 or older)")
    await anna.send("Anna Petrova")
    await anna.send("/mydata")
    summary = next(m.text for m in reversed(anna.messages) if "What is stored" in (m.text or ""))
    assert "Anna Petrova" in summary and "your consent: given" in summary
    document = anna.documents[-1]
    data = json.loads(bytes(document))
    assert data["participations"][0]["name"] == "Anna Petrova"
    assert data["participations"][0]["consents"][0]["text_version"].startswith("1.0")

    await anna.click("Withdraw consent")
    await anna.click("Yes, delete")
    assert "Consent withdrawn" in anna.last_text
    assert await count(db, "participants") == 0
    assert await count(db, "responses") == 0 and await count(db, "answers") == 0
    rows = await db.fetchall(
        "SELECT decision, given_by, participant_id, programme_id FROM consents ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("given", None, None, s.programme.id), ("withdrawn", None, None, s.programme.id)
    ]
    names = await db.fetchall("SELECT full_name FROM participants UNION SELECT full_name FROM coordinators")
    assert "Anna Petrova" not in [r[0] for r in names]


async def test_forged_withdraw_of_someone_else_changes_nothing(
    make_user: UserFactory, repos: Repositories
) -> None:
    s = await school(repos)
    anna = make_user(811, "Anna", "en")
    await anna.send(f"/start {s.mentor_token}")
    await anna.click("I agree (I am 18 or older)")
    await anna.send("Anna Petrova")
    participant = await repos.participants.find(s.programme.id, 811)
    mallory = make_user(812, "Mallory", "en")
    await mallory.click_data(f"wd:yes:{participant.id}", 1)
    assert "out of date" in mallory.alerts[-1]
    assert await repos.participants.get(participant.id) is not None


async def test_parent_withdrawal_forgets_the_childs_conversation(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    """A parent withdraws consent while the child is halfway through the questionnaire: the child's data and
    what the bot kept of their conversation (the questionnaire's place) are gone; the child is told."""
    s = await school(repos)
    kid = make_user(621, "Dasha", "en")
    mum = make_user(622, "Irina", "en")
    token = await minor_joins(kid, s.mentee_token, "Dasha Orlova")
    await mum.send(f"/start {token}")
    await mum.click("I confirm")
    await kid.click("Start the questionnaire")
    assert kid.last_text.startswith("1 / ")
    assert await count(db, "fsm", "key LIKE 'fsm:621:621:%'") == 1

    await mum.send("/mydata")
    await mum.click("Withdraw")
    await mum.click("Yes, delete")
    assert "Consent withdrawn" in mum.last_text
    assert "withdrew consent" in kid.last_text
    assert await repos.participants.find(s.programme.id, 621) is None
    assert await count(db, "fsm", "key LIKE 'fsm:621:621:%'") == 0
    await kid.send("My answer")
    assert "didn't expect a message" in kid.last_text
