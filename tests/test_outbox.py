"""The outbox sender against the fake Bot API: limits, retries, blocked users, restarts, dedupe."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.outbox import MAX_ATTEMPTS, Outbox
from storage.db import utcnow
from storage.models import OutboxMessage
from storage.repos import Repositories
from storage.repos.outbox import DUE_SQL
from tests.client import make_bot
from tests.fakeapi import FakeBotAPI
from tests.outbox_helpers import drained

CHAT = 5_000_001


def msg(user_id: int, key: str, text: str = "Hello", **extra: object) -> OutboxMessage:
    return OutboxMessage(user_id=user_id, kind="test", dedupe=key, text=text, ref=1, **extra)  # type: ignore[arg-type]


async def statuses(repos: Repositories) -> dict[str, str]:
    rows = await repos.db.fetchall("SELECT dedupe, status FROM outbox")
    return {r[0]: r[1] for r in rows}


def texts_to(fake: FakeBotAPI, chat: int) -> list[str]:
    return [c.params["text"] for c in fake.calls_of("sendMessage", chat) if c.ok]


async def test_limits_respected_every_message_once_in_order(
    dp: Dispatcher, repos: Repositories, fake: FakeBotAPI
) -> None:
    fake.enforce_limits(per_second=30, chat_interval=1.0)
    chats = [CHAT + i for i in range(45)]
    messages = [msg(c, f"a:{c}", f"first {c}") for c in chats]
    messages += [msg(c, f"b:{c}", f"second {c}") for c in chats[:20]]
    messages += [msg(chats[0], f"c:{chats[0]}", "third")]
    assert await repos.outbox.enqueue(messages) == len(messages)
    dp["outbox"].wake()
    await drained(repos)

    assert fake.rate_limited == [], "the sender went past Telegram's limits"
    assert set((await statuses(repos)).values()) == {"sent"}
    for chat in chats:
        expected = [f"first {chat}"] + ([f"second {chat}"] if chat in chats[:20] else [])
        expected += ["third"] if chat == chats[0] else []
        assert texts_to(fake, chat) == expected
    assert sum(fake.deliveries[c] for c in chats) == len(messages)


async def test_the_fake_does_refuse_a_burst(fake: FakeBotAPI) -> None:
    """The limit the previous test relies on is real: a careless burst (a bare bot, no retries) is refused."""
    fake.enforce_limits(per_second=30, chat_interval=1.0)
    bot = make_bot(fake)
    try:
        results = await asyncio.gather(
            *(bot.send_message(CHAT + i % 40, "burst") for i in range(40)), return_exceptions=True
        )
    finally:
        await bot.session.close()
    assert any(isinstance(r, Exception) for r in results)
    assert fake.rate_limited


async def test_retry_after_is_waited_out(dp: Dispatcher, repos: Repositories, fake: FakeBotAPI) -> None:
    fake.fail("sendMessage", 429, retry_after=1, chat_id=CHAT)
    await repos.outbox.enqueue([msg(CHAT, "r")])
    dp["outbox"].wake()
    await drained(repos)

    calls = fake.calls_of("sendMessage", CHAT)
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0
    assert (await statuses(repos)) == {"r": "sent"}
    assert fake.deliveries[CHAT] == 1


async def test_blocked_user_is_marked_and_not_retried(
    dp: Dispatcher, repos: Repositories, fake: FakeBotAPI
) -> None:
    await repos.users.seen(CHAT, "ru")
    fake.block(CHAT)
    await repos.outbox.enqueue([msg(CHAT, "x"), msg(CHAT + 1, "y")])
    dp["outbox"].wake()
    await drained(repos)

    assert (await statuses(repos)) == {"x": "blocked", "y": "sent"}
    assert len(fake.calls_of("sendMessage", CHAT)) == 1
    user = await repos.users.get(CHAT)
    assert user is not None and user.blocked_at is not None
    assert await repos.outbox.counts("test", 1) == {
        "pending": 0, "sending": 0, "sent": 1, "blocked": 1, "failed": 0, "uncertain": 0,
        "cancelled": 0, "expired": 0,
    }


async def test_server_errors_are_retried_then_failed(
    dp: Dispatcher, repos: Repositories, fake: FakeBotAPI
) -> None:
    outbox: Outbox = dp["outbox"]
    outbox.retry_delays = (0.05, 0.05, 0.05)
    fake.fail("sendMessage", 500, times=2, chat_id=CHAT)
    fake.fail("sendMessage", 502, times=None, chat_id=CHAT + 1)
    await repos.outbox.enqueue([msg(CHAT, "flaky"), msg(CHAT + 1, "down")])
    outbox.wake()
    await drained(repos)

    assert (await statuses(repos)) == {"flaky": "sent", "down": "failed"}
    assert [c.status for c in fake.calls_of("sendMessage", CHAT)] == [500, 500, 200]
    assert len(fake.calls_of("sendMessage", CHAT + 1)) == MAX_ATTEMPTS
    row = await repos.db.fetchone("SELECT error FROM outbox WHERE dedupe = 'down'")
    assert "Bad Gateway" in row[0]


async def test_bad_request_fails_at_once(dp: Dispatcher, repos: Repositories, fake: FakeBotAPI) -> None:
    await repos.outbox.enqueue([msg(CHAT, "long", "x" * 5000)])
    dp["outbox"].wake()
    await drained(repos)
    assert (await statuses(repos)) == {"long": "failed"}
    assert len(fake.calls_of("sendMessage", CHAT)) == 1


async def test_a_claimed_message_becomes_uncertain_at_restart_and_is_never_sent(
    dp: Dispatcher, bot: Bot, repos: Repositories, fake: FakeBotAPI
) -> None:
    outbox: Outbox = dp["outbox"]
    await outbox.stop()
    await repos.outbox.enqueue([msg(CHAT, "claimed"), msg(CHAT + 1, "queued")])
    row = await repos.db.fetchone("SELECT id FROM outbox WHERE dedupe = 'claimed'")
    assert await repos.outbox.claim(row[0])  # as if the process died during the HTTP call

    await outbox.start(bot)
    await drained(repos)
    assert (await statuses(repos)) == {"claimed": "uncertain", "queued": "sent"}
    assert fake.calls_of("sendMessage", CHAT) == []
    # And it stays so: another restart and a wake send nothing more.
    await outbox.stop()
    await outbox.start(bot)
    outbox.wake()
    await repos.outbox.enqueue([msg(CHAT + 2, "later")])
    outbox.wake()
    await drained(repos)
    assert fake.calls_of("sendMessage", CHAT) == []
    assert fake.deliveries[CHAT + 1] == 1


async def test_dedupe_and_markup_and_not_before(
    dp: Dispatcher, repos: Repositories, fake: FakeBotAPI
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="pg:open:1:")]]
    ).model_dump_json()
    later = utcnow() + timedelta(hours=1)
    assert await repos.outbox.enqueue([msg(CHAT, "k", "with a button", markup=markup)]) == 1
    assert await repos.outbox.enqueue([msg(CHAT, "k", "again"), msg(CHAT + 1, "f", not_before=later)]) == 1
    dp["outbox"].wake()
    await drained(repos, due_by=utcnow())

    assert texts_to(fake, CHAT) == ["with a button"]
    sent = fake.messages(CHAT)[-1]
    assert sent["reply_markup"]["inline_keyboard"][0][0]["text"] == "Open"
    assert fake.calls_of("sendMessage", CHAT + 1) == []
    assert (await statuses(repos))["f"] == "pending"


async def test_due_rows_are_found_through_the_index(repos: Repositories) -> None:
    plan = await repos.db.fetchall("EXPLAIN QUERY PLAN " + DUE_SQL, (utcnow().isoformat(), 5))
    details = " ".join(str(r[3]) for r in plan)
    assert "USING INDEX outbox_due" in details and "SCAN outbox" not in details
