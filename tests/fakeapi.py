"""A fake Telegram Bot API server on loopback: real HTTP, recorded calls, scripted faults."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import socket
import struct
import time
import zlib
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self

from aiohttp import web

JsonDict = dict[str, Any]

BOT_USERNAME = "nastavnik_test_bot"
BOT_FIRST_NAME = "Nastavnik"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_TEXT_LIMIT = 200
DOCUMENT_LIMIT = 50 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024

BLOCKED = "Forbidden: bot was blocked by the user"
NOT_FOUND = "Not Found"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CHAT_NOT_FOUND = "Bad Request: chat not found"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
FLOOD_LIMIT = "Too Many Requests: retry after 1"
CONFLICT_POLLER = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)

# Methods that send a new message, subject to Telegram's flood limits when they are enforced.
_SENDING_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: NOT_FOUND,
    409: CONFLICT_POLLER,
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Parameters that are free text and must never be parsed as JSON.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "parse_mode",
        "language_code",
        "action",
        "url",
        "name",
        "description",
        "short_description",
        "title",
        "emoji",
        "query",
        "question",
        "explanation",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "file_id",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JsonDict:
        """The JSON body Telegram sends for this error."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class UploadedFile(bytes):
    """The bytes of a file uploaded or sent to the bot, with its file name and MIME type."""

    filename: str
    content_type: str

    def __new__(cls, data: bytes, filename: str, content_type: str = "application/octet-stream") -> Self:
        """Wrap bytes with a file name and a MIME type."""
        obj = super().__new__(cls, data)
        obj.filename = filename
        obj.content_type = content_type
        return obj

    def __repr__(self) -> str:
        """Name and size, never the whole content."""
        return f"UploadedFile({self.filename!r}, {len(self)} bytes)"


@dataclass
class Call:
    """One request the bot made; `time` is `time.monotonic()` on arrival, `status` 0 while in flight."""

    method: str
    params: JsonDict
    files: dict[str, UploadedFile]
    chat_id: int | None
    time: float
    status: int = 0
    result: Any = None
    description: str | None = None
    finished: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the server answered 200."""
        return self.status == 200

    def __str__(self) -> str:
        """A one-line summary for assertion messages."""
        shown = {k: v for k, v in self.params.items() if k not in {"chat_id"}}
        text = json.dumps(shown, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        outcome = "in flight" if self.status == 0 else str(self.status)
        if self.description:
            outcome += f" {self.description}"
        return f"{self.method}(chat={self.chat_id}) {text} -> {outcome}"


@dataclass
class Fault:
    """A scripted error answer; `times=None` means forever, `method="*"` any method but getUpdates."""

    method: str
    status: int
    description: str
    retry_after: int | None = None
    times: int | None = 1
    chat_id: int | None = None

    def matches(self, call: Call) -> bool:
        """Whether this fault applies to the call."""
        if self.times is not None and self.times <= 0:
            return False
        name = call.method.lower()
        if self.method == "*":
            if name == "getupdates":
                return False
        elif self.method.lower() != name:
            return False
        return self.chat_id is None or self.chat_id == call.chat_id


@dataclass
class _Pending:
    """An update waiting in the getUpdates queue."""

    update: JsonDict
    forced: bool = False
    delivered: bool = False

    @property
    def update_id(self) -> int:
        """The update's id."""
        return int(self.update["update_id"])


@dataclass
class _Context:
    """What a method handler knows about the request."""

    call: Call
    token: str
    bot: JsonDict


@dataclass
class _OpenTag:
    """An HTML tag opened but not yet closed."""

    name: str
    kind: str | None
    offset: int
    extra: JsonDict = field(default_factory=dict)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_HTML_TAGS: dict[str, str | None] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHAR_REF = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


