"""Factories shared by production and tests: the bot, the dispatcher, the scheduler."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import UserLocaleMiddleware
from bot.messenger import KeepResponseModels, RetryRequests, set_default_menus
from bot.middlewares import DeduplicateMiddleware, UserMiddleware
from bot.outbox import Outbox
from dialogs.schema import Registry
from handlers import get_routers
from handlers.announcements import ANNOUNCEMENT_KIND, report_when_delivered
from handlers.completion import retention_sweep
from handlers.digest_compose import run_digests
from handlers.surveys import survey_sweep
from handlers.sweeps import sweep
from storage.db import Database, utcnow
from storage.fsm import SQLiteStorage
from storage.repos import Repositories

logger = logging.getLogger(__name__)

UPDATE_CLAIMS_KEPT = timedelta(days=2)
SWEEP_MINUTES = 5  # late and stuck pairs
DIGEST_MINUTES = 5  # coordinators' digests that became due
OUTBOX_WAKE_SECONDS = 30  # reminders become due between two new messages
RETENTION_HOURS = 24  # personal data of closed programmes past their retention is deleted daily


def create_bot(settings: Settings) -> Bot:
    """A bot talking to the configured Bot API server (Telegram's, self-hosted or an emulator)."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.bot_api_base_url), proxy=settings.proxy_url
    )
    session.middleware(KeepResponseModels())
    session.middleware(RetryRequests())  # flood limits and server errors of replies are tried again
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=None, link_preview_is_disabled=True),
    )


def create_dispatcher(
    settings: Settings,
    db: Database,
    i18n: I18n,
    questionnaires: Registry,
    events_isolation: BaseEventIsolation | None = None,
    clock: Clock | None = None,
) -> Dispatcher:
    """The dispatcher with its storage, middlewares, routers and injected dependencies; `clock` is the
    time schedules run on (tests pass a ManualClock)."""
    repos = Repositories(db)
    clock = clock or Clock()
    outbox = Outbox(repos, settings, i18n, hooks={ANNOUNCEMENT_KIND: report_when_delivered}, clock=clock)
    dp = Dispatcher(
        storage=SQLiteStorage(db),
        events_isolation=events_isolation or SimpleEventIsolation(),
        settings=settings,
        repos=repos,
        questionnaires=questionnaires,
        i18n=i18n,
        outbox=outbox,
        clock=clock,
    )
    dp.update.outer_middleware(DeduplicateMiddleware(repos))
    dp.update.outer_middleware(UserMiddleware(repos))
    UserLocaleMiddleware(i18n).setup(dp)
    dp.include_routers(*get_routers())
    dp.startup.register(_on_startup)
    dp.startup.register(outbox.on_startup)
    dp.shutdown.register(outbox.on_shutdown)
    return dp


async def _on_startup(bot: Bot, i18n: I18n) -> None:
    """Announce the default command menus."""
    await set_default_menus(bot, i18n)
    me = await bot.me()
    logger.info("started as @%s", me.username)


def _stops_quietly(job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """A job cancelled because the process is stopping (its open transaction already rolled back) ends
    with a line in the log, not a traceback: it runs again after the restart."""

    @functools.wraps(job)
    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            logger.info("job %s stopped by the shutdown; it runs again after the restart", job.__name__)

    return run


def create_scheduler(
    repos: Repositories, i18n: I18n | None = None, clock: Clock | None = None, outbox: Outbox | None = None,
    questionnaires: Registry | None = None,
) -> AsyncIOScheduler:
    """Background jobs: pruning of old update claims; with the dispatcher's i18n, clock and outbox, the
    sweep for late and stuck pairs (`handlers.sweeps`), the digests, the daily retention job
    (`handlers.completion`), the surveys' invitations and reminders
    (`handlers.surveys`, with the questionnaires) and the outbox's wake-up, so that reminders written in the
    database are sent when due. The jobs only wake the sender; what is due is in the outbox."""
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def prune_update_claims() -> None:
        removed = await repos.updates.prune(utcnow() - UPDATE_CLAIMS_KEPT)
        logger.debug("pruned %s old update claims", removed)

    scheduler.add_job(_stops_quietly(prune_update_claims), "interval", hours=6, next_run_time=utcnow())
    if outbox is not None:
        scheduler.add_job(outbox.wake, "interval", seconds=OUTBOX_WAKE_SECONDS, coalesce=True)
    if i18n is not None and outbox is not None:
        job_clock = clock or Clock()

        async def run_sweep() -> None:
            await sweep(repos, i18n, job_clock)
            outbox.wake()

        scheduler.add_job(_stops_quietly(run_sweep), "interval", minutes=SWEEP_MINUTES,
                          next_run_time=utcnow(), coalesce=True, max_instances=1)

        async def run_digest_job() -> None:
            if await run_digests(repos, i18n, job_clock):
                outbox.wake()

        scheduler.add_job(_stops_quietly(run_digest_job), "interval", minutes=DIGEST_MINUTES,
                          next_run_time=utcnow(), coalesce=True, max_instances=1)
        async def run_retention_job() -> None:
            await retention_sweep(repos, job_clock)

        scheduler.add_job(_stops_quietly(run_retention_job), "interval", hours=RETENTION_HOURS,
                          next_run_time=utcnow(), coalesce=True, max_instances=1)
        if questionnaires is not None:
            async def run_survey_job() -> None:
                found = await survey_sweep(repos, i18n, questionnaires, job_clock)
                if found.invited or found.reminded:
                    outbox.wake()

            scheduler.add_job(_stops_quietly(run_survey_job), "interval", minutes=SWEEP_MINUTES,
                              next_run_time=utcnow(), coalesce=True, max_instances=1)
    return scheduler
