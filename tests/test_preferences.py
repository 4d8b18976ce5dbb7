"""The preference survey: the coordinator opens it, participants choose up to three, forged taps refused."""

from __future__ import annotations

from aiogram import Bot, Dispatcher

from bot.callbacks import PreferenceCb, ProgrammeCb
from dialogs.schema import Registry
from storage.models import Participant, Role
from storage.repos import Repositories
from tests.client import TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, School, school
from tests.outbox_helpers import drained
from tests.questionnaire_helpers import answer_all
from tests.test_questionnaire_flow import join

NO_ACCESS = "You don't have access to this programme."
NOT_YOURS = "This choice is not yours."
NOT_A_CANDIDATE = "This person cannot be chosen in the survey."
TOO_MANY = "You can choose up to three people. Tap a chosen person to remove them first."
CLOSED = "The preference survey is closed: the choice can no longer be changed."


async def person(
    repos: Repositories, sch: School, user_id: int, role: Role, name: str, form: str = "pupil_pupil",
    *, submitted: bool = True, ready: bool = True,
) -> Participant:
    participant = await repos.participants.enrol(sch.programme.id, user_id, role, form, name, False, "v1")
    if submitted:
        response = await repos.responses.start(participant.id, role.value, 1)
        assert await repos.responses.submit(response.id)
    if role is Role.MENTOR and ready:
        await repos.readiness.set_flag(participant.id, "interview", True, COORDINATOR_ID)
        await repos.readiness.set_flag(participant.id, "ready", True, COORDINATOR_ID)
    return participant


async def survey_screen(make_user: UserFactory) -> TgUser:
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Preference survey")
    return maria


async def open_survey(make_user: UserFactory, repos: Repositories) -> None:
    """Open the survey as the coordinator and wait until the outbox has delivered the choices."""
    maria = await survey_screen(make_user)
    assert "Not opened yet." in maria.last_text
    await maria.click("Open the survey")
    assert maria.last_text.startswith("Open the preference survey of «Вместе по лестнице успеха»?")
    await maria.click("Yes, open")
    assert maria.last_text.startswith("The preference survey of «Вместе по лестнице успеха» is open.")
    await drained(repos)


