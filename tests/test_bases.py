"""A coordinator's mentee and mentor bases: paged lists, filters by state and form, cards, access."""

from __future__ import annotations

from bot.callbacks import BasesCb
from dialogs.schema import Registry
from storage.models import Participant, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, school

NO_ACCESS = "You don't have access to this programme."
STATES = ("parent_pending", "not_started", "in_progress", "submitted")


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
    assert first[2:4] == ["Ученик 03 — questionnaire in progress", "Ученик 04 — questionnaire submitted"]
    assert len(first) == 8 and "More »" in maria.buttons() and "« Back" not in maria.buttons()
    assert "All forms" not in maria.buttons()  # one form only
    for label in ("• All (12)", "Parent's consent pending (3)", "Questionnaire not started (3)",
                  "Questionnaire in progress (3)", "Questionnaire submitted (3)"):
        assert label in maria.buttons()

    await maria.click("More »")
    assert "page 2 of 2" in maria.last_text
    second = people(maria)
    assert len(second) == 4 and not set(first) & set(second)
    assert second[-1] == "Ученик 12 — questionnaire submitted"
    assert "More »" not in maria.buttons()
    await maria.click("« Back")
    assert people(maria) == first

    await maria.click("Questionnaire submitted (3)")
    assert "Shown: 3, page 1 of 1." in maria.last_text
    assert people(maria) == [f"Ученик {n} — questionnaire submitted" for n in ("04", "08", "12")]
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
        f"Ученик {n:02d} — " + ("questionnaire not started", "questionnaire submitted")[(n - 1) % 4 == 3]
        for n in (2, 4, 6, 8, 10, 12)
    ]
    # Both filters at once: the form is kept when the state changes.
    await maria.click("Questionnaire submitted (3)")
    assert people(maria) == [f"Ученик {n} — questionnaire submitted" for n in ("04", "08", "12")]
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
    assert maria.buttons() == ["Back to the list"]
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
    assert maria.buttons() == ["Назад к списку"]


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
