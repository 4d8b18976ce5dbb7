"""A coordinator's mentee and mentor bases: paged lists, filters by state and form, cards, access."""

from __future__ import annotations

from bot.callbacks import BasesCb, NoteCb
from dialogs.schema import Registry
from storage.db import Database
from storage.models import Participant, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, school

NO_ACCESS = "You don't have access to this programme."
STATES = ("parent_pending", "not_started", "in_progress", "submitted")
NO_PAIR = "questionnaire submitted, no pair yet"


async def populate(repos: Repositories, registry: Registry, sch: School, forms: tuple[str, ...]) -> dict:
    """12 mentees, three in each state (forms taken in turn), and two mentors; by state."""
    q = registry.for_participant(Role.MENTEE, "pupil_pupil")
    made: dict[str, list[Participant]] = {s: [] for s in STATES}
    for i in range(12):
        state = STATES[i % 4]
        form = forms[i % len(forms)]
        p = await repos.participants.enrol(
            sch.programme.id, 10_000 + i, Role.MENTEE, form, f"Ученик {i + 1:02d}",
            state == "parent_pending", "v1",
        )
        if state == "not_started" and i == 1:
            await repos.responses.start(p.id, q.id, q.version)  # opened, nothing answered yet
        if state in ("in_progress", "submitted"):
            response = await repos.responses.start(p.id, q.id, q.version)
            await repos.responses.save_answer(response.id, "grade", "g3")
            await repos.responses.save_answer(response.id, "goal", "Сдать ОГЭ на пять")
            if state == "submitted":
                await repos.responses.submit(response.id)
        made[state].append(p)
    for i in range(2):
        await repos.participants.enrol(
            sch.programme.id, 20_000 + i, Role.MENTOR, forms[0], f"Наставник {i}", False, "v1"
        )
    return made


def people(user: TgUser) -> list[str]:
    """The person buttons of the newest message."""
    return [b for b in user.buttons() if " — " in b]


async def open_mentees(maria: TgUser) -> None:
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Mentees (12)")


