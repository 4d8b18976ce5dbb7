"""Shared fixtures: real settings, database, catalogues, questionnaires, fake Bot API and dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n

from bot.app import create_bot, create_dispatcher
from bot.clock import Clock, ManualClock
from bot.config import Settings
from bot.i18n import create_i18n
from bot.outbox import Outbox
from dialogs.schema import Registry, load_registry
from storage.db import Database
from storage.repos import Repositories
from tests.client import FeedDriver, TgUser
from tests.fakeapi import FakeBotAPI

ADMIN_ID = 1000
TOKEN = "4242:TEST-token"


@pytest.fixture(scope="session")
def i18n() -> I18n:
    """The real catalogues, compiled from the committed .po files as at start-up."""
    return create_i18n("ru")


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The real questionnaires."""
    return load_registry()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API server on a random loopback port."""
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeBotAPI) -> Settings:
    """Settings as a school would set them, pointing at the fake server."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        bot_api_base_url=fake.base_url,
        database_path=tmp_path / "bot.sqlite3",
        admin_ids=frozenset({ADMIN_ID}),
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A fresh, migrated database file."""
    database = await Database.open(settings.database_path)
    yield database
    await database.close()


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Bot]:
    """The real bot with aiogram's real HTTP session, talking to the fake server."""
    instance = create_bot(settings)
    yield instance
    await instance.session.close()


@pytest.fixture
def clock() -> Clock:
    """The time the bot's schedules run on: the real one. Tests of schedules override this fixture with
    `manual_clock()` and move it by hand."""
    return Clock()


def manual_clock() -> ManualClock:
    """A clock for simulated time, starting at the real now."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def dp(
    settings: Settings, db: Database, i18n: I18n, registry: Registry, bot: Bot, clock: Clock
) -> AsyncIterator[Dispatcher]:
    """A dispatcher built exactly as in production (but on the test's clock), with its outbox sender
    running as in polling."""
    dispatcher = create_dispatcher(settings, db, i18n, registry, clock=clock)
    await dispatcher["outbox"].start(bot)
    yield dispatcher
    await dispatcher["outbox"].stop()


@pytest.fixture
def fast_outbox(dp: Dispatcher) -> Outbox:
    """The outbox without the pause between two messages to one chat, for tests that send many messages
    to one person and do not test Telegram's limits (the fake server enforces them only when asked)."""
    dp["outbox"].chat_interval = 0.0
    return dp["outbox"]


@pytest.fixture
def repos(dp: Dispatcher) -> Repositories:
    """The dispatcher's repositories."""
    return dp["repos"]


UserFactory = Callable[..., TgUser]


@pytest.fixture
def make_user(dp: Dispatcher, bot: Bot, fake: FakeBotAPI) -> UserFactory:
    """People who talk to the bot through the real dispatcher: `make_user(id, "Anna", "ru")`."""
    driver = FeedDriver(dp, bot, fake)

    def factory(user_id: int, first_name: str = "Anna", language_code: str = "ru", **extra: str) -> TgUser:
        return TgUser(driver, user_id, first_name=first_name, language_code=language_code, **extra)

    return factory


async def startup(dp: Dispatcher, bot: Bot) -> None:
    """Run the dispatcher's start-up hooks (command menus) as polling would."""
    await dp.emit_startup(bot=bot, **dp.workflow_data)

