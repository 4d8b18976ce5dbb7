"""Nastavnik: a Telegram bot that runs school mentoring programmes."""