async def test_open_choose_save(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos, forms=("pupil_pupil", "teacher_pupil"))
    mentors = [
        await person(repos, sch, 20_000 + i, Role.MENTOR, f"Наставник{i} Фамилия{i}") for i in range(4)
    ]
    unready = await person(repos, sch, 20_010, Role.MENTOR, "Неготовый Фамилия", ready=False)
    other_form = await person(repos, sch, 20_011, Role.MENTOR, "Учитель Фамилия", "teacher_pupil")
    pupil = await person(repos, sch, 10_000, Role.MENTEE, "Пётр Сидоров")
    unsubmitted = await person(repos, sch, 10_001, Role.MENTEE, "Вера Иванова", submitted=False)
    await repos.users.seen(20_000, "en")  # Olga reads the bot in English, Pyotr in Russian

    await open_survey(make_user, repos)
    petr = make_user(10_000, "Петр", "ru")
    assert "Кого бы Вы хотели видеть своим наставником?" in petr.last_text
    survey = petr.last_message.message_id
    labels = petr.buttons()
    assert labels[-1] == "Сохранить"
    assert [label.split(" — ")[0] for label in labels[:-1]] == [f"☐ Наставник{i}" for i in range(4)]
    assert all("Фамилия" not in label for label in labels)
    assert all("Неготовый" not in label and "Учитель" not in label for label in labels)
    assert make_user(10_001).messages == []  # no questionnaire submitted: no survey
    olga = make_user(20_000, "Ольга", "en")
    assert "Whom would you like to have as your mentee?" in olga.last_text
    # Candidates are the active people of the other side and the same form (questionnaire or not).
    assert olga.buttons() == ["☐ Вера — mentee, Pupil – pupil", "☐ Пётр — mentee, Pupil – pupil", "Save"]

    # A second press of the stale «Yes, open» only says it is already open.
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await maria.click_data(ProgrammeCb(action="prefs", programme=sch.programme.id).pack(), 1)
    assert maria.alerts[-1] == "The preference survey of this programme is already open."

    for i in (2, 0, 1):
        await petr.click(f"Наставник{i}")
    await petr.click("Наставник3")
    assert petr.alerts[-1] == (
        "Можно выбрать не больше трёх человек. Чтобы выбрать другого, сначала нажмите на уже выбранного."
    )
    assert await repos.preferences.choices(pupil.id) == []  # nothing saved before «Save»
    await petr.click("Сохранить")
    ids = [mentors[2].id, mentors[0].id, mentors[1].id]
    assert await repos.preferences.choices(pupil.id) == ids
    assert petr.last_text.startswith("Сохранено. Ваш выбор: 1. Наставник2, 2. Наставник0, 3. Наставник1.")

    # Changing the choice while the survey is open: remove the first, add the fourth.
    await petr.click("1. Наставник2")
    await petr.click("Наставник3")
    assert [b.split(" — ")[0] for b in petr.buttons(survey)[:-1]] == [
        "1. Наставник0", "2. Наставник1", "☐ Наставник2", "3. Наставник3"
    ]
    await petr.click("Сохранить")
    assert await repos.preferences.choices(pupil.id) == [mentors[0].id, mentors[1].id, mentors[3].id]

    await olga.click("Пётр")
    await olga.click("Save")
    assert olga.last_text.startswith("Saved. Your choice: 1. Пётр.")
    assert await repos.preferences.all_choices(sch.programme.id) == {
        pupil.id: [mentors[0].id, mentors[1].id, mentors[3].id], mentors[0].id: [pupil.id],
    }

    # Forged taps: an unready mentor, a mentor of another form, someone else's participant id.
    message = survey
    for chosen in (unready.id, other_form.id, unsubmitted.id, pupil.id):
        await petr.click_data(PreferenceCb(action="t", participant=pupil.id, chosen=chosen).pack(), message)
    forged = PreferenceCb(action="t", participant=mentors[0].id, chosen=pupil.id)
    await petr.click_data(forged.pack(), message)
    await petr.click_data(PreferenceCb(action="s", participant=mentors[0].id).pack(), message)
    assert petr.alerts[-6:] == [
        "Этого человека нельзя выбрать в опросе.", "Этого человека нельзя выбрать в опросе.",
        "Этого человека нельзя выбрать в опросе.", "Этого человека нельзя выбрать в опросе.",
        "Этот выбор не Ваш.", "Этот выбор не Ваш.",
    ]
    assert await repos.preferences.choices(pupil.id) == [mentors[0].id, mentors[1].id, mentors[3].id]
    assert await repos.preferences.choices(mentors[0].id) == [pupil.id]

    # Once closed, nothing changes.
    await repos.preferences.close(sch.programme.id)
    await olga.click("Пётр")
    await olga.click("Save")
    assert olga.alerts[-2:] == [CLOSED, CLOSED]
    assert await repos.preferences.choices(mentors[0].id) == [pupil.id]