async def test_the_base_is_paged_and_filtered(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    await populate(repos, registry, sch, ("pupil_pupil",))
    maria = make_user(COORDINATOR_ID, "Maria", "en")

    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    assert "Mentees (12)" in maria.buttons() and "Mentors (2)" in maria.buttons()
    await maria.click("Mentees (12)")
    assert maria.last_text.startswith("Mentees of «Вместе по лестнице успеха»\nShown: 12, page 1 of 2.")
    first = people(maria)
    assert first[:2] == ["Ученик 01 — parent's consent pending", "Ученик 02 — questionnaire not started"]
    assert first[2:4] == ["Ученик 03 — questionnaire in progress", f"Ученик 04 — {NO_PAIR}"]
    assert len(first) == 8 and "More »" in maria.buttons() and "« Back" not in maria.buttons()
    assert "All forms" not in maria.buttons()  # one form only
    for label in ("• All (12)", "Invited (0)", "Parent's consent pending (3)",
                  "Questionnaire not started (3)", "Questionnaire in progress (3)",
                  "Questionnaire submitted (3)", "In a pair (0)", "Without a pair (3)"):
        assert label in maria.buttons()

    await maria.click("More »")
    assert "page 2 of 2" in maria.last_text
    second = people(maria)
    assert len(second) == 4 and not set(first) & set(second)
    assert second[-1] == f"Ученик 12 — {NO_PAIR}"
    assert "More »" not in maria.buttons()
    await maria.click("« Back")
    assert people(maria) == first

    await maria.click("Questionnaire submitted (3)")
    assert "Shown: 3, page 1 of 1." in maria.last_text
    assert people(maria) == [f"Ученик {n} — {NO_PAIR}" for n in ("04", "08", "12")]
    assert "• Questionnaire submitted (3)" in maria.buttons()
    await maria.click("Parent's consent pending (3)")
    assert people(maria) == [f"Ученик {n} — parent's consent pending" for n in ("01", "05", "09")]
    await maria.click("Questionnaire not started (3)")  # one of them opened it without answering
    assert people(maria) == [f"Ученик {n} — questionnaire not started" for n in ("02", "06", "10")]

    await maria.click("Back to the programme")
    await maria.click("Mentors (2)")
    assert maria.last_text.startswith("Mentors of «Вместе по лестнице успеха»\nShown: 2, page 1 of 1.")
    assert people(maria) == [f"Наставник {n} — questionnaire not started" for n in (0, 1)]


async def test_filter_by_form(make_user: UserFactory, repos: Repositories, registry: Registry) -> None:
    sch = await school(repos, forms=("pupil_pupil", "teacher_pupil"))
    await populate(repos, registry, sch, ("pupil_pupil", "teacher_pupil"))
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_mentees(maria)
    assert "• All forms" in maria.buttons()

    await maria.click("Teacher – pupil")
    assert "Shown: 6," in maria.last_text and "• Teacher – pupil" in maria.buttons()
    assert people(maria) == [
        f"Ученик {n:02d} — " + ("questionnaire not started", NO_PAIR)[(n - 1) % 4 == 3]
        for n in (2, 4, 6, 8, 10, 12)
    ]
    # Both filters at once: the form is kept when the state changes.
    await maria.click("Questionnaire submitted (3)")
    assert people(maria) == [f"Ученик {n} — {NO_PAIR}" for n in ("04", "08", "12")]
    await maria.click("Parent's consent pending (0)")
    assert people(maria) == [] and "Nobody here yet." in maria.last_text


async def test_a_card_shows_consents_and_answers(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    await populate(repos, registry, sch, ("pupil_pupil",))
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_mentees(maria)
    await maria.click("Questionnaire submitted (3)")
    await maria.click("Ученик 04")
    card = maria.last_text
    assert card.startswith("Ученик 04\nRole: mentee\nForm of mentoring: Pupil – pupil\nMinor: No\nJoined: ")
    assert "Consents:\nown consent: given, " in card and ", text version v1" in card
    assert "Questionnaire: questionnaire submitted" in card
    assert "Which grade are you in?\n— Grade 3" in card
    assert "What would you like to achieve this school year?\n— Сдать ОГЭ на пять" in card
    assert maria.buttons() == ["Notes (0)", "History", "Back to the list"]
    await maria.click("Back to the list")
    assert "• Questionnaire submitted (3)" in maria.buttons() and len(people(maria)) == 3

    await maria.click("Parent's consent pending (3)")
    await maria.click("Ученик 01")
    assert "Minor: Yes" in maria.last_text and "Which grade" not in maria.last_text


async def test_russian_coordinator_reads_russian(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    await populate(repos, registry, sch, ("pupil_pupil",))
    maria = make_user(COORDINATOR_ID, "Мария", "ru")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Наставляемые (12)")
    assert "Ученик 01 — согласие родителя ожидается" in maria.buttons()
    await maria.click("Ученик 04")
    grade = registry.for_participant(Role.MENTEE, "pupil_pupil").question("grade")
    assert f"{grade.text['ru']}\n— {grade.option('g3').text['ru']}" in maria.last_text
    assert "Роль: наставляемый" in maria.last_text and "Анкета: анкета отправлена" in maria.last_text
    assert "Role:" not in maria.last_text
    assert maria.buttons()[-1] == "Назад к списку"


async def test_other_schools_and_other_programmes_are_refused(
    make_user: UserFactory, repos: Repositories, registry: Registry
) -> None:
    school_a = await school(repos, name="Лицей №21", coordinator_id=COORDINATOR_ID)
    school_b = await school(repos, name="Гимназия №5", coordinator_id=2100)
    made_a = await populate(repos, registry, school_a, ("pupil_pupil",))
    stranger = await repos.participants.enrol(
        school_b.programme.id, 30_000, Role.MENTEE, "pupil_pupil", "Чужой Ученик", False, "v1"
    )
    own = made_a["submitted"][0]

    other = make_user(2100, "Olga", "en")
    await other.send("/programmes")
    message_id = other.last_message.message_id
    a = school_a.programme.id
    await other.click_data(BasesCb(action="l", programme=a, role=Role.MENTEE).pack(), message_id)
    await other.click_data(
        BasesCb(action="c", programme=a, role=Role.MENTEE, participant=own.id).pack(), message_id
    )
    # Their own programme's id with a participant of school A: still refused.
    await other.click_data(
        BasesCb(action="c", programme=school_b.programme.id, role=Role.MENTEE, participant=own.id).pack(),
        message_id,
    )
    assert other.alerts == [NO_ACCESS] * 3
    assert not any("Ученик 04" in t or "Mentees of" in t for t in other.texts)

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    message_id = maria.last_message.message_id
    await maria.click_data(
        BasesCb(action="c", programme=a, role=Role.MENTEE, participant=stranger.id).pack(), message_id
    )
    assert maria.alerts == [NO_ACCESS]
    assert not any("Чужой" in t for t in maria.texts)
    # The right programme and person, but the wrong role: refused too.
    await maria.click_data(
        BasesCb(action="c", programme=a, role=Role.MENTOR, participant=own.id).pack(), message_id
    )
    assert maria.alerts == [NO_ACCESS] * 2
    await maria.click_data(
        BasesCb(action="c", programme=a, role=Role.MENTEE, participant=own.id).pack(), message_id
    )
    assert maria.last_text.startswith("Ученик 04\n")


def test_the_largest_payload_fits_in_64_bytes() -> None:
    data = BasesCb(
        action="c", programme=999_999, role=Role.MENTEE, state="parent_pending", form="employer_student",
        page=999, participant=9_999_999,
    ).pack()
    assert len(data.encode()) <= 64
    assert BasesCb.unpack(data).form == "employer_student"


async def add_pair(db: Database, programme_id: int, mentor_id: int, mentee_ids: list[int],
                   status: str = "active", at: str = "2026-10-01T20:30:00+00:00") -> None:
    """An approved pair as the approval step writes it."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO pairs (programme_id, mentor_id, status, approved_by, approved_at) "
            "VALUES (?, ?, ?, ?, ?)", (programme_id, mentor_id, status, COORDINATOR_ID, at),
        )
        for mentee_id in mentee_ids:
            await conn.execute("INSERT INTO pair_members (pair_id, mentee_id, joined_at) VALUES (?, ?, ?)",
                               (cur.lastrowid, mentee_id, at))


async def test_pairs_give_in_a_pair_and_without_a_pair(
    make_user: UserFactory, repos: Repositories, registry: Registry, db: Database
) -> None:
    sch = await school(repos)
    made = await populate(repos, registry, sch, ("pupil_pupil",))
    rows = await repos.participants.of_programme(sch.programme.id, Role.MENTOR)
    mentors = {p.full_name: p for p, _s in rows}
    submitted = made["submitted"]  # Ученик 04, 08, 12
    await add_pair(db, sch.programme.id, mentors["Наставник 0"].id, [submitted[0].id])
    await add_pair(db, sch.programme.id, mentors["Наставник 1"].id, [submitted[1].id], status="ended")
    # A parent's consent pending wins over a pair.
    await add_pair(db, sch.programme.id, mentors["Наставник 0"].id, [made["parent_pending"][0].id],
                   status="ended")
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_mentees(maria)
    for label in ("Questionnaire submitted (3)", "In a pair (1)", "Without a pair (2)",
                  "Parent's consent pending (3)", "• All (12)"):
        assert label in maria.buttons()
    await maria.click("In a pair (1)")
    assert people(maria) == ["Ученик 04 — in a pair"] and "Shown: 1," in maria.last_text
    await maria.click("Without a pair (2)")
    assert people(maria) == [f"Ученик 08 — {NO_PAIR}", f"Ученик 12 — {NO_PAIR}"]
    await maria.click("Questionnaire submitted (3)")
    assert people(maria) == ["Ученик 04 — in a pair", f"Ученик 08 — {NO_PAIR}", f"Ученик 12 — {NO_PAIR}"]
    await maria.click("Parent's consent pending (3)")
    assert "Ученик 01 — parent's consent pending" in people(maria)

    await maria.click("Back to the programme")
    await maria.click("Mentors (2)")
    assert people(maria) == ["Наставник 0 — in a pair", "Наставник 1 — questionnaire not started"]
    assert "In a pair (1)" in maria.buttons() and "Without a pair (0)" in maria.buttons()


async def test_invited_counts_who_opened_the_link_without_joining(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    sch = await school(repos)
    shy = make_user(601, "Shy", "en")
    await shy.send(f"/start {sch.mentee_token}")
    await shy.click("I do not agree")
    await make_user(602, "Curious", "en").send(f"/start {sch.mentee_token}")
    await make_user(603, "Mentor", "en").send(f"/start {sch.mentor_token}")
    joiner = make_user(604, "Joiner", "en")
    await joiner.send(f"/start {sch.mentee_token}")
    await joiner.click("I agree (I am 18 or older)")
    await joiner.send("Anna Petrova")
    rows = await db.fetchall("SELECT * FROM invite_visits ORDER BY user_id")
    assert [(r["user_id"], r["role"]) for r in rows] == [
        (601, "mentee"), (602, "mentee"), (603, "mentor"), (604, "mentee")
    ]
    assert set(rows[0].keys()) == {"programme_id", "user_id", "role", "opened_at"}  # no name is kept

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Mentees (1)")
    assert "Invited (2)" in maria.buttons() and "• All (1)" in maria.buttons()
    await maria.click("Invited (2)")
    assert maria.last_text.endswith("2 people opened the mentee link but have not agreed yet.")
    assert people(maria) == [] and "• Invited (2)" in maria.buttons()
    await maria.click("Back to the programme")
    await maria.click("Mentors (0)")
    await maria.click("Invited (1)")
    assert maria.last_text.endswith("1 person opened the mentor link but has not agreed yet.")
    # A forged filter falls back to all.
    await maria.click_data(BasesCb(action="l", programme=sch.programme.id, role=Role.MENTEE,
                                   state="nonsense").pack(), maria.last_message.message_id)
    assert "• All (1)" in maria.buttons()


async def test_coordinator_notes_on_the_card(
    make_user: UserFactory, repos: Repositories, db: Database
) -> None:
    sch = await school(repos, timezone="Asia/Vladivostok")
    pupil = await repos.participants.enrol(sch.programme.id, 10_000, Role.MENTEE, "pupil_pupil", "Ученик 01",
                                           False, "v1")
    maria = make_user(COORDINATOR_ID, "Maria", "en", last_name="Ivanova")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Mentees (1)")
    await maria.click("Ученик 01")
    await maria.click("Notes (0)")
    assert maria.last_text.startswith("Notes about Ученик 01: 0, newest first.")
    await maria.click("Add a note")
    assert "Write a note about Ученик 01" in maria.last_text
    await maria.send_sticker()
    assert "A note can only be text" in maria.last_text
    await maria.send("x" * 2001)
    assert "2001 characters long; it can be at most 2000" in maria.last_text
    assert await repos.observers.count_notes(pupil.id) == 0
    await maria.send("Хочет готовиться к олимпиаде")
    assert maria.last_text == "Saved."
    await maria.click("Back to Ученик 01")
    await maria.click("Add a note")
    await maria.send("Вторая заметка")
    await db.execute("UPDATE notes SET created_at = '2026-12-01T20:30:00+00:00' WHERE id = 2")
    await maria.click("Back to Ученик 01")
    lines = maria.last_text.split("\n\n")
    assert lines[0].startswith("Notes about Ученик 01: 2, newest first.")
    # Newest first; the time in the school's time zone (UTC+10).
    assert lines[1] == "12/2/26, 6:30\u202fAM — Maria Ivanova, coordinator\nВторая заметка"
    assert lines[2].endswith("— Maria Ivanova, coordinator\nХочет готовиться к олимпиаде")
    await maria.click("Back to the card")
    assert "Notes (2)" in maria.buttons()


async def test_history_of_a_mentee_and_a_mentor(
    make_user: UserFactory, repos: Repositories, registry: Registry, db: Database
) -> None:
    sch = await school(repos)
    made = await populate(repos, registry, sch, ("pupil_pupil",))
    pupil = made["submitted"][0]
    mentor = (await repos.participants.of_programme(sch.programme.id, Role.MENTOR))[0][0]
    await repos.readiness.set_flag(mentor.id, "interview", True, COORDINATOR_ID)
    await repos.readiness.set_flag(mentor.id, "ready", True, COORDINATOR_ID)
    await db.execute("INSERT INTO preferences (participant_id, chosen_id, rank, created_at) "
                     "VALUES (?, ?, 1, '2026-09-20T09:00:00+00:00')", (pupil.id, mentor.id))
    await db.execute(
        "INSERT INTO match_proposals (programme_id, mentor_id, mentee_id, score, reasons, status, "
        "created_at, decided_at) VALUES (?, ?, ?, 0.5, '[]', 'accepted', '2026-09-25T09:00:00+00:00', "
        "'2026-09-26T09:00:00+00:00')", (sch.programme.id, mentor.id, pupil.id))
    await add_pair(db, sch.programme.id, mentor.id, [pupil.id], at="2026-09-30T09:00:00+00:00")
    await repos.observers.add_note(pupil.id, 3000, "observer", "Ирина Петровна", "Просьба")
    # The enrolment, consent and questionnaire happened "now": move them before the matching.
    await db.execute("UPDATE participants SET created_at = '2026-09-01T06:00:00+00:00'")
    await db.execute("UPDATE consents SET created_at = '2026-09-01T06:00:00+00:00'")
    await db.execute("UPDATE responses SET started_at = '2026-09-02T06:00:00+00:00', "
                     "submitted_at = '2026-09-03T06:00:00+00:00'")
    await db.execute("UPDATE notes SET created_at = '2026-10-05T06:00:00+00:00'")

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_mentees(maria)
    await maria.click("Ученик 04")
    await maria.click("History")
    assert maria.last_text.split("\n") == [
        "History of Ученик 04. Page 1 of 1.",
        "",
        "9/1/26, 9:00\u202fAM — joined the programme",
        "9/1/26, 9:00\u202fAM — gave consent to personal-data processing",
        "9/2/26, 9:00\u202fAM — started the questionnaire",
        "9/3/26, 9:00\u202fAM — submitted the questionnaire",
        "9/20/26, 12:00\u202fPM — chose 1 preferred partner",
        "9/25/26, 12:00\u202fPM — matching proposed a pair with Наставник 0",
        "9/26/26, 12:00\u202fPM — the proposal of a pair with Наставник 0 was accepted",
        "9/30/26, 12:00\u202fPM — pair approved",
        "10/5/26, 9:00\u202fAM — note added by Ирина Петровна",
    ]
    await maria.click("Back to the card")
    await maria.click("Back to the list")
    await maria.click("Back to the programme")
    await maria.click("Mentors (2)")
    await maria.click("Наставник 0")
    await maria.click("History")
    history = maria.last_text
    assert "joined the programme" in history and "interview recorded as held" in history
    assert "readiness recorded: ready to be matched" in history
    assert "matching proposed a pair with Ученик 04" in history and "pair approved" in history

    # Forged: another school's coordinator, and a person of another programme through Maria's programme.
    other_school = await school(repos, name="Гимназия №5", coordinator_id=2100)
    stranger = await repos.participants.enrol(other_school.programme.id, 30_000, Role.MENTEE, "pupil_pupil",
                                              "Чужой Ученик", False, "v1")
    olga = make_user(2100, "Olga", "en")
    await olga.send("/programmes")
    for action in ("n", "h", "a"):
        await olga.click_data(NoteCb(action=action, programme=sch.programme.id, role=Role.MENTEE,
                                     participant=pupil.id).pack(), olga.last_message.message_id)
        await maria.click_data(NoteCb(action=action, programme=sch.programme.id, role=Role.MENTEE,
                                      participant=stranger.id).pack(), maria.last_message.message_id)
    assert olga.alerts == [NO_ACCESS] * 3 and maria.alerts == [NO_ACCESS] * 3
    assert not any("Ученик 04" in t for t in olga.texts) and not any("Чужой" in t for t in maria.texts)
    await olga.send("a note that must not be saved")
    assert await repos.observers.count_notes(stranger.id) == 0
