"""Users: the technical record of who talks to the bot."""

from __future__ import annotations

from collections import OrderedDict

from storage.db import Database, utcnow
from storage.models import User
from storage.repos._convert import parse_ts, ts

CACHED_USERS = 10_000  # the most recently seen users are also kept in memory


class UserRepo:
    """Users and their language.

    Only this repository writes the `users` table, so the users seen most recently are kept in memory (shared
    by every repository of the same database connection): knowing who sent an update costs no query."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: OrderedDict[int, User] = db.memo.setdefault("users", OrderedDict())

    async def get(self, user_id: int) -> User | None:
        """The user, if the bot has met them."""
        known = self._known.get(user_id)
        if known is not None:
            self._known.move_to_end(user_id)
            return known
        row = await self.db.fetchone(
            "SELECT id, locale, tg_locale, blocked_at FROM users WHERE id = ?", (user_id,)
        )
        if row is None:
            return None
        user = User(row["id"], row["locale"], row["tg_locale"], parse_ts(row["blocked_at"]))
        self._remember(user)
        return user

    async def seen(self, user_id: int, tg_locale: str | None) -> User:
        """The user on contact: created if new, Telegram's language refreshed, unblocked."""
        user = await self.get(user_id)
        if user is None:
            await self._write(
                user_id, "INSERT OR IGNORE INTO users (id, tg_locale, created_at) VALUES (?, ?, ?)",
                (user_id, tg_locale, ts(utcnow())),
            )
            return User(user_id, None, tg_locale, None)
        if user.tg_locale != tg_locale or user.blocked_at is not None:
            await self._write(
                user_id, "UPDATE users SET tg_locale = ?, blocked_at = NULL WHERE id = ?",
                (tg_locale, user_id),
            )
            return User(user_id, user.locale, tg_locale, None)
        return user

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        """Remember the language the user picked (None: follow Telegram's)."""
        await self._write(user_id, "UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))

    async def mark_blocked(self, user_id: int) -> None:
        """The messenger refused delivery: the user blocked the bot."""
        await self._write(user_id, "UPDATE users SET blocked_at = ? WHERE id = ?", (ts(utcnow()), user_id))

    async def _write(self, user_id: int, sql: str, params: tuple[object, ...]) -> None:
        """Change the user's row; memory forgets them before and after (a read that overlapped the write
        may have kept the old row)."""
        self._known.pop(user_id, None)
        try:
            await self.db.execute(sql, params)
        finally:
            self._known.pop(user_id, None)

    def _remember(self, user: User) -> None:
        self._known[user.id] = user
        self._known.move_to_end(user.id)
        while len(self._known) > CACHED_USERS:
            self._known.popitem(last=False)
