"""The questionnaire through the real dispatcher: answers saved at once, bad input, stale and forged taps."""

from __future__ import annotations

from aiogram import Bot, Dispatcher

from bot.app import create_dispatcher
from dialogs.schema import Registry
from storage.db import Database
from storage.models import ResponseStatus
from storage.repos import Repositories
from tests.client import FeedDriver, TgUser
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, school
from tests.questionnaire_helpers import answer, answer_all, current_question, cursor


async def join(user: TgUser, token: str, name: str = "Irina Sokolova") -> None:
    await user.send(f"/start {token}")
    await user.click("I agree (I am 18 or older)")
    await user.send(name)


async def answers_of(repos: Repositories, programme_id: int, user_id: int) -> dict:
    participant = await repos.participants.find(programme_id, user_id)
    responses = await repos.responses.of_participant(participant.id)
    return responses[0].answers if responses else {}


async def test_young_teacher_fills_reviews_edits_and_submits(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, fake
) -> None:
    s = await school(repos, forms=("teacher_teacher",))
    irina = make_user(901, "Irina", "en")
    await join(irina, s.mentee_token)
    q = registry.get("mentee_teacher")
    assert irina.last_text.startswith(f"1 / {len(q.visible({}))}")

    saved = 0
    while (question := await current_question(dp, bot, repos, registry, 901)) is not None:
        await answer(irina, question)
        saved += 1
        assert len(await answers_of(repos, s.programme.id, 901)) == saved, question.id
    review = irina.last_text
    assert review.startswith("Please check your answers")
    assert "Schoolteacher" in review and "— No" in review

    await irina.click("✏️ 3")
    assert "How many full years" in irina.last_text and "Current answer: 0" in irina.last_text
    await irina.send("7")
    assert irina.last_text.startswith("Please check your answers")
    assert (await answers_of(repos, s.programme.id, 901))["years"] == 7

    await irina.click("Submit")
    assert "Status: submitted" in irina.last_text
    participant = await repos.participants.find(s.programme.id, 901)
    response = (await repos.responses.of_participant(participant.id))[0]
    assert response.status is ResponseStatus.SUBMITTED
    notices = [m.get("text", "") for m in fake.messages(COORDINATOR_ID)]
    assert any("Irina Sokolova" in t and "Вместе по лестнице успеха" in t for t in notices)

    await irina.send("/questionnaire")
    assert "Status: submitted" in irina.last_text


async def test_bad_input_for_every_type_loses_nothing(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry
) -> None:
    s = await school(repos, forms=("teacher_teacher",))
    irina = make_user(902, "Irina", "en")
    await join(irina, s.mentee_token)

    await irina.send("Teacher")
    assert "choose with the buttons" in irina.texts[-2]
    assert irina.last_text.startswith("1 / ")
    await irina.send_sticker()
    assert "only take text" in irina.texts[-2]
    await irina.click("Schoolteacher")
    await irina.click("Done")
    assert "at least one" in irina.alerts[-1]
    await irina.click("Maths")
    await irina.click("Done")

    assert "How many full years" in irina.last_text
    for bad in ("seven", "-3", "51", "1.5"):
        await irina.send(bad)
        assert "from 0 to 50" in irina.last_text
    await irina.send_photo()
    assert "only take text" in irina.texts[-2]
    await irina.send("12")

    assert "When did you start" in irina.last_text
    await irina.send_sticker()
    await irina.send("31.02.2020")
    assert "no such date" in irina.last_text
    await irina.send("tomorrow")
    assert "like" in irina.last_text
    await irina.send("01.01.2099")
    assert "future" in irina.last_text
    await irina.send("01.09.2015")

    answers = await answers_of(repos, s.programme.id, 902)
    assert answers == {"position": "teacher", "subjects": ["maths"], "years": 12, "start_date": "2015-09-01"}

    question = await current_question(dp, bot, repos, registry, 902)
    await irina.click(question.options[-1].text["en"])  # "Other" reveals a text question
    await irina.click("Done")
    assert "Describe what else" in irina.last_text
    await irina.send("x" * 5000)
    assert "5,000 characters" in irina.last_text
    assert "topic_other" not in await answers_of(repos, s.programme.id, 902)