def parse_html(source: str) -> tuple[str, list[JsonDict]]:
    """Parse Telegram's HTML subset into plain text and entities, failing like Telegram does."""

    def fail(reason: str) -> ApiError:
        return ApiError(400, f"Bad Request: can't parse entities: {reason}")

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    out: list[str] = []
    entities: list[JsonDict] = []
    stack: list[_OpenTag] = []
    offset = 0
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i)
            if end == -1:
                raise fail(f"Unclosed start tag at byte offset {byte_offset(i)}")
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f"Unexpected end tag at byte offset {byte_offset(i)}")
                top = stack.pop()
                if name and name != top.name:
                    raise fail(
                        f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</{top.name}>", '
                        f'found "</{name}>"'
                    )
                if top.kind is not None and offset > top.offset:
                    entities.append(
                        {"type": top.kind, "offset": top.offset, "length": offset - top.offset, **top.extra}
                    )
            else:
                match = re.match(r"([A-Za-z][\w-]*)", inner)
                name = match.group(1).lower() if match else ""
                if name not in _HTML_TAGS:
                    raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
                attrs = {
                    key.lower(): next((v for v in values if v), "")
                    for key, *values in _ATTR.findall(inner[len(name) :])
                }
                kind = _HTML_TAGS[name]
                extra: JsonDict = {}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise fail(f'Unsupported start tag "span" at byte offset {byte_offset(i)}')
                if name == "a":
                    href = attrs.get("href", "")
                    if not href:
                        kind = None
                    elif href.startswith("tg://user?id="):
                        kind = "text_mention"
                        extra["user"] = {"id": int(href.split("=", 1)[1]), "is_bot": False, "first_name": ""}
                    else:
                        extra["url"] = href
                if name == "blockquote" and "expandable" in attrs:
                    kind = "expandable_blockquote"
                if name == "tg-emoji":
                    extra["custom_emoji_id"] = attrs.get("emoji-id", "")
                stack.append(_OpenTag(name, kind, offset, extra))
            i = end + 1
            continue
        if char == "&":
            ref = _CHAR_REF.match(source, i)
            decoded: str | None = None
            if ref is not None:
                body = ref.group(1)
                if body.startswith(("#x", "#X")):
                    decoded = chr(int(body[2:], 16))
                elif body.startswith("#"):
                    decoded = chr(int(body[1:]))
                else:
                    decoded = _HTML_ESCAPES.get(body)
            if ref is not None and decoded is not None:
                out.append(decoded)
                offset += utf16_len(decoded)
                i = ref.end()
                continue
        out.append(char)
        offset += utf16_len(char)
        i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A valid, all-white RGB PNG image of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG/JPEG/GIF/WEBP/BMP image, or None if it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"\xff\xd8\xff"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in {0xC0, 0xC1, 0xC2}:
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
        return 512, 512
    return None


