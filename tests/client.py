"""A person talking to the bot through the fake Bot API: send text, click buttons by their label."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from tests.fakeapi import Call, FakeBotAPI, JsonDict, UploadedFile, png_bytes

DEFAULT_TOKEN = "123456789:TEST-nastavnik-token"

_user_ids = itertools.count(700_000_001)


def make_bot(fake: FakeBotAPI, token: str = DEFAULT_TOKEN, **bot_kwargs: Any) -> Bot:
    """A real aiogram Bot whose real aiohttp session talks to the fake server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token, session=session, **bot_kwargs)


class Driver(Protocol):
    """How updates reach the bot and how its reaction is awaited."""

    fake: FakeBotAPI

    async def deliver(self, update: JsonDict, chat_id: int, *, expect_reply: bool = True) -> list[Call]:
        """Hand the update to the bot and return the calls it made to this chat in reaction."""
        ...


class FeedDriver:
    """Feeds updates straight into `dp.feed_update`; when it returns, the bot's calls are recorded."""

    def __init__(self, dp: Dispatcher, bot: Bot, fake: FakeBotAPI, **workflow_data: Any) -> None:
        """Drive `dp` with `bot`, passing `workflow_data` to every feed_update."""
        self.dp = dp
        self.bot = bot
        self.fake = fake
        self.workflow_data = workflow_data

    async def deliver(self, update: JsonDict, chat_id: int, *, expect_reply: bool = True) -> list[Call]:
        """Allocate an update_id (not queued for getUpdates), feed it, and run a returned method."""
        start = len(self.fake.calls)
        self.fake.push_update(update, deliver=False)
        parsed = Update.model_validate(update, context={"bot": self.bot})
        response = await self.dp.feed_update(self.bot, parsed, **self.workflow_data)
        if isinstance(response, TelegramMethod):
            await self.bot(response)
        return [c for c in self.fake.calls[start:] if c.chat_id == chat_id]


class PollDriver:
    """Queues updates for a bot that runs `dp.start_polling` (here or in another process)."""

    def __init__(
        self, fake: FakeBotAPI, *, timeout: float = 10.0, quiet: float = 0.15, settle: float = 0.5
    ) -> None:
        """Wait up to `timeout` for a reaction, then until the chat has been `quiet` for a while."""
        self.fake = fake
        self.timeout = timeout
        self.quiet = quiet
        self.settle = settle

    async def deliver(self, update: JsonDict, chat_id: int, *, expect_reply: bool = True) -> list[Call]:
        """Push the update; wait for a call to the chat (or for delivery if no reply is expected)."""
        fake = self.fake
        start = len(fake.calls)
        update_id = fake.push_update(update)
        deadline = time.monotonic() + self.timeout

        def relevant() -> list[Call]:
            return [c for c in fake.calls[start:] if c.chat_id == chat_id]

        if expect_reply:
            while not any(c.status != 0 for c in relevant()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    state = "was fetched" if fake.was_delivered(update_id) else "was never fetched"
                    raise AssertionError(
                        f"the bot did not answer update {update_id} in chat {chat_id} within "
                        f"{self.timeout} s (the update {state}); recent calls:\n{fake.describe_calls()}"
                    )
                await fake.wait_activity(remaining)
        else:
            while not fake.was_delivered(update_id):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"update {update_id} was never fetched by a poller")
                await fake.wait_activity(min(remaining, 0.05))
        if expect_reply:
            await self._until_quiet(relevant, deadline, self.quiet, 0.0)
        else:
            await self._until_quiet(relevant, deadline + self.settle, self.settle, time.monotonic())
        return relevant()

    async def _until_quiet(
        self, relevant: Callable[[], list[Call]], deadline: float, quiet: float, since: float
    ) -> None:
        """Wait until no call to the chat is in flight and none finished in the last `quiet` s."""
        while True:
            calls = relevant()
            now = time.monotonic()
            busy = any(c.status == 0 for c in calls)
            last = max((c.finished or now for c in calls), default=since)
            idle = now - max(last, since)
            if not busy and idle >= quiet:
                return
            if now > deadline:
                raise AssertionError(
                    f"the bot kept talking for {self.timeout} s; recent calls:\n{self.fake.describe_calls()}"
                )
            await self.fake.wait_activity(max(0.01, quiet - idle) if not busy else 0.05)


class NoReply(AssertionError):
    """The bot never reacted to an update, and the driver was told to stop waiting (see CrowdDriver)."""


