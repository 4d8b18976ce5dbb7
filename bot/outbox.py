"""The sender of the outbox: one task per process that sends queued messages within Telegram's limits.

Limits: `settings.outbox_rate` messages a second overall, one message every
`settings.outbox_chat_interval` seconds to a chat, a chat's messages in the order they were queued.
A message is claimed ('sending') in the database before the HTTP call and marked after it; rows a dead
process left 'sending' become 'uncertain' at start-up and are never sent again: at most once, always.

Outcomes: `RetryAfter` → the chat and everyone wait the given seconds, then the message is tried again;
5xx and network errors other than a timeout (a refused or timed-out connection, a connection the server
dropped) → tried again after a back-off, 'failed' after `MAX_ATTEMPTS`; 403 → 'blocked' and the user
marked as having blocked the bot; any other refusal (400...) → 'failed' with the error.

A timeout — the request went out, no answer came within the session's timeout (aiogram's 60 s) — makes the
message 'uncertain', like one a dead process left 'sending': Telegram may well have delivered it and there
is no way to ask. Retrying (at least once) would send a second copy whenever it did; at most once loses it
when it did not, and says so: the coordinator's report counts it among those not delivered. A school would
rather have that than parents and pupils receiving the same announcement or reminder twice whenever
Telegram is slow, so: at most once, always.

Other areas hook into completion: `Outbox(..., hooks={"announcement": fn})` calls `fn(repos, i18n, ref)`
when the last message of that kind and ref is done (it may be called more than once: be idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiohttp import ConnectionTimeoutError

from bot.clock import Clock
from bot.config import Settings
from bot.messenger import own_retries
from storage.models import OutboxItem
from storage.repos import Repositories

logger = logging.getLogger(__name__)

CompletionHook = Callable[[Repositories, I18n, int], Awaitable[None]]

MAX_ATTEMPTS = 4  # network errors and 5xx: the first try and three more
RETRY_DELAYS = (2.0, 10.0, 30.0)  # seconds before the 2nd, 3rd, 4th try
BATCH = 500  # due rows looked at per round
MAX_IN_FLIGHT = 50
CATCH_UP = 1  # send slots a late sender may take at once: at most rate + CATCH_UP sends in any second


def answer_lost(exc: TelegramNetworkError) -> bool:
    """Whether the request may have reached Telegram and only its answer was lost: a timeout after the
    connection was made (aiogram raises TelegramNetworkError from the aiohttp/asyncio timeout)."""
    cause = exc.__cause__
    return isinstance(cause, TimeoutError) and not isinstance(cause, ConnectionTimeoutError)


class Outbox:
    """The process's sender. `start(bot)` on start-up, `stop()` on shutdown, `wake()` after enqueueing."""

    def __init__(
        self,
        repos: Repositories,
        settings: Settings,
        i18n: I18n,
        hooks: Mapping[str, CompletionHook] | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        clock: Clock | None = None,
    ) -> None:
        self.repos = repos
        self.clock = clock or Clock()
        self.i18n = i18n
        self.hooks = dict(hooks or {})
        self.retry_delays = tuple(retry_delays)
        self.interval = 1.0 / settings.outbox_rate
        self.chat_interval = settings.outbox_chat_interval
        self.poll_seconds = settings.outbox_poll_seconds
        self._bot: Bot | None = None
        self._task: asyncio.Task[None] | None = None
        self._event = asyncio.Event()
        self._stopping = False
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # chat id → its one send
        self._chat_free_at: dict[int, float] = {}  # chat id → monotonic time it may get the next
        self._next_slot = 0.0  # monotonic time of the next global send slot
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    # ----------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        """Whether the sender task is alive."""
        return self._task is not None and not self._task.done()

    async def start(self, bot: Bot) -> None:
        """Turn rows a dead process left 'sending' into 'uncertain', then start sending (idempotent)."""
        if self.running:
            return
        self._bot = bot
        self._stopping = False
        touched = await self.repos.outbox.recover()
        if touched:
            logger.warning("outbox: messages left 'sending' by a stopped process marked uncertain: %s",
                           touched)
        for kind, ref in touched:
            await self._check_complete(kind, ref)
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Stop taking new messages, let sends in flight finish (up to `timeout` s), stop the task."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        pending = list(self._in_flight.values())
        if pending:
            _done, late = await asyncio.wait(pending, timeout=timeout)
            for task in late:
                task.cancel()  # its row stays 'sending' and becomes 'uncertain' at the next start
            await asyncio.gather(*late, return_exceptions=True)

    async def on_startup(self, bot: Bot) -> None:
        """The dispatcher's start-up hook."""
        await self.start(bot)

    async def on_shutdown(self) -> None:
        """The dispatcher's shutdown hook."""
        await self.stop()

    def wake(self) -> None:
        """Look at the queue now (call after enqueueing)."""
        self._event.set()

    # ----------------------------------------------------------------- the loop

    async def _run(self) -> None:
        while not self._stopping:
            try:
                dispatched, wait = await self._round()
            except Exception:
                logger.exception("outbox: a round of sending failed")
                dispatched, wait = 0, self.poll_seconds
            if not dispatched:
                await self._idle(wait)

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), max(seconds, 0.01))
        self._event.clear()

    async def _round(self) -> tuple[int, float]:
        """Send what may be sent now; return how many were started and how long to wait otherwise."""
        items = await self.repos.outbox.due(self.clock.now(), BATCH)
        held: set[int] = set()  # chats whose earlier message is waiting or in flight: keep their order
        wait = self.poll_seconds
        dispatched = 0
        for item in items:
            if self._stopping:
                break
            if item.expires_at is not None and self.clock.now() >= item.expires_at:
                await self.repos.outbox.expire(item.id)
                continue
            chat = item.user_id
            now = time.monotonic()
            free_at = self._chat_free_at.get(chat, 0.0)
            if chat in held or chat in self._in_flight or free_at > now:
                held.add(chat)
                if chat not in self._in_flight:
                    wait = min(wait, free_at - now)
                continue
            await self._pace()
            # A free slot first, then the claim: a row is 'sending' only while its request is about to go
            # out, so a kill makes 'uncertain' only what may in fact have been sent.
            await self._slots.acquire()
            claimed = None if self._stopping else await self.repos.outbox.claim(item.id)
            if claimed is None:
                self._slots.release()
                continue
            held.add(chat)
            self._chat_free_at[chat] = time.monotonic() + self.chat_interval
            task = asyncio.create_task(self._send(claimed), name=f"outbox-{item.id}")
            self._in_flight[chat] = task
            dispatched += 1
        return dispatched, wait

    async def _pace(self) -> None:
        """Wait for the next global send slot. Slots keep to a fixed grid of `interval` (a token bucket of
        CATCH_UP + 1): a sleep that wakes late or a slow claim does not push every later slot back, so over
        a fan-out the rate is the configured one, not a little less."""
        now = time.monotonic()
        slot = max(self._next_slot, now - CATCH_UP * self.interval)
        self._next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def _pause_all(self, seconds: float) -> None:
        self._next_slot = max(self._next_slot, time.monotonic() + seconds)

    # ----------------------------------------------------------------- one message

    async def _send(self, item: OutboxItem) -> None:
        own_retries.set(True)  # this task's requests: no retries by the session, the outbox decides
        try:
            await self._deliver(item)
        except Exception:
            logger.exception("outbox: message %s (%s/%s) to chat %s: unexpected error",
                             item.id, item.kind, item.ref, item.user_id)
        finally:
            self._in_flight.pop(item.user_id, None)
            self._slots.release()
            self.wake()

    async def _deliver(self, item: OutboxItem) -> None:
        assert self._bot is not None
        outbox = self.repos.outbox
        what = f"message {item.id} ({item.kind}/{item.ref}) to chat {item.user_id}"
        try:
            markup = InlineKeyboardMarkup.model_validate_json(item.markup) if item.markup else None
            if item.file_data is not None:
                document = BufferedInputFile(item.file_data, filename=item.file_name or "file")
                await self._bot.send_document(item.user_id, document, caption=item.text, reply_markup=markup)
            else:
                await self._bot.send_message(item.user_id, item.text, reply_markup=markup)
        except TelegramRetryAfter as exc:
            logger.warning("outbox: flood limit on %s: everyone waits %s s", what, exc.retry_after)
            self._chat_free_at[item.user_id] = time.monotonic() + exc.retry_after + self.chat_interval
            self._pause_all(exc.retry_after)
            not_before = self.clock.now() + timedelta(seconds=exc.retry_after)
            await outbox.retry_later(item.id, not_before, exc.message, count_attempt=False)
            return
        except TelegramForbiddenError as exc:
            logger.info("outbox: %s: the user blocked the bot", what)
            await self.repos.users.mark_blocked(item.user_id)
            await self._finish(item, "blocked", exc.message)
            return
        except (TelegramBadRequest, TelegramEntityTooLarge) as exc:
            logger.error("outbox: %s refused: %s", what, exc.message)
            await self._finish(item, "failed", exc.message)
            return
        except TelegramNetworkError as exc:
            if answer_lost(exc):
                logger.warning("outbox: %s: no answer in time, maybe delivered: not sent again", what)
                await self._finish(item, "uncertain", f"no answer: {exc.message}")
                return
            await self._retry_or_fail(item, what, f"{type(exc).__name__}: {exc.message}")
            return
        except TelegramServerError as exc:
            await self._retry_or_fail(item, what, f"{type(exc).__name__}: {exc.message}")
            return
        except TelegramAPIError as exc:
            logger.error("outbox: %s failed: %s", what, exc.message)
            await self._finish(item, "failed", exc.message)
            return
        await self._finish(item, "sent")

    async def _retry_or_fail(self, item: OutboxItem, what: str, error: str) -> None:
        attempt = item.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            logger.error("outbox: %s failed after %s attempts: %s", what, attempt, error)
            await self._finish(item, "failed", error)
            return
        delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
        logger.warning("outbox: %s: %s; attempt %s, next in %s s", what, error, attempt, delay)
        await self.repos.outbox.retry_later(item.id, self.clock.now() + timedelta(seconds=delay), error)

    async def _finish(self, item: OutboxItem, status: str, error: str | None = None) -> None:
        await self.repos.outbox.finish(item.id, status, error)
        if item.ref is not None:
            await self._check_complete(item.kind, item.ref)

    async def _check_complete(self, kind: str, ref: int | None) -> None:
        """Call the kind's hook once nothing of (kind, ref) is pending or being sent."""
        hook = self.hooks.get(kind)
        if hook is None or ref is None or await self.repos.outbox.unfinished(kind, ref):
            return
        try:
            await hook(self.repos, self.i18n, ref)
        except Exception:
            logger.exception("outbox: the completion hook of %s/%s failed", kind, ref)
        self.wake()
