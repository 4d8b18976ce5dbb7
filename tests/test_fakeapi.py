"""The fake Bot API and the conversation client, proven with a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    Update,
)

from tests.client import DEFAULT_TOKEN, Driver, FeedDriver, PollDriver, TgUser, make_bot, stop_polling
from tests.fakeapi import BOT_FIRST_NAME, BOT_USERNAME, FakeBotAPI, png_bytes

BOT_ID = int(DEFAULT_TOKEN.split(":")[0])
ANNA = {"id": 5001, "is_bot": False, "first_name": "Anna", "username": "anna", "language_code": "ru"}
BORIS = {"id": 5002, "is_bot": False, "first_name": "Boris", "language_code": "en"}


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """One row of callback buttons whose data is the lower-cased label."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=label.lower()) for label in labels]]
    )


def echo_router() -> Router:
    """Echo text with a keyboard; answer media; a button press edits its message."""
    router = Router()

    @router.message(F.text == "returned")
    async def returned(message: Message) -> SendMessage:
        return message.answer("answered by returning the method")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        markup = keyboard("Again", "Done")
        markup.inline_keyboard.append([InlineKeyboardButton(text="Site", url="https://example.org/")])
        await message.answer(f"echo: {message.text}", reply_markup=markup)

    @router.message(F.sticker)
    async def sticker(message: Message) -> None:
        await message.answer("nice sticker")

    @router.message(F.photo)
    async def photo(message: Message) -> None:
        assert message.photo is not None
        await message.answer(f"photo {message.photo[-1].width}x{message.photo[-1].height}")

    @router.callback_query()
    async def pressed(callback: CallbackQuery) -> None:
        if isinstance(callback.message, Message):
            await callback.message.edit_text(f"pressed {callback.data}")
            await callback.answer(f"ok {callback.data}")
        else:
            await callback.answer("stale", show_alert=True)

    return router


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API on a random loopback port."""
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def api_bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    """A real aiogram Bot with its real aiohttp session pointed at the fake."""
    bot = make_bot(server)
    server.register_user(ANNA)
    server.register_user(BORIS)
    yield bot
    await bot.session.close()


@pytest.fixture
def echo_dp() -> Dispatcher:
    """A minimal real dispatcher."""
    dp = Dispatcher()
    dp.include_router(echo_router())
    return dp


@pytest.fixture(params=["feed", "poll"])
async def driver(
    request: pytest.FixtureRequest, server: FakeBotAPI, api_bot: Bot, echo_dp: Dispatcher
) -> AsyncIterator[Driver]:
    """The same conversation, fed directly or long-polled by a running dispatcher."""
    if request.param == "feed":
        yield FeedDriver(echo_dp, api_bot, server)
        return
    task = asyncio.create_task(echo_dp.start_polling(api_bot, handle_signals=False, polling_timeout=1))
    yield PollDriver(server, timeout=5.0)
    await stop_polling(echo_dp, task)
    assert task.exception() is None


# --------------------------------------------------------------------------- the server


async def test_get_me(server: FakeBotAPI, api_bot: Bot) -> None:
    """getMe describes the bot whose id is the token's digits."""
    me = await api_bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (BOT_ID, True, BOT_USERNAME, BOT_FIRST_NAME)
    assert [c.method for c in server.calls] == ["getMe"]
    assert server.calls[0].status == 200