class CrowdDriver:
    """PollDriver for hundreds of users at once: calls are sorted by chat as they arrive, and a user's wait
    wakes only for calls to their own chat. `gave_up(pushed_at)` (a `time.monotonic()` value) may end a
    wait that has seen no call to the chat with NoReply — e.g. when the bot was killed after the push.
    `close()` when done."""

    def __init__(
        self,
        fake: FakeBotAPI,
        *,
        timeout: float = 30.0,
        quiet: float = 0.15,
        gave_up: Callable[[float], bool] | None = None,
    ) -> None:
        """Wait up to `timeout` for a reaction, then until the chat has been `quiet` for a while."""
        self.fake = fake
        self.timeout = timeout
        self.quiet = quiet
        self.gave_up = gave_up or (lambda _pushed_at: False)
        self.waiting: set[int] = set()  # chats whose update has not been answered yet
        self._seen = 0  # calls sorted so far
        self._open: list[Call] = []  # sorted calls still in flight
        self._chats: dict[int, list[Call]] = {}
        self._wakers: dict[int, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None

    def _sort(self) -> None:
        """File new calls under their chats; wake the chats that got a call or whose call finished."""
        touched: set[int] = set()
        calls = self.fake.calls
        for call in calls[self._seen :]:
            if call.chat_id is None:
                continue
            self._chats.setdefault(call.chat_id, []).append(call)
            touched.add(call.chat_id)
            if call.status == 0:
                self._open.append(call)
        self._seen = len(calls)
        still_open = []
        for call in self._open:
            if call.status == 0:
                still_open.append(call)
            else:
                touched.add(call.chat_id)  # type: ignore[arg-type]
        self._open = still_open
        for chat in touched:
            if (waker := self._wakers.get(chat)) is not None:
                waker.set()

    def _follow_calls(self) -> None:
        """Sort the calls so far and keep sorting them as they come."""
        self._sort()
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="crowd-driver")

    async def _follow(self) -> None:
        while True:
            await self.fake.wait_activity(1.0)
            self._sort()

    def last_message(self, chat_id: int) -> BotMessage | None:
        """The newest bot message in the chat as it is now (like TgUser.last_message, without copying the
        whole chat)."""
        self._sort()
        for call in reversed(self._chats.get(chat_id, [])):
            if call.ok and call.method.lower() in {"sendmessage", "senddocument", "sendphoto"}:
                message = self.fake.message(chat_id, int(call.result["message_id"]))
                if message is not None:
                    return BotMessage(message)
        return None

    async def wait_chat(self, chat_id: int, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until a call to the chat arrives or finishes, at most `timeout` s."""
        waker = self._wakers.setdefault(chat_id, asyncio.Event())
        waker.clear()
        self._follow_calls()
        if not waker.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waker.wait(), timeout)

    async def close(self) -> None:
        """Stop following the fake's calls."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def deliver(self, update: JsonDict, chat_id: int, *, expect_reply: bool = True) -> list[Call]:
        """Push the update; wait for calls to the chat to come and then stop for `quiet` s."""
        self._follow_calls()
        calls = self._chats.setdefault(chat_id, [])
        waker = self._wakers.setdefault(chat_id, asyncio.Event())
        start = len(calls)
        pushed_at = time.monotonic()
        update_id = self.fake.push_update(update)
        deadline = pushed_at + self.timeout
        self.waiting.add(chat_id)
        try:
            while True:
                waker.clear()
                self._sort()
                now = time.monotonic()
                new = calls[start:]
                if any(c.status == 0 for c in new):
                    pause = 0.05
                else:
                    answered = bool(new) or (not expect_reply and self.fake.was_delivered(update_id))
                    idle = now - max((c.finished or now for c in new), default=pushed_at)
                    if answered and idle >= self.quiet:
                        return new
                    pause = self.quiet - idle if answered else 0.25
                if not new and self.gave_up(pushed_at):
                    raise NoReply(f"no reply to update {update_id} in chat {chat_id}")
                if now > deadline:
                    state = "was fetched" if self.fake.was_delivered(update_id) else "was never fetched"
                    raise AssertionError(
                        f"the bot did not answer update {update_id} in chat {chat_id} within "
                        f"{self.timeout} s (the update {state}); its calls to the chat: {new}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waker.wait(), max(pause, 0.01))
        finally:
            self.waiting.discard(chat_id)


@dataclass(frozen=True)
class BotMessage:
    """A bot message in a chat as it is now, with its inline keyboard."""

    raw: JsonDict

    @property
    def message_id(self) -> int:
        """The message id."""
        return int(self.raw["message_id"])

    @property
    def text(self) -> str:
        """The text, or the caption of a media message, or ""."""
        return str(self.raw.get("text") or self.raw.get("caption") or "")

    @property
    def keyboard(self) -> list[list[JsonDict]]:
        """Rows of inline keyboard buttons (empty without a keyboard)."""
        return list(self.raw.get("reply_markup", {}).get("inline_keyboard", []))

    @property
    def buttons(self) -> list[str]:
        """Labels of all inline buttons, row by row."""
        return [str(b["text"]) for row in self.keyboard for b in row]

    @property
    def url_buttons(self) -> list[tuple[str, str]]:
        """(label, url) of the URL buttons."""
        return [(str(b["text"]), str(b["url"])) for row in self.keyboard for b in row if "url" in b]

    @property
    def document(self) -> JsonDict | None:
        """The Document object of a document message."""
        return self.raw.get("document")

    @property
    def photo(self) -> list[JsonDict] | None:
        """The PhotoSize list of a photo message."""
        return self.raw.get("photo")

    def __str__(self) -> str:
        """Id, text and buttons on one line."""
        buttons = " ".join(f"[{b}]" for b in self.buttons)
        return f"#{self.message_id} {self.text[:60]!r} {buttons}".rstrip()


class TgUser:
    """A Telegram user in a private chat with the bot."""

    def __init__(
        self,
        driver: Driver,
        id: int | None = None,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
    ) -> None:
        """A user with a fresh id unless one is given; nothing is sent until they act."""
        self.driver = driver
        self.id = id if id is not None else next(_user_ids)
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.fake.register_user(self.as_dict())

    @property
    def fake(self) -> FakeBotAPI:
        """The fake server of the driver."""
        return self.driver.fake

    @property
    def chat_id(self) -> int:
        """The private chat's id (the user's id)."""
        return self.id

    def as_dict(self) -> JsonDict:
        """The Telegram User object."""
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    # ----------------------------------------------------------------- acting

    async def send(self, text: str, *, expect_reply: bool = True) -> list[Call]:
        """Send a text message (a leading "/" makes it a command)."""
        return await self.send_update(
            self.fake.message_update(self.as_dict(), text), expect_reply=expect_reply
        )

    async def send_sticker(self, *, expect_reply: bool = True) -> list[Call]:
        """Send a sticker."""
        update = self.fake.message_update(self.as_dict(), sticker=True)
        return await self.send_update(update, expect_reply=expect_reply)

    async def send_photo(
        self, caption: str | None = None, *, data: bytes | None = None, expect_reply: bool = True
    ) -> list[Call]:
        """Send a photo (a small PNG unless `data` is given)."""
        update = self.fake.message_update(
            self.as_dict(), caption, photo=True, file_data=data if data is not None else png_bytes(8, 8)
        )
        return await self.send_update(update, expect_reply=expect_reply)

    async def send_document(
        self,
        file_name: str = "document.txt",
        data: bytes = b"hello\n",
        caption: str | None = None,
        *,
        expect_reply: bool = True,
    ) -> list[Call]:
        """Send a file as a document."""
        update = self.fake.message_update(
            self.as_dict(), caption, document=True, file_name=file_name, file_data=data
        )
        return await self.send_update(update, expect_reply=expect_reply)

    async def send_update(self, update: JsonDict, *, expect_reply: bool = True) -> list[Call]:
        """Deliver a ready update (without update_id) from this user through the driver."""
        return await self.driver.deliver(update, self.chat_id, expect_reply=expect_reply)

    async def click(
        self,
        button_text: str,
        in_message: BotMessage | int | None = None,
        *,
        expect_reply: bool = True,
    ) -> list[Call]:
        """Press the callback button whose label contains `button_text` on the newest message having it."""
        message_id, data = self._find_button(button_text, in_message)
        return await self.click_data(data, message_id, expect_reply=expect_reply)

    async def click_data(self, data: str, message_id: int, *, expect_reply: bool = True) -> list[Call]:
        """Send a callback with any data for any message id (forged or stale buttons)."""
        update = self.fake.callback_update(self.as_dict(), data, message_id)
        return await self.send_update(update, expect_reply=expect_reply)

    def _find_button(self, button_text: str, in_message: BotMessage | int | None) -> tuple[int, str]:
        """(message_id, callback_data) of the button to press, or a helpful AssertionError."""
        messages = self.messages
        if in_message is not None:
            wanted = in_message.message_id if isinstance(in_message, BotMessage) else in_message
            messages = [m for m in messages if m.message_id == wanted]
        needle = button_text.casefold()
        for message in reversed(messages):
            found = [b for row in message.keyboard for b in row if needle in str(b["text"]).casefold()]
            if not found:
                continue
            exact = [b for b in found if b["text"] == button_text]
            if len(exact) == 1:
                found = exact
            if len(found) > 1:
                labels = ", ".join(repr(b["text"]) for b in found)
                raise AssertionError(f"{button_text!r} matches several buttons in {message}: {labels}")
            button = found[0]
            if "callback_data" not in button:
                raise AssertionError(
                    f"button {button['text']!r} in {message} is not a callback button: {button}"
                )
            return message.message_id, str(button["callback_data"])
        with_keyboards = [str(m) for m in reversed(self.messages) if m.keyboard][:8]
        listing = "\n".join(f"  {m}" for m in with_keyboards) or "  (no message has an inline keyboard)"
        where = f" in message {in_message}" if in_message is not None else ""
        raise AssertionError(
            f"no button containing {button_text!r}{where} in chat {self.id}; "
            f"messages with buttons:\n{listing}"
        )

    # ----------------------------------------------------------------- observing

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's messages in this chat as they are now, oldest first (deleted ones left out)."""
        return [BotMessage(m) for m in self.fake.messages(self.id)]

    @property
    def last_message(self) -> BotMessage | None:
        """The newest bot message in this chat."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def last_text(self) -> str | None:
        """Text (or caption) of the newest bot message in this chat."""
        last = self.last_message
        return last.text if last is not None else None

    @property
    def texts(self) -> list[str]:
        """Texts of all current bot messages in this chat, oldest first."""
        return [m.text for m in self.messages]

    def buttons(self, message: BotMessage | int | None = None) -> list[str]:
        """Inline button labels of a message (default: the newest bot message)."""
        if message is None:
            last = self.last_message
            return last.buttons if last is not None else []
        wanted = message.message_id if isinstance(message, BotMessage) else message
        for candidate in self.messages:
            if candidate.message_id == wanted:
                return candidate.buttons
        raise AssertionError(f"no bot message #{wanted} in chat {self.id}")

    @property
    def url_buttons(self) -> list[tuple[str, str]]:
        """(label, url) of URL buttons across the current bot messages, oldest first."""
        return [pair for m in self.messages for pair in m.url_buttons]

    @property
    def reply_keyboard(self) -> list[str]:
        """Labels of the reply keyboard the bot currently shows in this chat."""
        markup = self.fake.reply_keyboards.get(self.id, {})
        return [
            str(b["text"] if isinstance(b, dict) else b) for row in markup.get("keyboard", []) for b in row
        ]

    def _sent_files(self, method: str, pick: Callable[[JsonDict], str]) -> list[UploadedFile]:
        """Files successfully sent to this chat by `method`, with their bytes."""
        files = []
        for call in self.fake.calls_of(method, self.id):
            if call.ok and isinstance(call.result, dict):
                file_id = pick(call.result)
                if file_id in self.fake.files:
                    files.append(self.fake.files[file_id])
        return files

    @property
    def documents(self) -> list[UploadedFile]:
        """Documents the bot sent to this chat (bytes with `.filename`), oldest first."""
        return self._sent_files("sendDocument", lambda r: r["document"]["file_id"])

    @property
    def photos(self) -> list[UploadedFile]:
        """Photos the bot sent to this chat (bytes with `.filename`), oldest first."""
        return self._sent_files("sendPhoto", lambda r: r["photo"][-1]["file_id"])

    @property
    def alerts(self) -> list[str]:
        """Texts of the bot's answers to this user's button presses (toasts and alerts)."""
        texts = []
        for call in self.fake.calls_of("answerCallbackQuery"):
            query = self.fake.callback_queries.get(str(call.params.get("callback_query_id")))
            if call.ok and query is not None and query["from"]["id"] == self.id and call.params.get("text"):
                texts.append(str(call.params["text"]))
        return texts

    def __repr__(self) -> str:
        """Id and name."""
        return f"TgUser({self.id}, {self.first_name!r})"


async def stop_polling(dp: Dispatcher, task: asyncio.Task[None]) -> None:
    """Stop `dp.start_polling` running in `task` and wait for it to finish."""
    if not task.done():
        try:
            await dp.stop_polling()
        except RuntimeError:
            task.cancel()
    await asyncio.gather(task, return_exceptions=True)
