"""Users: the technical record of who talks to the bot."""

from __future__ import annotations

from storage.db import Database, utcnow
from storage.models import User
from storage.repos._convert import parse_ts, ts


class UserRepo:
    """Users and their language."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> User | None:
        """The user, if the bot has met them."""
        row = await self.db.fetchone(
            "SELECT id, locale, tg_locale, blocked_at FROM users WHERE id = ?", (user_id,)
        )
        if row is None:
            return None
        return User(row["id"], row["locale"], row["tg_locale"], parse_ts(row["blocked_at"]))

    async def seen(self, user_id: int, tg_locale: str | None) -> User:
        """The user on contact: created if new, Telegram's language refreshed, unblocked."""
        user = await self.get(user_id)
        if user is None:
            await self.db.execute(
                "INSERT OR IGNORE INTO users (id, tg_locale, created_at) VALUES (?, ?, ?)",
                (user_id, tg_locale, ts(utcnow())),
            )
            return User(user_id, None, tg_locale, None)
        if user.tg_locale != tg_locale or user.blocked_at is not None:
            await self.db.execute(
                "UPDATE users SET tg_locale = ?, blocked_at = NULL WHERE id = ?", (tg_locale, user_id)
            )
            return User(user_id, user.locale, tg_locale, None)
        return user

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        """Remember the language the user picked (None: follow Telegram's)."""
        await self.db.execute("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))

    async def mark_blocked(self, user_id: int) -> None:
        """The messenger refused delivery: the user blocked the bot."""
        await self.db.execute("UPDATE users SET blocked_at = ? WHERE id = ?", (ts(utcnow()), user_id))