async def test_bad_token_and_unknown_method(server: FakeBotAPI) -> None:
    """A malformed token is unauthorised; an unknown method is Telegram's 404."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/botnot-a-token/getMe") as resp:
            assert resp.status == 401
        async with http.post(f"{server.base_url}/bot1:abc/fooBar", data={"x": "1"}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert server.calls[-1].method == "fooBar"
    assert server.calls[-1].params == {"x": 1}


async def test_long_poll_waits_for_an_update(server: FakeBotAPI, api_bot: Bot) -> None:
    """getUpdates holds the request until an update arrives, and times out empty."""
    started = time.monotonic()
    assert await api_bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(api_bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    update_id = server.push_update(server.message_update(ANNA, "ping"))
    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None
    assert updates[0].message.text == "ping"
    assert updates[0].message.from_user is not None
    assert updates[0].message.from_user.username == "anna"


async def test_offset_confirms_forever_and_unconfirmed_is_redelivered(
    server: FakeBotAPI, api_bot: Bot
) -> None:
    """Unconfirmed updates come again, to any poller; confirmed ones never come back."""
    first = server.push_update(server.message_update(ANNA, "one"))
    second = server.push_update(server.message_update(ANNA, "two"))
    assert second == first + 1
    assert [u.update_id for u in await api_bot.get_updates(timeout=0)] == [first, second]

    other = make_bot(server)
    try:
        assert [u.update_id for u in await other.get_updates(timeout=0)] == [first, second]
    finally:
        await other.session.close()

    assert [u.update_id for u in await api_bot.get_updates(offset=second, timeout=0)] == [second]
    assert [u.update_id for u in await api_bot.get_updates(timeout=0)] == [second]
    assert await api_bot.get_updates(offset=second + 1, timeout=0) == []
    assert await api_bot.get_updates(offset=0, timeout=0) == []
    assert server.pending_update_ids == []


async def test_limit_and_negative_offset(server: FakeBotAPI, api_bot: Bot) -> None:
    """`limit` caps a batch; a negative offset keeps only the newest updates."""
    ids = [server.push_update(server.message_update(ANNA, str(n))) for n in range(3)]
    assert [u.update_id for u in await api_bot.get_updates(limit=2, timeout=0)] == ids[:2]
    assert [u.update_id for u in await api_bot.get_updates(offset=-1, timeout=0)] == ids[2:]
    assert server.pending_update_ids == ids[2:]


async def test_new_poller_terminates_the_waiting_one(server: FakeBotAPI, api_bot: Bot) -> None:
    """Two bot instances polling at once get Telegram's 409 conflict."""
    waiting = asyncio.create_task(api_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    other = make_bot(server)
    try:
        assert await other.get_updates(timeout=0) == []
    finally:
        await other.session.close()
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(waiting, 2)


async def test_push_raw_delivers_an_already_confirmed_id_once(server: FakeBotAPI, api_bot: Bot) -> None:
    """A duplicate delivery with an explicit update_id reaches the poller once."""
    update = server.message_update(ANNA, "hello")
    update_id = server.push_update(update)
    assert len(await api_bot.get_updates(offset=update_id + 1, timeout=0)) == 0
    assert server.push_raw(dict(update)) == update_id
    again = await api_bot.get_updates(offset=update_id + 1, timeout=0)
    assert [u.update_id for u in again] == [update_id]
    assert await api_bot.get_updates(offset=update_id + 1, timeout=0) == []
    assert server.push_update(server.message_update(ANNA, "next")) == update_id + 1


async def test_send_message_with_inline_keyboard(server: FakeBotAPI, api_bot: Bot) -> None:
    """The keyboard is recorded as a parsed object and comes back in the returned Message."""
    first = await api_bot.send_message(ANNA["id"], "Choose", reply_markup=keyboard("Yes", "No"))
    second = await api_bot.send_message(ANNA["id"], "Plain")
    assert second.message_id == first.message_id + 1
    assert first.from_user is not None
    assert first.from_user.username == BOT_USERNAME
    assert (first.chat.id, first.chat.type, first.chat.first_name) == (ANNA["id"], "private", "Anna")
    assert isinstance(first.reply_markup, InlineKeyboardMarkup)
    assert first.reply_markup.inline_keyboard[0][1].callback_data == "no"
    assert second.reply_markup is None

    call = server.calls_of("sendMessage")[0]
    assert call.chat_id == ANNA["id"]
    assert call.params["text"] == "Choose"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]]
    }
    assert call.result["message_id"] == first.message_id
    keyboard_message = server.last_keyboard_message(ANNA["id"])
    assert keyboard_message is not None
    assert keyboard_message["message_id"] == first.message_id
    assert [m["text"] for m in server.messages(ANNA["id"])] == ["Choose", "Plain"]