class FakeBotAPI:
    """A loopback Bot API: records every call, keeps chats and updates, injects faults on request."""

    _last_update_id: ClassVar[int] = 100_000

    def __init__(self, *, strict_chats: bool = False, host: str = "127.0.0.1") -> None:
        """Create a stopped server; `strict_chats` makes sends to never-seen chats fail."""
        self.host = host
        self.strict_chats = strict_chats
        self.base_url = ""
        self.calls: list[Call] = []
        self.updates: list[JsonDict] = []
        self.users: dict[int, JsonDict] = {}
        self.callback_queries: dict[str, JsonDict] = {}
        self.answered_callbacks: set[str] = set()
        self.reply_keyboards: dict[int, JsonDict] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.menu_buttons: dict[int | None, JsonDict] = {}
        self.files: dict[str, UploadedFile] = {}
        self.deleted_messages: list[JsonDict] = []
        self.webhook_url = ""
        self.bot_id: int | None = None
        self._file_meta: dict[str, JsonDict] = {}
        self._file_paths: dict[str, str] = {}
        self._chats: dict[int, dict[int, JsonDict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._pending: list[_Pending] = []
        self._delivered: set[int] = set()
        self._faults: list[Fault] = []
        self._blocked: set[int] = set()
        self._delays: dict[str, float] = {}
        self._hangs: list[tuple[Fault, float, bool]] = []  # (which calls, seconds held, delivered?)
        self.deliveries: Counter[int] = Counter()  # chat id → messages successfully sent to it
        self._limits: tuple[int, float, frozenset[int]] | None = None
        self._recent_sends: deque[float] = deque()
        self._last_send: dict[int, float] = {}
        self._limited: list[Call] = []
        self._poll_generation: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._activity = asyncio.Event()
        self._updates_changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[_Context], Awaitable[Any]]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "getFile": self._get_file,
                "setMyDescription": self._accept,
                "setMyShortDescription": self._accept,
                "close": self._accept,
                "logOut": self._accept,
            }.items()
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on a random loopback port and set `base_url`."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://{self.host}:{port}"
        self._closing = False

    async def stop(self) -> None:
        """Release waiting long polls and shut the server down."""
        self._closing = True
        self._wake_pollers()
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    # ----------------------------------------------------------------- faults

    def fail(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        chat_id: int | None = None,
    ) -> Fault:
        """Answer the next `times` matching calls (None: all) with an error instead of handling them."""
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, "Error")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(method, status, description, retry_after, times, chat_id)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget all queued faults, blocks and delays."""
        self._faults.clear()
        self._blocked.clear()
        self._delays.clear()
        self._hangs.clear()

    def block(self, chat_id: int) -> None:
        """Make every call addressed to the chat fail with 403, as if the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo `block`."""
        self._blocked.discard(chat_id)

    def delay(self, method: str, seconds: float) -> None:
        """Hold every answer to `method` ("*" for all but getUpdates) for `seconds`; 0 removes."""
        if seconds <= 0:
            self._delays.pop(method.lower(), None)
        else:
            self._delays[method.lower()] = seconds

    def hang(
        self,
        method: str,
        seconds: float = 30.0,
        *,
        deliver: bool = False,
        times: int | None = 1,
        chat_id: int | None = None,
    ) -> Fault:
        """Hold the next `times` matching calls for `seconds` (longer than the bot's request timeout makes
        it time out). `deliver=False`: the request is lost (answered 504 when the hold ends, to nobody);
        `deliver=True`: it is carried out and counted in `deliveries` at once, only the answer comes too
        late — Telegram delivered the message but the bot cannot know."""
        fault = Fault(method, 504, "Gateway Timeout", None, times, chat_id)
        self._hangs.append((fault, seconds, deliver))
        return fault

    def _take_hang(self, call: Call) -> tuple[float, bool] | None:
        """The hold of the first `hang` matching the call (counting it), or None."""
        for fault, seconds, deliver in self._hangs:
            if fault.matches(call):
                if fault.times is not None:
                    fault.times -= 1
                return seconds, deliver
        return None

    def enforce_limits(
        self, per_second: int = 30, chat_interval: float = 1.0, exempt: Iterable[int] = ()
    ) -> None:
        """Answer 429 (retry_after 1) like Telegram to a send beyond `per_second` sends in any second
        overall, or within `chat_interval` s of the previous send to the same chat (except `exempt`)."""
        self._limits = (per_second, chat_interval, frozenset(exempt))
        self._recent_sends.clear()
        self._last_send.clear()

    def relax_limits(self) -> None:
        """Undo `enforce_limits`."""
        self._limits = None

    @property
    def rate_limited(self) -> list[Call]:
        """Calls answered 429 by the enforced limits (not by scripted faults)."""
        return list(self._limited)

    def _check_limits(self, call: Call) -> None:
        """Apply `enforce_limits` to a sending call; an accepted send counts, a refused one does not."""
        if self._limits is None or call.method.lower() not in _SENDING_METHODS:
            return
        per_second, chat_interval, exempt = self._limits
        now = call.time
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        chat = call.chat_id
        last = self._last_send.get(chat) if chat is not None and chat not in exempt else None
        if len(self._recent_sends) >= per_second or (last is not None and now - last < chat_interval):
            self._limited.append(call)
            raise ApiError(429, FLOOD_LIMIT, retry_after=1)
        self._recent_sends.append(now)
        if chat is not None:
            self._last_send[chat] = now

    # ----------------------------------------------------------------- updates

    def push_update(self, update: JsonDict, *, deliver: bool = True) -> int:
        """Give the update the next update_id (also set in the dict) and queue it for getUpdates."""
        cls = type(self)
        cls._last_update_id += 1
        update["update_id"] = cls._last_update_id
        self._register(update)
        if deliver:
            self._pending.append(_Pending(copy.deepcopy(update)))
            self._wake_pollers()
        return cls._last_update_id

    def push_raw(self, update: JsonDict) -> int:
        """Queue an update with its own update_id, delivered once even if that id is already confirmed."""
        update_id = int(update["update_id"])
        cls = type(self)
        cls._last_update_id = max(cls._last_update_id, update_id)
        self._register(update)
        self._pending.append(_Pending(copy.deepcopy(update), forced=True))
        self._wake_pollers()
        return update_id

    @property
    def pending_update_ids(self) -> list[int]:
        """Ids of updates not yet confirmed by a getUpdates offset."""
        return [p.update_id for p in self._pending]

    def was_delivered(self, update_id: int) -> bool:
        """Whether getUpdates has returned the update at least once."""
        return update_id in self._delivered

    def register_user(self, user: JsonDict) -> None:
        """Remember a Telegram user (their private chat then exists)."""
        self.users[int(user["id"])] = dict(user)

    def message_update(
        self,
        user: JsonDict,
        text: str | None = None,
        *,
        sticker: bool = False,
        photo: bool = False,
        document: bool = False,
        file_name: str = "document.txt",
        file_data: bytes | None = None,
        contact: JsonDict | bool | None = None,
        reply_to_message_id: int | None = None,
        chat_id: int | None = None,
    ) -> JsonDict:
        """A `message` update from the user in their private chat; with media, `text` is the caption."""
        self.register_user(user)
        chat = user["id"] if chat_id is None else chat_id
        content: JsonDict = {}
        has_media = sticker or photo or document or bool(contact)
        if sticker:
            file_id, unique = self._new_file_id("sticker", UploadedFile(b"RIFF\0\0\0\0WEBP", "sticker.webp"))
            content["sticker"] = {
                "file_id": file_id,
                "file_unique_id": unique,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "file_size": 12,
            }
        if photo:
            data = UploadedFile(
                file_data if file_data is not None else png_bytes(8, 8), "photo.png", "image/png"
            )
            content["photo"] = self._photo_sizes(data)
        if document:
            data = UploadedFile(
                file_data if file_data is not None else b"hello\n",
                file_name,
                mimetypes.guess_type(file_name)[0] or "application/octet-stream",
            )
            content["document"] = self._document_object(data)
        if contact:
            content["contact"] = (
                contact
                if isinstance(contact, dict)
                else {"phone_number": "+70000000000", "first_name": user["first_name"], "user_id": user["id"]}
            )
        if text is not None:
            if has_media:
                content["caption"] = text
            else:
                content["text"] = text
                if text.startswith("/"):
                    command = text.split(maxsplit=1)[0]
                    content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if not content:
            raise ValueError("a message needs text, a sticker, a photo, a document or a contact")
        if reply_to_message_id is not None:
            replied = self._chats.get(chat, {}).get(reply_to_message_id)
            if replied is not None:
                content["reply_to_message"] = copy.deepcopy(replied)
        message = self._store_message(chat, user, content)
        return {"message": message}

    def callback_update(
        self, user: JsonDict, data: str, message_id: int, *, chat_id: int | None = None
    ) -> JsonDict:
        """A `callback_query` update: the user pressed a button with `data` under the message."""
        self.register_user(user)
        chat = user["id"] if chat_id is None else chat_id
        stored = self._chats.get(chat, {}).get(message_id)
        message = (
            copy.deepcopy(stored)
            if stored is not None
            else {"chat": self._chat(chat), "message_id": message_id, "date": 0}
        )
        query_id = str(4_000_000_000_000_000_000 + next(self._ids))
        return {
            "callback_query": {
                "id": query_id,
                "from": dict(user),
                "message": message,
                "chat_instance": str(-1_000_000_000_000 - chat),
                "data": data,
            }
        }

    def my_chat_member_update(
        self, user: JsonDict, old_status: str = "member", new_status: str = "kicked"
    ) -> JsonDict:
        """A `my_chat_member` update: the user blocked ("kicked") or unblocked ("member") the bot."""
        self.register_user(user)
        bot = self._bot_user()

        def member(status: str) -> JsonDict:
            entry: JsonDict = {"status": status, "user": bot}
            if status == "kicked":
                entry["until_date"] = 0
            return entry

        return {
            "my_chat_member": {
                "chat": self._chat(user["id"]),
                "from": dict(user),
                "date": int(time.time()),
                "old_chat_member": member(old_status),
                "new_chat_member": member(new_status),
            }
        }

    # ----------------------------------------------------------------- inspection

    def messages(self, chat_id: int) -> list[JsonDict]:
        """The bot's messages in the chat as they are now (after edits, without deleted ones)."""
        return [copy.deepcopy(m) for m in self._chats.get(chat_id, {}).values() if m["from"].get("is_bot")]

    def history(self, chat_id: int) -> list[JsonDict]:
        """All messages in the chat, the user's and the bot's, oldest first."""
        return [copy.deepcopy(m) for m in self._chats.get(chat_id, {}).values()]

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """One stored message as it is now, or None if it never existed or was deleted."""
        stored = self._chats.get(chat_id, {}).get(message_id)
        return copy.deepcopy(stored) if stored is not None else None

    def last_keyboard_message(self, chat_id: int) -> JsonDict | None:
        """The newest bot message in the chat that has an inline keyboard."""
        for message in reversed(self.messages(chat_id)):
            if message.get("reply_markup", {}).get("inline_keyboard"):
                return message
        return None

    def get_commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        """The command list set for exactly this scope and language ([] if none)."""
        return copy.deepcopy(self.commands.get((self._scope_key(scope), language_code or ""), []))

    def calls_of(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Recorded calls, optionally only of one method (case-insensitive) and/or one chat."""
        return [
            c
            for c in self.calls
            if (method is None or c.method.lower() == method.lower())
            and (chat_id is None or c.chat_id == chat_id)
        ]

    def in_flight(self, chat_id: int | None = None) -> int:
        """How many requests (other than getUpdates) are still being answered."""
        return sum(
            1
            for c in self.calls
            if c.status == 0
            and c.method.lower() != "getupdates"
            and (chat_id is None or c.chat_id == chat_id)
        )

    def describe_calls(self, last: int = 20) -> str:
        """The last recorded calls other than getUpdates, one per line."""
        shown = [c for c in self.calls if c.method.lower() != "getupdates"][-last:]
        return "\n".join(f"  {c}" for c in shown) or "  (no calls)"

    async def wait_activity(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until any call arrives or finishes; False on timeout."""
        event = self._activity
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int | None = None,
    ) -> Call:
        """The first finished call from index `since` (default: from now) matching the predicate."""
        start = len(self.calls) if since is None else since
        deadline = time.monotonic() + timeout
        while True:
            event = self._activity
            for call in self.calls[start:]:
                if call.status != 0 and predicate(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching call within {timeout} s; recent calls:\n{self.describe_calls()}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        """Route one Bot API request: check the token, record, delay, fault or handle it."""
        token = request.match_info["token"]
        method = request.match_info["method"]
        match = re.fullmatch(r"(\d+):(.+)", token)
        if match is None:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        bot_id = int(match.group(1))
        self.bot_id = bot_id
        params, files = await self._read_params(request)
        call = Call(method, params, files, self._call_chat(method, params), time.monotonic())
        self.calls.append(call)
        self._notify()
        status = 200
        try:
            delay = self._delays.get(method.lower())
            if delay is None and method.lower() != "getupdates":
                delay = self._delays.get("*")
            if delay:
                await self._sleep(delay)
            hang = self._take_hang(call)
            if hang is not None and not hang[1]:
                await self._sleep(hang[0])
                raise ApiError(504, "Gateway Timeout")
            self._check_faults(call)
            self._check_limits(call)
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, NOT_FOUND)
            result = await handler(_Context(call, token, self._bot_user(bot_id)))
            body: JsonDict = {"ok": True, "result": result}
            if method.lower() in _SENDING_METHODS and call.chat_id is not None:
                self.deliveries[call.chat_id] += 1
            call.result = copy.deepcopy(result)
            if hang is not None:
                await self._sleep(hang[0])
        except ApiError as error:
            status = error.status
            body = error.payload()
            call.description = error.description
        except Exception as error:  # a bug in the fake must not look like a hanging request
            status = 500
            body = ApiError(500, f"Internal Server Error: {type(error).__name__}: {error}").payload()
            call.description = body["description"]
        finally:
            call.finished = time.monotonic()
        call.status = status
        self._notify()
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def _download(self, request: web.Request) -> web.Response:
        """Serve a file by the path getFile gave out."""
        path = request.match_info["path"]
        file_id = self._file_paths.get(path)
        if file_id is None:
            return web.json_response(ApiError(404, NOT_FOUND).payload(), status=404)
        data = self.files[file_id]
        return web.Response(body=bytes(data), content_type=data.content_type)

    async def _read_params(self, request: web.Request) -> tuple[JsonDict, dict[str, UploadedFile]]:
        """Form, multipart, JSON or query parameters, with JSON-looking values decoded."""
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            raw.update(body if isinstance(body, dict) else {})
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        value.file.read(),
                        value.filename or key,
                        value.content_type or "application/octet-stream",
                    )
                else:
                    raw[key] = value
        params = {key: self._decode(key, value) for key, value in raw.items()}
        named: dict[str, UploadedFile] = {}
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                named[key] = files.pop(value[9:])
        named.update(files)
        return params, named

    @staticmethod
    def _decode(key: str, value: Any) -> Any:
        """Decode a form value that aiogram JSON-encoded (numbers, booleans, objects, lists)."""
        if not isinstance(value, str) or key in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    def _call_chat(self, method: str, params: JsonDict) -> int | None:
        """The chat a call addresses; for answerCallbackQuery the chat of the pressed message."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        if method.lower() == "answercallbackquery":
            query = self.callback_queries.get(str(params.get("callback_query_id")))
            if query is not None:
                message = query.get("message") or {}
                return int(message.get("chat", {}).get("id", query["from"]["id"]))
        return None

    def _check_faults(self, call: Call) -> None:
        """Raise the first queued fault matching the call, or 403 for a blocked chat."""
        for fault in self._faults:
            if fault.matches(call):
                if fault.times is not None:
                    fault.times -= 1
                raise ApiError(fault.status, fault.description, fault.retry_after)
        if call.chat_id in self._blocked and call.method.lower() != "answercallbackquery":
            raise ApiError(403, BLOCKED)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up early when the server stops."""
        deadline = time.monotonic() + seconds
        while not self._closing and (remaining := deadline - time.monotonic()) > 0:
            event = self._updates_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _notify(self) -> None:
        """Wake everyone waiting for call activity."""
        self._activity.set()
        self._activity = asyncio.Event()

    def _wake_pollers(self) -> None:
        """Wake long polls waiting for updates."""
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    # ----------------------------------------------------------------- state helpers

    def _register(self, update: JsonDict) -> None:
        """Remember the users and callback queries an update carries; keep it in history."""
        self.updates.append(copy.deepcopy(update))
        for value in update.values():
            if isinstance(value, dict) and isinstance(value.get("from"), dict):
                self.register_user(value["from"])
        query = update.get("callback_query")
        if isinstance(query, dict):
            self.callback_queries[str(query["id"])] = copy.deepcopy(query)

    def _bot_user(self, bot_id: int | None = None) -> JsonDict:
        """The bot as a Telegram User."""
        return {
            "id": bot_id if bot_id is not None else (self.bot_id or 0),
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _chat(self, chat_id: int) -> JsonDict:
        """The Chat object of a chat id (private for positive ids)."""
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": "Group"}
        user = self.users.get(chat_id, {})
        chat: JsonDict = {"id": chat_id, "type": "private", "first_name": user.get("first_name", "User")}
        for key in ("last_name", "username"):
            if user.get(key):
                chat[key] = user[key]
        return chat

    def _target_chat(self, ctx: _Context) -> int:
        """The integer chat_id of a call, or Telegram's "chat not found"."""
        chat_id = ctx.call.params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, CHAT_NOT_FOUND)
        if self.strict_chats and chat_id not in self.users and chat_id not in self._chats:
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def _store_message(self, chat_id: int, sender: JsonDict, content: JsonDict) -> JsonDict:
        """Create a message with the chat's next id and keep it."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message: JsonDict = {
            "message_id": message_id,
            "from": dict(sender),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        self._chats.setdefault(chat_id, {})[message_id] = message
        return copy.deepcopy(message)

    def _bot_message(self, ctx: _Context, missing: str = EDIT_NOT_FOUND) -> tuple[int, JsonDict]:
        """The stored bot message a call points at by chat_id and message_id."""
        params = ctx.call.params
        chat_id = params.get("chat_id")
        message_id = params.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise ApiError(400, missing)
        stored = self._chats.get(chat_id, {}).get(message_id)
        if stored is None:
            raise ApiError(400, missing)
        if not stored["from"].get("is_bot"):
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_id, stored

    @staticmethod
    def _format(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JsonDict]]:
        """Apply parse_mode (HTML is parsed; Markdown is kept verbatim) or explicit entities."""
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            return parse_html(text)
        return text, list(entities) if isinstance(entities, list) else []

    def _inline_markup(self, chat_id: int, markup: Any) -> JsonDict | None:
        """Validate reply_markup; keep reply keyboards per chat; return a non-empty inline keyboard."""
        if not isinstance(markup, dict):
            return None
        if "keyboard" in markup:
            self.reply_keyboards[chat_id] = copy.deepcopy(markup)
            return None
        if markup.get("remove_keyboard"):
            self.reply_keyboards.pop(chat_id, None)
            return None
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return None
        for row in rows:
            if not isinstance(row, list):
                raise ApiError(400, "Bad Request: can't parse inline keyboard: rows must be arrays")
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
                    raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid")
        if not any(rows):
            return None
        return {"inline_keyboard": copy.deepcopy(rows)}

    def _new_file_id(self, kind: str, data: UploadedFile) -> tuple[str, str]:
        """Register file bytes under a fresh file_id; return (file_id, file_unique_id)."""
        number = next(self._ids)
        file_id = f"{kind[:2].upper()}ACAgIAAxkBAAI{number:06d}"
        unique = f"AQAD{number:06d}"
        self.files[file_id] = data
        self._file_meta[file_id] = {"kind": kind, "file_unique_id": unique}
        return file_id, unique

    def _photo_sizes(self, data: UploadedFile) -> list[JsonDict]:
        """PhotoSize objects (a thumbnail and the full size) for image bytes."""
        size = _image_size(data)
        if size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = size
        scale = min(1.0, 90 / max(width, height, 1))
        sizes = []
        for w, h in ((max(1, round(width * scale)), max(1, round(height * scale))), (width, height)):
            file_id, unique = self._new_file_id("photo", data)
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": w,
                    "height": h,
                    "file_size": len(data),
                }
            )
        return sizes

    def _document_object(self, data: UploadedFile) -> JsonDict:
        """A Document object for file bytes."""
        file_id, unique = self._new_file_id("document", data)
        mime = mimetypes.guess_type(data.filename)[0] or data.content_type or "application/octet-stream"
        return {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": data.filename,
            "mime_type": mime,
            "file_size": len(data),
        }

    def _input_file(
        self, ctx: _Context, field_name: str, kind: str
    ) -> tuple[UploadedFile | None, str | None]:
        """An uploaded file, or an existing file_id / URL named by the parameter."""
        uploaded = ctx.call.files.get(field_name)
        if uploaded is not None:
            if not uploaded:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return uploaded, None
        value = ctx.call.params.get(field_name)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if value.startswith(("http://", "https://")):
            return None, value
        meta = self._file_meta.get(value)
        if meta is None:
            raise ApiError(400, WRONG_FILE)
        if meta["kind"] != kind:
            raise ApiError(
                400, f"Bad Request: can't use file of type {meta['kind'].title()} as {kind.title()}"
            )
        return None, value

    def _caption(self, ctx: _Context) -> JsonDict:
        """Caption fields of a media message, parsed and checked for length."""
        params = ctx.call.params
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return {}
        text, entities = self._format(caption, params.get("parse_mode"), params.get("caption_entities"))
        if len(text) > CAPTION_LIMIT:
            raise ApiError(400, CAPTION_TOO_LONG)
        content: JsonDict = {"caption": text}
        if entities:
            content["caption_entities"] = entities
        return content

    @staticmethod
    def _scope_key(scope: Any) -> str:
        """A stable key for a BotCommandScope."""
        return json.dumps(scope if isinstance(scope, dict) else {"type": "default"}, sort_keys=True)

    # ----------------------------------------------------------------- methods

    async def _accept(self, ctx: _Context) -> bool:
        """Methods that only need to succeed."""
        return True

    async def _get_me(self, ctx: _Context) -> JsonDict:
        """getMe."""
        return {
            **ctx.bot,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by a getUpdates offset (negative: keep only the last -offset)."""
        if offset > 0:
            self._pending = [
                p for p in self._pending if p.update_id >= offset or (p.forced and not p.delivered)
            ]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _get_updates(self, ctx: _Context) -> list[JsonDict]:
        """getUpdates with offset confirmation, limit and long polling; a newer poll ends older ones."""
        if self.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        params = ctx.call.params
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(0.0, float(params.get("timeout") or 0))
        self._confirm(offset)
        generation = self._poll_generation.get(ctx.token, 0) + 1
        self._poll_generation[ctx.token] = generation
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while True:
            event = self._updates_changed
            if self._poll_generation.get(ctx.token) != generation:
                raise ApiError(409, CONFLICT_POLLER)
            if self._pending or self._closing:
                batch = self._pending[:limit]
                for pending in batch:
                    pending.delivered = True
                    self._delivered.add(pending.update_id)
                return [copy.deepcopy(p.update) for p in batch]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _delete_webhook(self, ctx: _Context) -> bool:
        """deleteWebhook, optionally dropping pending updates."""
        self.webhook_url = ""
        if ctx.call.params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _set_webhook(self, ctx: _Context) -> bool:
        """setWebhook: getUpdates then answers 409 until deleteWebhook."""
        self.webhook_url = str(ctx.call.params.get("url") or "")
        if ctx.call.params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, ctx: _Context) -> JsonDict:
        """getWebhookInfo."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _set_my_commands(self, ctx: _Context) -> bool:
        """setMyCommands per scope and language, validated like Telegram."""
        params = ctx.call.params
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if commands:
            self.commands[key] = copy.deepcopy(commands)
        else:
            self.commands.pop(key, None)
        return True

    async def _delete_my_commands(self, ctx: _Context) -> bool:
        """deleteMyCommands."""
        params = ctx.call.params
        self.commands.pop(
            (self._scope_key(params.get("scope")), str(params.get("language_code") or "")), None
        )
        return True

    async def _get_my_commands(self, ctx: _Context) -> list[JsonDict]:
        """getMyCommands for exactly the given scope and language."""
        params = ctx.call.params
        return self.get_commands(params.get("scope"), str(params.get("language_code") or ""))

    async def _send_message(self, ctx: _Context) -> JsonDict:
        """sendMessage."""
        chat_id = self._target_chat(ctx)
        params = ctx.call.params
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, TEXT_EMPTY)
        text, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise ApiError(400, TEXT_EMPTY)
        if len(text) > MESSAGE_LIMIT:
            raise ApiError(400, TEXT_TOO_LONG)
        content: JsonDict = {"text": text}
        if entities:
            content["entities"] = entities
        markup = self._inline_markup(chat_id, params.get("reply_markup"))
        if markup is not None:
            content["reply_markup"] = markup
        return self._store_message(chat_id, ctx.bot, content)

    async def _edit_message_text(self, ctx: _Context) -> JsonDict | bool:
        """editMessageText; omitting reply_markup removes the inline keyboard, as in Telegram."""
        params = ctx.call.params
        if params.get("inline_message_id"):
            return True
        chat_id, stored = self._bot_message(ctx)
        if "text" not in stored:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, TEXT_EMPTY)
        text, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise ApiError(400, TEXT_EMPTY)
        if len(text) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = self._inline_markup(chat_id, params.get("reply_markup"))
        if (
            text == stored["text"]
            and entities == stored.get("entities", [])
            and markup == stored.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        stored["text"] = text
        self._set_optional(stored, "entities", entities or None)
        self._set_optional(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    async def _edit_message_caption(self, ctx: _Context) -> JsonDict | bool:
        """editMessageCaption."""
        params = ctx.call.params
        if params.get("inline_message_id"):
            return True
        chat_id, stored = self._bot_message(ctx)
        if not any(key in stored for key in ("photo", "document")):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption(ctx)
        markup = self._inline_markup(chat_id, params.get("reply_markup"))
        if (
            caption.get("caption") == stored.get("caption")
            and caption.get("caption_entities") == stored.get("caption_entities")
            and markup == stored.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        self._set_optional(stored, "caption", caption.get("caption"))
        self._set_optional(stored, "caption_entities", caption.get("caption_entities"))
        self._set_optional(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    async def _edit_message_reply_markup(self, ctx: _Context) -> JsonDict | bool:
        """editMessageReplyMarkup; omitting reply_markup removes the keyboard."""
        params = ctx.call.params
        if params.get("inline_message_id"):
            return True
        chat_id, stored = self._bot_message(ctx)
        markup = self._inline_markup(chat_id, params.get("reply_markup"))
        if markup == stored.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        self._set_optional(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    @staticmethod
    def _set_optional(target: JsonDict, key: str, value: Any) -> None:
        """Set a key, or remove it when the value is None."""
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value

    async def _delete_message(self, ctx: _Context) -> bool:
        """deleteMessage (the bot may delete its own and the user's messages in a private chat)."""
        params = ctx.call.params
        chat_id = params.get("chat_id")
        message_id = params.get("message_id")
        chat = self._chats.get(chat_id, {}) if isinstance(chat_id, int) else {}
        if not isinstance(message_id, int) or message_id not in chat:
            raise ApiError(400, DELETE_NOT_FOUND)
        self.deleted_messages.append(chat.pop(message_id))
        return True

    async def _answer_callback_query(self, ctx: _Context) -> bool:
        """answerCallbackQuery: each query can be answered once."""
        params = ctx.call.params
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.callback_queries or query_id in self.answered_callbacks:
            raise ApiError(400, QUERY_INVALID)
        if len(str(params.get("text") or "")) > CALLBACK_TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answered_callbacks.add(query_id)
        return True

    async def _send_photo(self, ctx: _Context) -> JsonDict:
        """sendPhoto from an upload, a known photo file_id or a URL."""
        chat_id = self._target_chat(ctx)
        uploaded, reference = self._input_file(ctx, "photo", "photo")
        if uploaded is not None:
            if len(uploaded) > PHOTO_LIMIT:
                raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
            sizes = self._photo_sizes(uploaded)
        elif reference is not None and reference in self.files:
            sizes = self._photo_sizes(self.files[reference])
        else:
            sizes = self._photo_sizes(UploadedFile(png_bytes(8, 8), "photo.png", "image/png"))
        content: JsonDict = {"photo": sizes, **self._caption(ctx)}
        markup = self._inline_markup(chat_id, ctx.call.params.get("reply_markup"))
        if markup is not None:
            content["reply_markup"] = markup
        return self._store_message(chat_id, ctx.bot, content)

    async def _send_document(self, ctx: _Context) -> JsonDict:
        """sendDocument from an upload, a known document file_id or a URL."""
        chat_id = self._target_chat(ctx)
        uploaded, reference = self._input_file(ctx, "document", "document")
        if uploaded is not None:
            if len(uploaded) > DOCUMENT_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            document = self._document_object(uploaded)
        elif reference is not None and reference in self.files:
            document = self._document_object(self.files[reference])
        else:
            name = str(reference).rsplit("/", 1)[-1] or "file"
            document = self._document_object(UploadedFile(b"remote", name))
        content: JsonDict = {"document": document, **self._caption(ctx)}
        markup = self._inline_markup(chat_id, ctx.call.params.get("reply_markup"))
        if markup is not None:
            content["reply_markup"] = markup
        return self._store_message(chat_id, ctx.bot, content)

    async def _send_chat_action(self, ctx: _Context) -> bool:
        """sendChatAction."""
        self._target_chat(ctx)
        if not ctx.call.params.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _set_chat_menu_button(self, ctx: _Context) -> bool:
        """setChatMenuButton for one chat or, without chat_id, the default."""
        params = ctx.call.params
        chat_id = params.get("chat_id")
        button = params.get("menu_button")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = (
            copy.deepcopy(button) if isinstance(button, dict) else {"type": "default"}
        )
        return True

    async def _get_chat_menu_button(self, ctx: _Context) -> JsonDict:
        """getChatMenuButton."""
        chat_id = ctx.call.params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        return copy.deepcopy(self.menu_buttons.get(key, self.menu_buttons.get(None, {"type": "commands"})))

    async def _get_file(self, ctx: _Context) -> JsonDict:
        """getFile: a file_path served under /file/bot<token>/."""
        file_id = str(ctx.call.params.get("file_id") or "")
        meta = self._file_meta.get(file_id)
        if meta is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        data = self.files[file_id]
        suffix = data.filename.rsplit(".", 1)[-1] if "." in data.filename else "bin"
        path = f"{meta['kind']}s/file_{file_id[-6:]}.{suffix}"
        self._file_paths[path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": meta["file_unique_id"],
            "file_size": len(data),
            "file_path": path,
        }

    # ----------------------------------------------------------------- more kinds of updates

    def content_message_update(self, user: JsonDict, content: JsonDict) -> JsonDict:
        """A `message` update from the user in their private chat with any content (e.g. `{"location":
        {...}}`, `{"voice": {...}}`, `{"dice": {...}}`), for content kinds `message_update` does not build."""
        self.register_user(user)
        return {"message": self._store_message(user["id"], user, copy.deepcopy(content))}

    def edited_message_update(self, user: JsonDict, text: str, message_id: int | None = None) -> JsonDict:
        """An `edited_message` update: the user edited their message `message_id` (default: their newest
        one, or a new one if they have sent nothing) to `text`."""
        self.register_user(user)
        chat = self._chats.setdefault(user["id"], {})
        if message_id is None:
            own = [m for m in chat.values() if not m["from"].get("is_bot")]
            message_id = own[-1]["message_id"] if own else None
        stored = chat.get(message_id) if message_id is not None else None
        if stored is None or stored["from"].get("is_bot"):
            stored = self._store_message(user["id"], user, {"text": text})
        stored = chat[stored["message_id"]]
        for key in ("caption", "sticker", "photo", "document", "contact", "entities"):
            stored.pop(key, None)
        stored["text"] = text
        stored["edit_date"] = int(time.time())
        return {"edited_message": copy.deepcopy(stored)}
