"""The tests import the bot's package first, so aiogram's models are built as in production."""

import bot  # noqa: F401