async def test_message_text_limits_and_button_data(api_bot: Bot) -> None:
    """Empty and over-long texts and over-long callback data fail like Telegram."""
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await api_bot.send_message(ANNA["id"], "")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await api_bot.send_message(ANNA["id"], "я" * 4097)
    assert len((await api_bot.send_message(ANNA["id"], "я" * 4096)).text or "") == 4096
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
        )
        await api_bot.send_message(ANNA["id"], "x", reply_markup=markup)


async def test_html_is_parsed_into_text_and_entities(api_bot: Bot) -> None:
    """HTML markup becomes entities; an unescaped "<" is rejected as Telegram does."""
    message = await api_bot.send_message(ANNA["id"], "<b>Hi</b>, &lt;3 😀 <i>x</i>", parse_mode="HTML")
    assert message.text == "Hi, <3 😀 x"
    assert message.entities is not None
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2), ("italic", 10, 1)]
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await api_bot.send_message(ANNA["id"], "a <3 b", parse_mode="HTML")
    plain = await api_bot.send_message(ANNA["id"], "a <3 b")
    assert plain.text == "a <3 b"


async def test_photo_and_document_uploads(server: FakeBotAPI, api_bot: Bot) -> None:
    """Uploaded bytes are recorded with their names; file_ids can be re-sent."""
    png = png_bytes(30, 20)
    photo = await api_bot.send_photo(ANNA["id"], BufferedInputFile(png, "qr.png"), caption="Scan me")
    call = server.calls_of("sendPhoto")[-1]
    assert call.files["photo"] == png
    assert call.files["photo"].filename == "qr.png"
    assert photo.photo is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (30, 20)
    assert photo.caption == "Scan me"

    document = await api_bot.send_document(ANNA["id"], BufferedInputFile(b"a;b\n", "people.csv"))
    assert document.document is not None
    assert (document.document.file_name, document.document.file_size) == ("people.csv", 4)
    assert document.document.mime_type == "text/csv"
    assert server.calls_of("sendDocument")[-1].files["document"].filename == "people.csv"

    again = await api_bot.send_document(BORIS["id"], document.document.file_id)
    assert again.document is not None
    assert again.document.file_name == "people.csv"
    assert server.calls_of("sendDocument")[-1].files == {}
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await api_bot.send_document(ANNA["id"], "no-such-file")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await api_bot.send_photo(ANNA["id"], BufferedInputFile(b"not an image", "x.png"))


async def test_user_files_can_be_downloaded(server: FakeBotAPI, api_bot: Bot) -> None:
    """A document a user sent is served through getFile and the file URL."""
    update = server.message_update(ANNA, document=True, file_name="list.txt", file_data=b"Anna\nBoris\n")
    document = update["message"]["document"]
    file = await api_bot.get_file(document["file_id"])
    assert file.file_path is not None
    downloaded = await api_bot.download_file(file.file_path)
    assert downloaded is not None
    assert downloaded.read() == b"Anna\nBoris\n"