async def test_stale_and_forged_buttons(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry
) -> None:
    s = await school(repos, forms=("teacher_teacher",))
    irina = make_user(903, "Irina", "en")
    await join(irina, s.mentee_token)
    first = irina.last_message
    first_data = first.keyboard[0][0]["callback_data"]
    await irina.click("Schoolteacher")
    before = await answers_of(repos, s.programme.id, 903)

    # The first question's button again: its message has lost the keyboard, but a client may resend it.
    await irina.click_data(first_data, first.message_id)
    assert "earlier message" in irina.alerts[-1]
    assert (await cursor(dp, bot, 903))["cursor"] == "subjects"

    data = await cursor(dp, bot, 903)
    response_id = data["response"]
    await irina.click_data(f"q:a:{response_id}:subjects:nonsense", first.message_id)
    assert "does not belong" in irina.alerts[-1] or "earlier" in irina.alerts[-1]
    await irina.click_data(f"q:t:{response_id}:subjects:nonsense", irina.last_message.message_id)
    assert "does not belong" in irina.alerts[-1]
    await irina.click_data("q:zz:abc", irina.last_message.message_id)
    assert "out of date" in irina.alerts[-1]

    mallory = make_user(904, "Mallory", "en")
    await mallory.click_data(f"q:t:{response_id}:subjects:maths", 1)
    assert "not for you" in mallory.alerts[-1]
    await mallory.click_data(f"q:sub:{response_id}::", 1)
    assert "not for you" in mallory.alerts[-1]
    assert await answers_of(repos, s.programme.id, 903) == before


async def test_back_and_next_keep_answers(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry
) -> None:
    s = await school(repos, forms=("teacher_teacher",))
    irina = make_user(905, "Irina", "en")
    await join(irina, s.mentee_token)
    await irina.click("Schoolteacher")
    await irina.click("Maths")
    await irina.click("Done")
    await irina.click("Back")
    assert "Which subjects" in irina.last_text and "Current answer: Maths" in irina.last_text
    assert "✅ Maths" in " ".join(irina.buttons())
    await irina.click("Back")
    assert "Your position" in irina.last_text
    await irina.click("Next")
    await irina.click("Next")
    assert "How many full years" in irina.last_text
    assert (await answers_of(repos, s.programme.id, 905))["subjects"] == ["maths"]


async def test_restart_mid_questionnaire_resumes(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry, db: Database,
    settings, i18n, fake,
) -> None:
    s = await school(repos, forms=("teacher_teacher",))
    irina = make_user(906, "Irina", "en")
    await join(irina, s.mentee_token)
    await irina.click("Schoolteacher")
    await irina.click("Maths")  # a multi-choice selection in progress survives too

    fresh = create_dispatcher(settings, db, i18n, registry)
    irina.driver = FeedDriver(fresh, bot, fake)
    await irina.click("Russian and literature")
    await irina.click("Done")
    assert (await answers_of(repos, s.programme.id, 906))["subjects"] == ["russian", "maths"]
    await irina.send("3")
    assert (await answers_of(repos, s.programme.id, 906))["years"] == 3
    await irina.send("/questionnaire")
    assert "When did you start" in irina.last_text


async def test_duplicate_update_is_handled_once(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, fake
) -> None:
    from aiogram.types import Update

    s = await school(repos, forms=("teacher_teacher",))
    irina = make_user(907, "Irina", "en")
    await join(irina, s.mentee_token)
    await irina.click("Schoolteacher")
    await irina.click("Maths")
    await irina.click("Done")
    update = fake.message_update(irina.as_dict(), "4")
    update["update_id"] = 555_000
    sent_before = len(fake.calls_of("sendMessage", 907))
    for _ in range(2):
        await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
    assert len(fake.calls_of("sendMessage", 907)) == sent_before + 1
    assert (await answers_of(repos, s.programme.id, 907))["years"] == 4


async def test_whole_questionnaire_in_russian(
    make_user: UserFactory, dp: Dispatcher, bot: Bot, repos: Repositories, registry: Registry
) -> None:
    s = await school(repos, forms=("pupil_pupil",))
    kid = make_user(908, "Маша", "ru")
    await kid.send(f"/start {s.mentor_token}")
    await kid.click("18 лет или старше")
    await kid.send("Маша Иванова")
    assert "В каком" in kid.last_text or "класс" in kid.last_text
    count = await answer_all(kid, dp, bot, repos, registry, locale="ru")
    assert count >= 8
    assert kid.last_text.startswith("Проверь") or kid.last_text.startswith("Проверьте")
