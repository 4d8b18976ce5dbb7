"""The Bot API misbehaves — 429 with retry_after, 500s, requests that time out, 403 "bot was blocked" — for
replies to a person and for the outbox: the bot keeps answering, retries what may be retried, marks what
cannot be delivered, sends nothing twice and never shows a person a traceback.

What a timeout means (decided in `bot.outbox`): a request sent but not answered in time may have been
delivered, so it is not sent again — an outbox row becomes 'uncertain' (counted as not delivered in the
coordinator's report), a reply is replaced by the error handler's apology. Flood limits and server errors
are answered before anything is delivered, so those are retried. Tests set the session's timeout to 1 s
(aiogram's default, which the bot keeps, is 60 s) and hold the fake's answer for longer.

The outbox's own 429 / 5xx / 403 / restart behaviour is in tests/test_outbox.py; not repeated here.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher

from bot.outbox import Outbox
from storage.models import OutboxMessage
from storage.repos import Repositories
from tests.client import PollDriver, TgUser, stop_polling
from tests.conftest import UserFactory
from tests.factories import COORDINATOR_ID, school
from tests.fakeapi import FakeBotAPI
from tests.outbox_helpers import drained
from tests.test_announcements import MENTORS, TITLE, open_announcement, populate, wait_status

ANNA = 7_001
TIMEOUT = 1  # the bot's request timeout in these tests, seconds
HELD = 2.5  # how long a hung request is held by the fake: longer than TIMEOUT
APOLOGY = "Sorry, something went wrong on our side."


def seen_by(fake: FakeBotAPI, chat: int) -> list[str]:
    """Everything the person was shown: messages and button answers."""
    texts = [str(m.get("text") or m.get("caption") or "") for m in fake.messages(chat)]
    texts += [str(c.params.get("text") or "") for c in fake.calls_of("answerCallbackQuery", chat)]
    return texts


INTERNALS = ("Traceback", "Telegram server says", "Internal Server Error", "Too Many Requests", "Forbidden",
             "Gateway", "Request timeout", "Exception")


def assert_no_internals(fake: FakeBotAPI, chat: int) -> None:
    for text in seen_by(fake, chat):
        assert not any(word in text for word in INTERNALS), text


def sends(fake: FakeBotAPI, chat: int, text: str) -> list[int]:
    """Statuses of the sendMessage calls to the chat with this text (0: never answered)."""
    return [c.status for c in fake.calls_of("sendMessage", chat) if c.params.get("text") == text]


async def test_replies_are_retried_or_apologised_for_and_the_bot_keeps_answering(
    make_user: UserFactory, repos: Repositories, fake: FakeBotAPI, bot: Bot
) -> None:
    bot.session.timeout = TIMEOUT
    anna = make_user(ANNA, "Anna", "en")
    await anna.send("/help")
    help_text = anna.last_text
    assert help_text is not None and help_text.startswith("Nastavnik runs school mentoring programmes")

    # 429: the reply waits retry_after, then goes once.
    fake.fail("sendMessage", 429, retry_after=1, chat_id=ANNA)
    await anna.send("/help")
    assert sends(fake, ANNA, help_text) == [200, 429, 200]
    flood, retry = fake.calls_of("sendMessage", ANNA)[-2:]
    assert retry.time - flood.time >= 1.0

    # Two 500s: tried a third time, delivered once.
    fake.fail("sendMessage", 500, times=2, chat_id=ANNA)
    await anna.send("/help")
    assert sends(fake, ANNA, help_text) == [200, 429, 200, 500, 500, 200]
    assert fake.deliveries[ANNA] == 3

    # A timeout: the reply may have arrived, so it is not sent again; the person is told to try again.
    fake.hang("sendMessage", HELD, chat_id=ANNA)
    await anna.send("/help")
    assert sends(fake, ANNA, help_text)[6:] in ([0], [504])
    assert anna.last_text is not None and anna.last_text.startswith(APOLOGY)
    await anna.send("/help")
    assert anna.last_text == help_text

    # 403: the person blocked the bot in the middle of a conversation: marked, not retried, not apologised to.
    fake.block(ANNA)
    before = len(fake.calls_of("sendMessage", ANNA))
    await anna.send("/help")
    assert [c.status for c in fake.calls_of("sendMessage", ANNA)[before:]] == [403]
    user = await repos.users.get(ANNA)
    assert user is not None and user.blocked_at is not None
    fake.unblock(ANNA)
    await anna.send("/help")
    assert anna.last_text == help_text
    user = await repos.users.get(ANNA)
    assert user is not None and user.blocked_at is None  # writing again means they are back

    assert fake.deliveries[ANNA] == 6  # five /help answers and one apology, each once
    assert_no_internals(fake, ANNA)


async def test_an_announcement_through_429_500_and_a_timeout(
    dp: Dispatcher, make_user: UserFactory, repos: Repositories, fake: FakeBotAPI, bot: Bot
) -> None:
    """Each of three mentors' copies meets a different fault: the flood limit and the server error are
    retried and delivered once; the timed-out one was delivered by Telegram but the bot cannot know it, so
    it is not sent again and the report counts it as not delivered."""
    bot.session.timeout = TIMEOUT
    outbox: Outbox = dp["outbox"]
    outbox.retry_delays = (0.05, 0.05, 0.05)
    sch = await school(repos)
    await populate(repos, sch)
    flooded, erring, slow = MENTORS
    fake.fail("sendMessage", 429, retry_after=1, chat_id=flooded)
    fake.fail("sendMessage", 500, chat_id=erring)
    fake.hang("sendMessage", HELD, deliver=True, chat_id=slow)

    maria = make_user(COORDINATOR_ID, "Maria", "en")
    await open_announcement(maria)
    await maria.click("All mentors (3)")
    await maria.send("Собрание наставников в среду в 16:00.")
    await maria.click("Send to 3 people")
    [(ann_id,)] = await repos.db.fetchall("SELECT id FROM announcements")
    await wait_status(repos, f"ann-report:{ann_id}")

    rows = await repos.db.fetchall(
        "SELECT user_id, status, attempts FROM outbox WHERE kind = 'announcement' ORDER BY user_id")
    assert [tuple(r) for r in rows] == [(flooded, "sent", 0), (erring, "sent", 1), (slow, "uncertain", 0)]
    assert [c.status for c in fake.calls_of("sendMessage", flooded)] == [429, 200]
    assert [c.status for c in fake.calls_of("sendMessage", erring)] == [500, 200]
    assert len(fake.calls_of("sendMessage", slow)) == 1
    assert {uid: fake.deliveries[uid] for uid in MENTORS} == {flooded: 1, erring: 1, slow: 1}
    report = (f"Announcement to «All mentors» in «{TITLE}» delivered to 2 of 3. 0 people have blocked the "
              "bot. 1 message could not be delivered.")
    assert maria.texts.count(report) == 1

    await maria.send("/programmes")  # the bot is still there
    assert maria.buttons()[0] == TITLE
    for uid in (*MENTORS, COORDINATOR_ID):
        assert_no_internals(fake, uid)


async def test_timed_out_reminders_are_never_sent_again(
    dp: Dispatcher, bot: Bot, repos: Repositories, fake: FakeBotAPI
) -> None:
    """Delivered-but-unanswered and lost alike become 'uncertain' and stay so across a restart; the rest of
    the queue goes on. At most once, always: the one whose request was lost does not get it (the price)."""
    bot.session.timeout = TIMEOUT
    outbox: Outbox = dp["outbox"]
    delivered_late, lost, fine = 7_101, 7_102, 7_103
    fake.hang("sendMessage", HELD, deliver=True, chat_id=delivered_late)
    fake.hang("sendMessage", HELD, deliver=False, chat_id=lost)
    await repos.outbox.enqueue([
        OutboxMessage(user_id=uid, kind="reminder", ref=1, dedupe=f"rem:1:v1:{uid}:60",
                      text="Напоминание: встреча через 1 ч.") for uid in (delivered_late, lost, fine)
    ])
    outbox.wake()
    await drained(repos)
    await outbox.stop()
    await outbox.start(bot)
    outbox.wake()
    await drained(repos)

    rows = await repos.db.fetchall("SELECT user_id, status, error FROM outbox ORDER BY user_id")
    assert [(r[0], r[1]) for r in rows] == [
        (delivered_late, "uncertain"), (lost, "uncertain"), (fine, "sent")]
    assert "no answer" in rows[0][2]
    assert [len(fake.calls_of("sendMessage", uid)) for uid in (delivered_late, lost, fine)] == [1, 1, 1]
    assert [fake.deliveries[uid] for uid in (delivered_late, lost, fine)] == [1, 0, 1]
    assert await repos.outbox.counts("reminder", 1) == {
        "pending": 0, "sending": 0, "sent": 1, "blocked": 0, "failed": 0, "uncertain": 2,
        "cancelled": 0, "expired": 0,
    }


async def test_polling_outlives_a_failing_bot_api(dp: Dispatcher, bot: Bot, fake: FakeBotAPI) -> None:
    """getUpdates itself fails twice (502): polling backs off and goes on; the next message is answered."""
    fake.fail("getUpdates", 502, times=2)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        anna = TgUser(PollDriver(fake, timeout=30), ANNA, "Anna", language_code="en")
        await anna.send("/help")
        assert anna.last_text is not None and anna.last_text.startswith("Nastavnik runs")
    finally:
        await stop_polling(dp, task)
    assert [c.status for c in fake.calls_of("getUpdates")][:3] == [502, 502, 200]
    assert fake.deliveries[ANNA] == 1