async def test_edits_and_deletes_behave_like_telegram(server: FakeBotAPI, api_bot: Bot) -> None:
    """Not-modified and not-found edits fail; an edit without markup drops the keyboard."""
    chat = ANNA["id"]
    sent = await api_bot.send_message(chat, "Hi", reply_markup=keyboard("A"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await api_bot.edit_message_text(
            "Hi", chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("A")
        )
    edited = await api_bot.edit_message_text("Hi", chat_id=chat, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    stored = server.message(chat, sent.message_id)
    assert stored is not None
    assert "reply_markup" not in stored
    assert "edit_date" in stored
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await api_bot.edit_message_text("x", chat_id=chat, message_id=999)

    await api_bot.edit_message_reply_markup(
        chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("B")
    )
    assert server.messages(chat)[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "B"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await api_bot.edit_message_reply_markup(
            chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("B")
        )
    await api_bot.edit_message_text(
        "Bye", chat_id=chat, message_id=sent.message_id, reply_markup=keyboard("B")
    )
    assert server.messages(chat)[-1]["text"] == "Bye"

    assert await api_bot.delete_message(chat, sent.message_id) is True
    assert server.messages(chat) == []
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await api_bot.edit_message_text("x", chat_id=chat, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await api_bot.delete_message(chat, sent.message_id)


async def test_injected_faults(server: FakeBotAPI, api_bot: Bot) -> None:
    """429, 403 and 500 surface as aiogram's exceptions, per chat and for the given number of times."""
    server.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as flood:
        await api_bot.send_message(ANNA["id"], "one")
    assert flood.value.retry_after == 7
    assert (await api_bot.send_message(ANNA["id"], "one")).text == "one"

    server.fail("sendMessage", 403, times=2, chat_id=BORIS["id"])
    assert (await api_bot.send_message(ANNA["id"], "fine")).text == "fine"
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await api_bot.send_message(BORIS["id"], "hi")
    assert (await api_bot.send_message(BORIS["id"], "hi")).text == "hi"

    server.fail("*", 500)
    with pytest.raises(TelegramServerError):
        await api_bot.send_chat_action(ANNA["id"], "typing")
    statuses = [c.status for c in server.calls_of(chat_id=BORIS["id"])]
    assert statuses == [403, 403, 200]


async def test_blocked_chat(server: FakeBotAPI, api_bot: Bot) -> None:
    """Every call to a blocked chat is 403 until it is unblocked; other chats are unaffected."""
    server.block(ANNA["id"])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await api_bot.send_message(ANNA["id"], "hi")
    with pytest.raises(TelegramForbiddenError):
        await api_bot.send_photo(ANNA["id"], BufferedInputFile(png_bytes(), "a.png"))
    assert (await api_bot.send_message(BORIS["id"], "hi")).text == "hi"
    server.unblock(ANNA["id"])
    assert (await api_bot.send_message(ANNA["id"], "hi")).text == "hi"
    assert [m["text"] for m in server.messages(ANNA["id"])] == ["hi"]


async def test_delay_makes_the_client_time_out(server: FakeBotAPI) -> None:
    """A slow answer times out in aiogram, yet the message is delivered, as with Telegram."""
    bot = Bot(
        DEFAULT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url), timeout=0.3)
    )
    server.delay("sendMessage", 0.8)
    try:
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await bot.send_message(ANNA["id"], "slow")
        call = await server.wait_for(lambda c: c.method == "sendMessage", since=0)
        assert call.ok
        assert call.finished is not None
        assert call.finished - call.time >= 0.75
        assert [m["text"] for m in server.messages(ANNA["id"])] == ["slow"]
        server.delay("sendMessage", 0)
        assert (await bot.send_message(ANNA["id"], "fast")).text == "fast"
    finally:
        await bot.session.close()


async def test_commands_per_scope_and_language(server: FakeBotAPI, api_bot: Bot) -> None:
    """getMyCommands returns exactly what was set for the scope and language."""
    await api_bot.set_my_commands(
        [BotCommand(command="start", description="Main menu")],
        scope=BotCommandScopeDefault(),
        language_code="en",
    )
    await api_bot.set_my_commands(
        [BotCommand(command="help", description="Help")], scope=BotCommandScopeChat(chat_id=ANNA["id"])
    )
    assert [c.command for c in await api_bot.get_my_commands(language_code="en")] == ["start"]
    assert await api_bot.get_my_commands() == []
    chat_scope = BotCommandScopeChat(chat_id=ANNA["id"])
    assert [c.command for c in await api_bot.get_my_commands(scope=chat_scope)] == ["help"]
    assert server.get_commands({"type": "chat", "chat_id": ANNA["id"]}) == [
        {"command": "help", "description": "Help"}
    ]
    assert await api_bot.delete_my_commands(language_code="en") is True
    assert await api_bot.get_my_commands(language_code="en") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await api_bot.set_my_commands([BotCommand(command="Start!", description="x")])


async def test_other_methods(server: FakeBotAPI, api_bot: Bot) -> None:
    """Chat actions, menu buttons, webhook removal, close and logOut answer as Telegram does."""
    assert await api_bot.send_chat_action(ANNA["id"], "typing") is True
    assert await api_bot.set_chat_menu_button(chat_id=ANNA["id"], menu_button=MenuButtonCommands()) is True
    assert server.menu_buttons[ANNA["id"]] == {"type": "commands"}
    server.push_update(server.message_update(ANNA, "old"))
    assert await api_bot.delete_webhook(drop_pending_updates=True) is True
    assert server.pending_update_ids == []
    assert await api_bot.close() is True
    assert await api_bot.log_out() is True
    assert [c.method for c in server.calls][-2:] == ["close", "logOut"]


async def test_callback_query_is_answered_once(server: FakeBotAPI, api_bot: Bot) -> None:
    """A second answer to the same query fails; the answer is attributed to the pressing chat."""
    sent = await api_bot.send_message(ANNA["id"], "Q", reply_markup=keyboard("A"))
    update = server.callback_update(ANNA, "a", sent.message_id)
    server.push_update(update, deliver=False)
    query_id = update["callback_query"]["id"]
    assert await api_bot.answer_callback_query(query_id, text="Saved") is True
    assert server.calls[-1].chat_id == ANNA["id"]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await api_bot.answer_callback_query(query_id)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await api_bot.answer_callback_query("12345")


async def test_builders_parse_into_aiogram_updates(server: FakeBotAPI, api_bot: Bot) -> None:
    """Every update builder yields an Update aiogram accepts, with ids that only grow."""
    updates = [
        server.message_update(ANNA, "/start invite-42"),
        server.message_update(ANNA, sticker=True),
        server.message_update(ANNA, "look", photo=True),
        server.message_update(ANNA, document=True, file_name="a.pdf", file_data=b"%PDF"),
        server.message_update(ANNA, contact=True),
        server.callback_update(ANNA, "forged", 404),
        server.my_chat_member_update(ANNA),
    ]
    ids = [server.push_update(u, deliver=False) for u in updates]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = [Update.model_validate(u, context={"bot": api_bot}) for u in updates]
    command = parsed[0].message
    assert command is not None
    assert command.entities is not None
    assert (command.entities[0].type, command.entities[0].length) == ("bot_command", 6)
    assert parsed[1].message is not None and parsed[1].message.sticker is not None
    assert parsed[2].message is not None and parsed[2].message.caption == "look"
    assert parsed[3].message is not None and parsed[3].message.document is not None
    assert parsed[3].message.document.mime_type == "application/pdf"
    assert parsed[4].message is not None and parsed[4].message.contact is not None
    assert parsed[5].callback_query is not None
    assert isinstance(parsed[5].callback_query.message, InaccessibleMessage)
    assert parsed[6].my_chat_member is not None
    assert parsed[6].my_chat_member.new_chat_member.status == "kicked"
    message_ids = [u["message"]["message_id"] for u in updates[:5]]
    assert message_ids == [1, 2, 3, 4, 5]


async def test_wait_for_matches_and_times_out(server: FakeBotAPI, api_bot: Bot) -> None:
    """wait_for returns a finished matching call, or fails listing recent calls."""

    async def later() -> None:
        await asyncio.sleep(0.1)
        await api_bot.send_message(ANNA["id"], "later")

    task = asyncio.create_task(later())
    call = await server.wait_for(lambda c: c.method == "sendMessage", timeout=2)
    await task
    assert call.result["text"] == "later"
    with pytest.raises(AssertionError, match=r"sendMessage\(chat=5001\)"):
        await server.wait_for(lambda c: c.method == "deleteMessage", timeout=0.2)


# --------------------------------------------------------------------------- the client


async def test_conversation_by_button_text(driver: Driver) -> None:
    """Send, read, click by label, see the edit and the toast — fed or polled alike."""
    anna = TgUser(driver, first_name="Anna")
    calls = await anna.send("hello")
    assert [c.method for c in calls] == ["sendMessage"]
    assert anna.last_text == "echo: hello"
    assert anna.buttons() == ["Again", "Done", "Site"]
    assert anna.url_buttons == [("Site", "https://example.org/")]
    keyboard_message = anna.last_message
    assert keyboard_message is not None

    with pytest.raises(AssertionError, match=r"\[Again\] \[Done\] \[Site\]"):
        await anna.click("Nope")
    with pytest.raises(AssertionError, match="several buttons"):
        await anna.click("n")
    with pytest.raises(AssertionError, match="not a callback button"):
        await anna.click("Site")

    calls = await anna.click("don")
    assert sorted(c.method for c in calls) == ["answerCallbackQuery", "editMessageText"]
    assert [m.message_id for m in anna.messages] == [keyboard_message.message_id]
    assert anna.last_text == "pressed done"
    assert anna.buttons() == []
    assert anna.alerts == ["ok done"]

    await anna.click_data("again", 999)
    assert anna.alerts == ["ok done", "stale"]

    await anna.send_sticker()
    assert anna.last_text == "nice sticker"
    await anna.send_photo()
    assert anna.last_text == "photo 8x8"
    await anna.send("returned")
    assert anna.last_text == "answered by returning the method"


async def test_two_users_see_only_their_chats(driver: Driver) -> None:
    """Messages, buttons and alerts are per chat."""
    anna = TgUser(driver, first_name="Anna")
    boris = TgUser(driver, first_name="Boris", language_code="en")
    await anna.send("a")
    await boris.send("b")
    await boris.click("Again")
    assert anna.texts == ["echo: a"]
    assert boris.texts == ["pressed again"]
    assert anna.alerts == []
    assert boris.alerts == ["ok again"]


async def test_click_targets_the_newest_message_unless_told(driver: Driver) -> None:
    """Without `in_message` the newest matching keyboard wins; with it, the given message."""
    anna = TgUser(driver)
    await anna.send("first")
    await anna.send("second")
    older, newer = anna.messages
    await anna.click("Again")
    assert [m.text for m in anna.messages] == ["echo: first", "pressed again"]
    await anna.click("Done", in_message=older)
    assert anna.texts == ["pressed done", "pressed again"]
    assert newer.message_id == anna.messages[1].message_id


async def test_files_sent_to_the_user(server: FakeBotAPI, api_bot: Bot, echo_dp: Dispatcher) -> None:
    """`documents` and `photos` hold the bytes the bot sent to this user only."""
    anna = TgUser(FeedDriver(echo_dp, api_bot, server), ANNA["id"], "Anna")
    await api_bot.send_document(anna.id, BufferedInputFile(b"report", "report.txt"))
    await api_bot.send_photo(anna.id, BufferedInputFile(png_bytes(4, 4), "qr.png"))
    await api_bot.send_document(BORIS["id"], BufferedInputFile(b"other", "other.txt"))
    assert anna.documents == [b"report"]
    assert anna.documents[0].filename == "report.txt"
    assert [p.filename for p in anna.photos] == ["qr.png"]


async def test_feed_driver_surfaces_handler_errors(server: FakeBotAPI, api_bot: Bot) -> None:
    """In feed mode a failing handler fails the test instead of being logged away."""
    dp = Dispatcher()
    router = Router()

    @router.message()
    async def broken(message: Message) -> None:
        raise RuntimeError("boom")

    dp.include_router(router)
    with pytest.raises(RuntimeError, match="boom"):
        await TgUser(FeedDriver(dp, api_bot, server)).send("hi")


async def test_polling_confirms_updates_and_sees_duplicates(
    server: FakeBotAPI, api_bot: Bot, echo_dp: Dispatcher
) -> None:
    """A polling bot confirms what it handled; a raw re-delivery of the same id reaches it again."""
    task = asyncio.create_task(echo_dp.start_polling(api_bot, handle_signals=False, polling_timeout=1))
    try:
        anna = TgUser(PollDriver(server, timeout=5.0))
        await anna.send("once")
        assert server.pending_update_ids == []
        duplicate = next(u for u in server.updates if u.get("message", {}).get("text") == "once")
        start = len(server.calls)
        server.push_raw(duplicate)
        await server.wait_for(lambda c: c.method == "sendMessage", since=start)
        assert anna.texts == ["echo: once", "echo: once"]
        assert anna.buttons() == ["Again", "Done", "Site"]
        silent = TgUser(PollDriver(server, timeout=5.0, settle=0.2))
        calls = await silent.send_update(server.my_chat_member_update(silent.as_dict()), expect_reply=False)
        assert calls == []
    finally:
        await stop_polling(echo_dp, task)
    assert task.exception() is None
