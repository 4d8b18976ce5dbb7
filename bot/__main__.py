"""Entry point: `python -m bot` starts long polling with the SQLite database."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys

from bot.app import create_bot, create_dispatcher, create_scheduler
from bot.config import ConfigError, Settings, load_settings
from bot.i18n import create_i18n
from bot.messenger import build_models
from dialogs.schema import QuestionnaireError, load_registry
from storage.db import Database

logger = logging.getLogger("bot")


async def run(settings: Settings) -> None:
    """Open the database, start the scheduler and poll until SIGINT/SIGTERM."""
    i18n = create_i18n(settings.default_locale)
    questionnaires = load_registry()
    db = await Database.open(settings.database_path)
    bot = create_bot(settings)
    dp = create_dispatcher(settings, db, i18n, questionnaires)
    scheduler = create_scheduler(dp["repos"], i18n, dp["clock"], dp["outbox"], dp["questionnaires"])
    build_models()  # the API methods the bot calls, so that nobody's first tap waits for their models
    # What start-up made (aiogram's models above all: hundreds of thousands of objects) lives as long as the
    # process: the garbage collector need not go through it again on every full collection, which took
    # half of the digest job's time at 1,000 programmes (benchmarks/size.py).
    gc.freeze()
    try:
        scheduler.start()
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        # Jobs still running are cancelled; they roll back their open transactions before the database
        # closes under them (a job cut off mid-transaction would otherwise fail on a closed connection).
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        scheduler.shutdown(wait=False)
        if running:
            await asyncio.wait(running, timeout=10)
        await db.close()
        logger.info("stopped")


def main() -> int:
    """Validate configuration and data, then run; one clear line on a bad start."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(run(settings))
    except QuestionnaireError as exc:
        print(f"Questionnaire error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
