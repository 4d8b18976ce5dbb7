"""Placeholder router, filled in by the work on issue 4."""

from __future__ import annotations

from aiogram import Router


def router() -> Router:
    """The routes of this area."""
    return Router(name="meeting_admin")
