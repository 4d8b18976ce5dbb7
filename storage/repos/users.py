"""Users: the technical record of who talks to the bot."""

from __future__ import annotations

from storage.db import Database, utcnow
from storage.models import User
from storage.repos._convert import parse_ts, ts


class UserRepo:
    """Users and their chosen language."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> User | None:
        """The user, if the bot has met them."""
        row = await self.db.fetchone(
            "SELECT id, locale, blocked_at FROM users WHERE id = ?", (user_id,)
        )
        return User(row["id"], row["locale"], parse_ts(row["blocked_at"])) if row else None

    async def ensure(self, user_id: int) -> User:
        """The user, created on first contact; a returning user is no longer marked blocked."""
        user = await self.get(user_id)
        if user is None:
            await self.db.execute(
                "INSERT OR IGNORE INTO users (id, created_at) VALUES (?, ?)",
                (user_id, ts(utcnow())),
            )
            return User(user_id, None, None)
        if user.blocked_at is not None:
            await self.db.execute("UPDATE users SET blocked_at = NULL WHERE id = ?", (user_id,))
            return User(user_id, user.locale, None)
        return user

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        """Remember the language the user picked (None: follow Telegram's)."""
        await self.db.execute("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))

    async def mark_blocked(self, user_id: int) -> None:
        """The messenger refused delivery: the user blocked the bot."""
        await self.db.execute(
            "UPDATE users SET blocked_at = ? WHERE id = ?", (ts(utcnow()), user_id)
        )
