"""Nastavnik: a Telegram bot that runs school mentoring programmes."""

from bot.aiogram_models import build_on_first_use

# Before anything else imports aiogram: its models are built when first used (see bot/aiogram_models.py).
build_on_first_use()