async def test_other_programme_and_other_school_refused(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    other = await school(repos, name="Гимназия №5", coordinator_id=3000)
    pupil = await person(repos, sch, 10_000, Role.MENTEE, "Пётр Сидоров")
    await person(repos, sch, 20_000, Role.MENTOR, "Ольга Петровна")
    stranger = await person(repos, other, 20_001, Role.MENTOR, "Чужой Наставник")
    ivan = make_user(3000, "Ivan", "en")
    for action in ("prefs_menu", "prefs_ask_open", "prefs", "prefs_remind", "prefs_ask_close", "prefs_close"):
        await ivan.click_data(ProgrammeCb(action=action, programme=sch.programme.id).pack(), 1)
    assert ivan.alerts == [NO_ACCESS] * 6
    assert not await repos.preferences.is_open(sch.programme.id)
    petr = make_user(10_000, "Petr", "en")
    assert petr.messages == []

    # Before the survey is open, taps are refused; after, a mentor of another programme cannot be chosen.
    await petr.click_data(PreferenceCb(action="t", participant=pupil.id, chosen=stranger.id).pack(), 1)
    assert petr.alerts == [CLOSED]
    await open_survey(make_user, repos)
    assert petr.buttons() == ["☐ Ольга — mentor, Pupil – pupil", "Save"]
    message = petr.last_message.message_id
    await petr.click_data(PreferenceCb(action="t", participant=pupil.id, chosen=stranger.id).pack(), message)
    await petr.click_data(PreferenceCb(action="t", participant=stranger.id, chosen=pupil.id).pack(), message)
    assert petr.alerts[1:] == [NOT_A_CANDIDATE, NOT_YOURS]
    assert await repos.preferences.all_choices(sch.programme.id) == {}
    assert await repos.preferences.all_choices(other.programme.id) == {}
    assert not await repos.preferences.is_open(other.programme.id)


async def test_repository(repos: Repositories) -> None:
    assert len(PreferenceCb(action="s", participant=2**53, chosen=2**53).pack()) <= 64
    sch = await school(repos)
    pupil = await person(repos, sch, 10_000, Role.MENTEE, "Пётр Сидоров")
    mentors = [await person(repos, sch, 20_000 + i, Role.MENTOR, f"Наставник {i}") for i in range(3)]
    assert not await repos.preferences.is_open(sch.programme.id)
    assert await repos.preferences.open(sch.programme.id, COORDINATOR_ID)
    assert not await repos.preferences.open(sch.programme.id, COORDINATOR_ID)
    assert await repos.preferences.is_open(sch.programme.id)
    await repos.preferences.set_choices(pupil.id, [m.id for m in reversed(mentors)])
    rows = await repos.db.fetchall(
        "SELECT chosen_id, rank FROM preferences WHERE participant_id = ? ORDER BY rank", (pupil.id,)
    )
    assert [(r["chosen_id"], r["rank"]) for r in rows] == [(mentors[2].id, 1), (mentors[1].id, 2),
                                                           (mentors[0].id, 3)]
    await repos.preferences.set_choices(mentors[0].id, [pupil.id])
    assert await repos.preferences.all_choices(sch.programme.id) == {
        pupil.id: [m.id for m in reversed(mentors)], mentors[0].id: [pupil.id]
    }
    assert await repos.participants.withdraw(mentors[2].id, "v1")
    assert await repos.preferences.choices(pupil.id) == [mentors[1].id, mentors[0].id]


NOBODY = "there is nobody of your form to choose from yet"
REMINDER = "Reminder: you have not chosen yet."


async def test_screen_remind_close_and_stale_buttons(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos, forms=("pupil_pupil", "teacher_pupil"))
    mentors = [await person(repos, sch, 20_000 + i, Role.MENTOR, f"Mentor{i} Surname") for i in range(2)]
    pupils = [await person(repos, sch, 10_000 + i, Role.MENTEE, f"Pupil{i} Surname") for i in range(2)]
    await person(repos, sch, 10_002, Role.MENTEE, "Unsubmitted Surname", submitted=False)
    lonely = await person(repos, sch, 10_003, Role.MENTEE, "Lonely Surname", "teacher_pupil")
    for user_id in (*range(20_000, 20_002), *range(10_000, 10_004)):
        await repos.users.seen(user_id, "en")

    await open_survey(make_user, repos)
    maria = make_user(COORDINATOR_ID, "Maria", "en")
    assert "Told that there is nobody of their form to choose from yet: 1." in maria.last_text
    alone = make_user(lonely.user_id, "Lonely", "en")
    assert NOBODY in alone.last_text and alone.buttons() == []
    assert make_user(10_002).messages == []

    first = make_user(pupils[0].user_id, "Pupil0", "en")
    await first.click("Mentor0")
    await first.click("Save")
    # The survey's screen: the state and, per role, how many of those asked have chosen.
    await maria.send("/programmes")
    await maria.click("Вместе по лестнице успеха")
    await maria.click("Preference survey")
    screen = maria.last_text
    assert "Open since" in screen
    assert "Mentees who chose: 1 of 2" in screen and "Mentors who chose: 0 of 2" in screen
    assert maria.buttons() == ["Remind those who have not chosen", "Close the survey", "« Programme"]

    # Reminders go to those asked who have not chosen, once per tap.
    await maria.click("Remind those who have not chosen")
    assert maria.alerts[-1] == "Reminder queued for 3 participants."
    await maria.click("Remind those who have not chosen")
    await drained(repos)
    second = make_user(pupils[1].user_id, "Pupil1", "en")
    assert len([t for t in second.texts if t.startswith(REMINDER)]) == 2
    assert second.buttons()[-1] == "Save"
    for user in (first, alone):
        assert not any(t.startswith(REMINDER) for t in user.texts)
    mentor = make_user(mentors[1].user_id, "Mentor1", "en")
    assert mentor.last_text.startswith(REMINDER)
    assert "Whom would you like to have as your mentee?" in mentor.last_text

    # Closing asks first; «No, back» changes nothing.
    await maria.click("Close the survey")
    assert maria.last_text.startswith("Close the preference survey of «Вместе по лестнице успеха»?")
    await maria.click("No, back")
    assert await repos.preferences.is_open(sch.programme.id)
    await maria.click("Close the survey")
    await maria.click("Yes, close")
    assert maria.alerts[-1] == "The preference survey is closed."
    assert "Closed on" in maria.last_text and "Mentees who chose: 1 of 2" in maria.last_text
    assert maria.buttons() == ["« Programme"]
    assert not await repos.preferences.is_open(sch.programme.id)

    # Stale buttons: the participants' and the coordinator's.
    await second.click("Mentor0")
    await first.click("Save")
    assert second.alerts[-1] == CLOSED and first.alerts[-1] == CLOSED
    assert await repos.preferences.all_choices(sch.programme.id) == {pupils[0].id: [mentors[0].id]}
    for action in ("prefs_close", "prefs_remind", "prefs"):
        await maria.click_data(ProgrammeCb(action=action, programme=sch.programme.id).pack(), 1)
    assert maria.alerts[-3:-1] == ["The preference survey of this programme is not open."] * 2
    assert maria.alerts[-1].startswith("The preference survey of this programme was closed on ")
    assert maria.alerts[-1].endswith("; it cannot be opened again.")
    assert not await repos.preferences.is_open(sch.programme.id)


async def test_submitting_while_open_brings_the_choice(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry
) -> None:
    sch = await school(repos)
    await person(repos, sch, 20_000, Role.MENTOR, "Olga Petrova")
    await open_survey(make_user, repos)
    petr = make_user(10_000, "Petr", "en")
    await join(petr, sch.mentee_token)
    assert not any("preference survey" in t.casefold() for t in petr.texts)
    await answer_all(petr, dp, bot, repos, registry)
    await petr.click("Submit")
    assert "Status: submitted" in petr.texts[-2]
    assert "Whom would you like to have as your mentor?" in petr.last_text
    assert petr.buttons() == ["☐ Olga — mentor, Pupil – pupil", "Save"]
    await petr.click("Olga")
    await petr.click("Save")
    participant = await repos.participants.find(sch.programme.id, 10_000)
    mentor = await repos.participants.find(sch.programme.id, 20_000)
    assert await repos.preferences.choices(participant.id) == [mentor.id]

    # After the survey is closed, a new questionnaire brings no choice.
    await repos.preferences.close(sch.programme.id)
    vera = make_user(10_001, "Vera", "en")
    await join(vera, sch.mentee_token)
    await answer_all(vera, dp, bot, repos, registry)
    await vera.click("Submit")
    assert "Status: submitted" in vera.last_text


async def test_namesakes_are_told_apart(make_user: UserFactory, repos: Repositories) -> None:
    sch = await school(repos)
    for i, name in enumerate(("Глеб Орлов", "Глеб Сомов", "Глеб Смирнов", "Глеб Смирнов", "Анна")):
        await person(repos, sch, 20_000 + i, Role.MENTOR, name)
    await person(repos, sch, 10_000, Role.MENTEE, "Пётр Сидоров")
    await open_survey(make_user, repos)
    petr = make_user(10_000, "Petr", "en")
    assert [b.split(" — ")[0] for b in petr.buttons()[:-1]] == [
        "☐ Анна", "☐ Глеб О.", "☐ Глеб С. (1)", "☐ Глеб С. (2)", "☐ Глеб С. (3)"
    ]
    await petr.click("Глеб С. (2)")
    await petr.click("Save")
    assert petr.last_text.startswith("Saved. Your choice: 1. Глеб С. (2).")
