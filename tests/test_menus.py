"""Command menus differ by role and language; /language switches the language."""

from __future__ import annotations

from aiogram import Bot, Dispatcher

from storage.repos import Repositories
from tests.conftest import ADMIN_ID, UserFactory, startup
from tests.factories import COORDINATOR_ID, school
from tests.fakeapi import FakeBotAPI


def chat_menu(fake: FakeBotAPI, chat_id: int) -> list[str]:
    """The commands most recently set for one chat."""
    calls = [c for c in fake.calls_of("setMyCommands")
             if (c.params.get("scope") or {}).get("chat_id") == chat_id]
    assert calls, f"no menu was set for chat {chat_id}"
    return [c["command"] for c in calls[-1].params["commands"]]


def chat_menu_texts(fake: FakeBotAPI, chat_id: int) -> list[str]:
    calls = [c for c in fake.calls_of("setMyCommands")
             if (c.params.get("scope") or {}).get("chat_id") == chat_id]
    return [c["description"] for c in calls[-1].params["commands"]]


async def test_default_menus_in_both_languages(dp: Dispatcher, bot: Bot, fake: FakeBotAPI) -> None:
    await startup(dp, bot)
    default = [c for c in fake.calls_of("setMyCommands") if not c.params.get("language_code")]
    english = [c for c in fake.calls_of("setMyCommands") if c.params.get("language_code") == "en"]
    assert default and english
    assert [c["command"] for c in english[-1].params["commands"]] == ["start", "language", "mydata", "help"]
    assert english[-1].params["commands"][0]["description"] == "Main menu"
    assert default[-1].params["commands"][0]["description"] != "Main menu"  # Russian by default


async def test_menu_follows_role_and_language(
    make_user: UserFactory, repos: Repositories, fake: FakeBotAPI
) -> None:
    s = await school(repos)
    anna = make_user(1501, "Anna", "en")
    await anna.send(f"/start {s.mentor_token}")
    await anna.click("I agree (I am 18 or older)")
    await anna.send("Anna Petrova")
    assert chat_menu(fake, 1501) == ["start", "questionnaire", "mypairs", "language", "mydata", "help"]
    assert chat_menu_texts(fake, 1501)[1] == "My questionnaire"

    await anna.send("/language")
    await anna.click("Русский")
    assert "Русский" in anna.last_text
    assert chat_menu_texts(fake, 1501)[1] != "My questionnaire"
    await anna.send("/help")
    assert "/mydata" in anna.last_text and "Nastavnik runs" not in anna.last_text
    await anna.send("/language")
    await anna.click("English")
    await anna.send("/help")
    assert "Nastavnik runs school mentoring programmes" in anna.last_text

    admin = make_user(ADMIN_ID, "Olga", "en")
    await admin.send("/language")
    await admin.click("English")
    assert chat_menu(fake, ADMIN_ID)[:3] == ["start", "orgs", "neworg"]
    assert "digest" not in chat_menu(fake, ADMIN_ID)  # the digest is a coordinator's own
    coordinator = make_user(COORDINATOR_ID, "Maria", "en")
    await coordinator.send("/language")
    await coordinator.click("As in Telegram")
    assert "newprogramme" in chat_menu(fake, COORDINATOR_ID)
    assert "digest" in chat_menu(fake, COORDINATOR_ID)
    assert "orgs" not in chat_menu(fake, COORDINATOR_ID)


async def test_unknown_input_outside_conversations(make_user: UserFactory) -> None:
    stranger = make_user(1502, "Stranger", "en")
    await stranger.send("/nonsense")
    assert "don't know this command" in stranger.last_text
    await stranger.send_sticker()
    assert "didn't expect a message" in stranger.last_text
    await stranger.click_data("garbage:data", 1)
    assert "out of date" in stranger.alerts[-1]
    await stranger.send("/start")
    assert "open the invite link" in stranger.last_text
