"""Meetings, their settings and holidays; every change writes its messages (notices, reminders, prompts) to
the outbox in the same transaction, so a meeting and its reminders never disagree."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time
from typing import Any

import aiosqlite

from dialogs.meeting_plan import STEPS, MeetingSettings
from storage.db import Database, utcnow
from storage.models import Meeting, MeetingStatus, MeetingTimes, OutboxMessage
from storage.repos._convert import parse_ts, ts
from storage.repos.outbox import OutboxRepo

Compose = Callable[[Meeting], Awaitable[Sequence[OutboxMessage]]]

# The outbox kinds that belong to a meeting's current time and die with it when it moves or is cancelled.
TIMED_KINDS = ("reminder", "log_prompt")
# The outbox kind of the late-and-stuck nudges about a pair (ref = the pair): scheduling the pair's next
# meeting makes those still waiting (e.g. for the end of quiet hours) pointless, so they are cancelled.
LATE_KIND = "late"
GOAL_STATUSES = ("not_started", "in_progress", "achieved")
FIT_ANSWERS = ("good", "unsure", "bad")


class StaleMeeting(Exception):
    """The meeting is no longer in the state the action expects (moved, logged or cancelled meanwhile)."""


def _meeting(r: Any) -> Meeting:
    return Meeting(
        r["id"], r["programme_id"], r["pair_id"], r["step"], parse_ts(r["starts_at"]),  # type: ignore[arg-type]
        r["minutes"], r["place"], bool(r["online"]), MeetingStatus(r["status"]), r["version"],
        parse_ts(r["logged_at"]), r["held_minutes"], tuple(json.loads(r["activities"] or "[]")), r["notes"],
        r["not_held_reason"],
    )


def _hm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class MeetingRepo:
    """Meetings of pairs and programmes."""

    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    # --- settings and holidays -------------------------------------------------------------------------

    async def settings(self, programme_id: int) -> MeetingSettings:
        """The programme's meeting settings with its holidays (the defaults when never changed)."""
        row = await self.db.fetchone("SELECT * FROM meeting_settings WHERE programme_id = ?", (programme_id,))
        holidays = tuple((first, last) for _id, first, last in await self.holidays(programme_id))
        if row is None:
            return MeetingSettings(programme_id, holidays=holidays)
        return MeetingSettings(
            programme_id, tuple(json.loads(row["steps"])), row["cadence_days"],
            tuple(json.loads(row["reminder_minutes"])), _hm(row["quiet_start"]), _hm(row["quiet_end"]),
            row["schedule_within_days"], row["inactivity_days"], bool(row["notify_parents"]), holidays,
        )

    async def save_settings(self, settings: MeetingSettings, by: int) -> None:
        """Store the programme's meeting settings (holidays are kept apart)."""
        await self.db.execute(
            "INSERT INTO meeting_settings (programme_id, steps, cadence_days, reminder_minutes, quiet_start, "
            "quiet_end, schedule_within_days, inactivity_days, notify_parents, updated_by, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (programme_id) DO UPDATE SET "
            "steps = excluded.steps, cadence_days = excluded.cadence_days, "
            "reminder_minutes = excluded.reminder_minutes, quiet_start = excluded.quiet_start, "
            "quiet_end = excluded.quiet_end, schedule_within_days = excluded.schedule_within_days, "
            "inactivity_days = excluded.inactivity_days, notify_parents = excluded.notify_parents, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (settings.programme_id, json.dumps(list(settings.steps)), settings.cadence_days,
             json.dumps(sorted(set(settings.reminder_minutes), reverse=True)),
             settings.quiet_start.strftime("%H:%M"), settings.quiet_end.strftime("%H:%M"),
             settings.schedule_within_days, settings.inactivity_days, int(settings.notify_parents), by,
             ts(utcnow())),
        )

    async def holidays(self, programme_id: int) -> list[tuple[int, date, date]]:
        """(id, first day, last day) of the programme's holidays, in date order."""
        rows = await self.db.fetchall(
            "SELECT id, first_day, last_day FROM holidays WHERE programme_id = ? ORDER BY first_day, id",
            (programme_id,),
        )
        return [
            (r["id"], date.fromisoformat(r["first_day"]), date.fromisoformat(r["last_day"])) for r in rows
        ]

    async def add_holiday(self, programme_id: int, first: date, last: date) -> int:
        """Add holidays (inclusive dates); their id."""
        if last < first:
            raise ValueError("holidays end before they start")
        return await self.db.execute(
            "INSERT INTO holidays (programme_id, first_day, last_day, created_at) VALUES (?, ?, ?, ?)",
            (programme_id, first.isoformat(), last.isoformat(), ts(utcnow())),
        )

    async def remove_holiday(self, programme_id: int, holiday_id: int) -> bool:
        """Remove holidays of this programme; False when there is no such row."""
        async with self.db.transaction() as conn, conn.execute(
            "DELETE FROM holidays WHERE id = ? AND programme_id = ?", (holiday_id, programme_id)
        ) as cur:
            return cur.rowcount == 1

    # --- meetings ---------------------------------------------------------------------------------------

    async def get(self, meeting_id: int) -> Meeting | None:
        """One meeting."""
        row = await self.db.fetchone("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
        return _meeting(row) if row else None

    async def of_pair(self, pair_id: int) -> list[Meeting]:
        """A pair's meetings, oldest first (cancelled ones included)."""
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE pair_id = ? ORDER BY starts_at, id", (pair_id,)
        )
        return [_meeting(r) for r in rows]

    async def scheduled_of_pair(self, pair_id: int) -> Meeting | None:
        """The pair's scheduled (not yet logged) meeting, if any: a pair has at most one at a time."""
        row = await self.db.fetchone(
            "SELECT * FROM meetings WHERE pair_id = ? AND status = 'scheduled' ORDER BY starts_at LIMIT 1",
            (pair_id,),
        )
        return _meeting(row) if row else None

    async def group_finals(self, programme_id: int) -> list[Meeting]:
        """The programme's group final meetings (not cancelled)."""
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE programme_id = ? AND pair_id IS NULL AND status != 'cancelled' "
            "ORDER BY starts_at",
            (programme_id,),
        )
        return [_meeting(r) for r in rows]

    async def schedule(
        self, programme_id: int, pair_id: int | None, step: str, starts_at: datetime, minutes: int,
        place: str, online: bool, by: int, compose: Compose,
    ) -> Meeting:
        """A new meeting and its messages, in one transaction. A pair has one scheduled meeting at a time:
        StaleMeeting when it already has one."""
        if step not in (*STEPS, "group_final"):
            raise ValueError(f"unknown step {step!r}")
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            if pair_id is not None:
                async with conn.execute(
                    "SELECT 1 FROM meetings WHERE pair_id = ? AND status = 'scheduled'", (pair_id,)
                ) as cur:
                    if await cur.fetchone() is not None:
                        raise StaleMeeting
            if pair_id is not None:
                await self.outbox.cancel(conn, (LATE_KIND,), pair_id)
            async with conn.execute(
                "INSERT INTO meetings (programme_id, pair_id, step, starts_at, minutes, place, online, "
                "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (programme_id, pair_id, step, ts(starts_at), minutes, place, int(online), by, now, now),
            ) as cur:
                meeting_id = int(cur.lastrowid or 0)
            meeting = await self._in(conn, meeting_id)
            await self.outbox.enqueue(await compose(meeting), conn)
        return meeting

    async def move(
        self, meeting_id: int, version: int, starts_at: datetime, minutes: int, place: str, online: bool,
        compose: Compose,
    ) -> Meeting:
        """Move a scheduled meeting (its version must still be `version`): the old reminders and prompts are
        cancelled and the new ones written, with the notices, in one transaction."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE meetings SET starts_at = ?, minutes = ?, place = ?, online = ?, "
                "version = version + 1, updated_at = ? WHERE id = ? AND version = ? AND status = 'scheduled'",
                (ts(starts_at), minutes, place, int(online), ts(utcnow()), meeting_id, version),
            ) as cur:
                if cur.rowcount != 1:
                    raise StaleMeeting
            await self.outbox.cancel(conn, TIMED_KINDS, meeting_id)
            meeting = await self._in(conn, meeting_id)
            await self.outbox.enqueue(await compose(meeting), conn)
        return meeting

    async def cancel(self, meeting_id: int, version: int, compose: Compose) -> Meeting:
        """Cancel a scheduled meeting with its reminders; the notices in the same transaction."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE meetings SET status = 'cancelled', updated_at = ? WHERE id = ? AND version = ? "
                "AND status = 'scheduled'",
                (ts(utcnow()), meeting_id, version),
            ) as cur:
                if cur.rowcount != 1:
                    raise StaleMeeting
            await self.outbox.cancel(conn, TIMED_KINDS, meeting_id)
            meeting = await self._in(conn, meeting_id)
            await self.outbox.enqueue(await compose(meeting), conn)
        return meeting

    async def log(
        self, meeting_id: int, version: int, *, held: bool, minutes: int | None = None,
        activities: Sequence[str] = (), notes: str | None = None, reason: str | None = None,
        goals: Sequence[str] = (), progress: dict[int, str] | None = None, compose: Compose,
    ) -> Meeting:
        """Log a scheduled meeting as held (duration, what was done, new goals at the planning meeting,
        progress on goals) or not held (reason); pending prompts of it are cancelled and the follow-up
        messages (feedback, fit check, next step) written, all in one transaction."""
        progress = progress or {}
        if any(status not in GOAL_STATUSES for status in progress.values()):
            raise ValueError("unknown goal status")
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE meetings SET status = ?, logged_at = ?, held_minutes = ?, activities = ?, notes = ?, "
                "not_held_reason = ?, updated_at = ? WHERE id = ? AND version = ? AND status = 'scheduled'",
                ("held" if held else "not_held", now, minutes if held else None,
                 json.dumps(list(activities)) if held else None, notes if held else None,
                 None if held else reason, now, meeting_id, version),
            ) as cur:
                if cur.rowcount != 1:
                    raise StaleMeeting
            await self.outbox.cancel(conn, TIMED_KINDS, meeting_id)
            meeting = await self._in(conn, meeting_id)
            if held and meeting.pair_id is not None:
                await self._goals(conn, meeting, goals, progress, now)
            await self.outbox.enqueue(await compose(meeting), conn)
        return meeting

    @staticmethod
    async def _goals(conn: aiosqlite.Connection, meeting: Meeting, goals: Sequence[str],
                     progress: dict[int, str], now: str) -> None:
        if goals:
            async with conn.execute(
                "SELECT COALESCE(MAX(position), 0) FROM plan_goals WHERE pair_id = ?", (meeting.pair_id,)
            ) as cur:
                start = (await cur.fetchone())[0]  # type: ignore[index]
            await conn.executemany(
                "INSERT INTO plan_goals (pair_id, position, text, created_at) VALUES (?, ?, ?, ?)",
                [(meeting.pair_id, start + n, text, now) for n, text in enumerate(goals, 1)],
            )
            await conn.execute(
                "UPDATE pair_plans SET agreed_at = COALESCE(agreed_at, ?) WHERE pair_id = ?",
                (now, meeting.pair_id),
            )
        await conn.executemany(
            "INSERT INTO goal_progress (meeting_id, goal_id, status) SELECT ?, id, ? FROM plan_goals "
            "WHERE id = ? AND pair_id = ?",
            [(meeting.id, status, goal_id, meeting.pair_id) for goal_id, status in progress.items()],
        )

    @staticmethod
    async def _in(conn: aiosqlite.Connection, meeting_id: int) -> Meeting:
        async with conn.execute("SELECT * FROM meetings WHERE id = ?", (meeting_id,)) as cur:
            return _meeting(await cur.fetchone())

    # --- goals, feedback, fit checks ----------------------------------------------------------------------

    async def goals(self, pair_id: int) -> list[tuple[int, str, str]]:
        """(goal id, text, latest status) of the pair's personalised programme, in order."""
        rows = await self.db.fetchall(
            "SELECT g.id, g.text, COALESCE((SELECT gp.status FROM goal_progress gp JOIN meetings m "
            "ON m.id = gp.meeting_id WHERE gp.goal_id = g.id ORDER BY m.starts_at DESC, m.id DESC LIMIT 1), "
            "'not_started') AS status FROM plan_goals g WHERE g.pair_id = ? ORDER BY g.position, g.id",
            (pair_id,),
        )
        return [(r["id"], r["text"], r["status"]) for r in rows]

    async def add_feedback(self, meeting_id: int, participant_id: int, usefulness: int,
                           comment: str | None = None) -> bool:
        """A mentee's rating of a meeting (1–5) and optional comment; False if already given (a comment
        may be added once after the rating)."""
        if not 1 <= usefulness <= 5:
            raise ValueError("usefulness is 1 to 5")
        async with self.db.transaction() as conn, conn.execute(
            "INSERT INTO meeting_feedback (meeting_id, participant_id, usefulness, comment, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (meeting_id, participant_id, usefulness, comment, ts(utcnow())),
        ) as cur:
            return cur.rowcount == 1

    async def comment_feedback(self, meeting_id: int, participant_id: int, comment: str) -> bool:
        """Add the comment to a rating given without one."""
        async with self.db.transaction() as conn, conn.execute(
            "UPDATE meeting_feedback SET comment = ? WHERE meeting_id = ? AND participant_id = ? "
            "AND comment IS NULL",
            (comment, meeting_id, participant_id),
        ) as cur:
            return cur.rowcount == 1

    async def feedback(self, meeting_id: int) -> list[tuple[int, int, str | None]]:
        """(participant id, usefulness, comment) of a meeting's feedback."""
        rows = await self.db.fetchall(
            "SELECT participant_id, usefulness, comment FROM meeting_feedback WHERE meeting_id = ? "
            "ORDER BY participant_id",
            (meeting_id,),
        )
        return [(r["participant_id"], r["usefulness"], r["comment"]) for r in rows]

    async def answer_fit(self, pair_id: int, participant_id: int, answer: str,
                         messages: Sequence[OutboxMessage] = ()) -> bool:
        """A side's private answer whether the pair fits (once); the messages (a re-pair request to the
        coordinators) in the same transaction. False if already answered."""
        if answer not in FIT_ANSWERS:
            raise ValueError("unknown answer")
        async with self.db.transaction() as conn:
            async with conn.execute(
                "INSERT INTO fit_checks (pair_id, participant_id, answer, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (pair_id, participant_id, answer, ts(utcnow())),
            ) as cur:
                if cur.rowcount != 1:
                    return False
            await self.outbox.enqueue(messages, conn)
        return True

    async def fit_answers(self, pair_id: int) -> dict[int, str]:
        """participant id → answer of a pair's fit check (for coordinators only)."""
        rows = await self.db.fetchall(
            "SELECT participant_id, answer FROM fit_checks WHERE pair_id = ?", (pair_id,)
        )
        return {r["participant_id"]: r["answer"] for r in rows}

    async def add_move_request(self, meeting_id: int, participant_id: int, text: str,
                               messages: Sequence[OutboxMessage]) -> int:
        """A mentee's request to move a meeting, and the message to the mentor, in one transaction."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "INSERT INTO move_requests (meeting_id, participant_id, text, created_at) "
                "VALUES (?, ?, ?, ?)",
                (meeting_id, participant_id, text, ts(utcnow())),
            ) as cur:
                request_id = int(cur.lastrowid or 0)
            await self.outbox.enqueue(messages, conn)
        return request_id

    # --- the sweep and the coordinator's meetings screen (late and stuck) ----------------------------------

    async def programmes_with_active_pairs(self) -> list[int]:
        """Ids of the programmes that have at least one active pair or group."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT programme_id FROM pairs WHERE status = 'active' ORDER BY programme_id"
        )
        return [int(r[0]) for r in rows]

    async def pairs_with_final_held(self, programme_id: int) -> set[int]:
        """Ids of the programme's pairs whose final meeting was held."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT pair_id FROM meetings WHERE programme_id = ? AND step = 'final' "
            "AND status = 'held' AND pair_id IS NOT NULL",
            (programme_id,),
        )
        return {int(r[0]) for r in rows}

    async def settings_of(self, programme_ids: Sequence[int]) -> dict[int, MeetingSettings]:
        """`settings` of many programmes (with their holidays), in two queries."""
        if not programme_ids:
            return {}
        marks = ", ".join("?" * len(programme_ids))
        ids = tuple(programme_ids)
        holidays: dict[int, list[tuple[date, date]]] = {pid: [] for pid in ids}
        for r in await self.db.fetchall(
            f"SELECT programme_id, first_day, last_day FROM holidays WHERE programme_id IN ({marks}) "
            "ORDER BY first_day, id", ids,
        ):
            holidays[r[0]].append((date.fromisoformat(r[1]), date.fromisoformat(r[2])))
        result = {pid: MeetingSettings(pid, holidays=tuple(holidays[pid])) for pid in ids}
        for row in await self.db.fetchall(
            f"SELECT * FROM meeting_settings WHERE programme_id IN ({marks})", ids
        ):
            pid = row["programme_id"]
            result[pid] = MeetingSettings(
                pid, tuple(json.loads(row["steps"])), row["cadence_days"],
                tuple(json.loads(row["reminder_minutes"])), _hm(row["quiet_start"]), _hm(row["quiet_end"]),
                row["schedule_within_days"], row["inactivity_days"], bool(row["notify_parents"]),
                tuple(holidays[pid]),
            )
        return result

    async def of_active_pairs(self, programme_ids: Sequence[int]) -> dict[int, list[MeetingTimes]]:
        """The meetings (cancelled ones left out) of the programmes' active pairs, by pair, oldest first, in
        one query: `of_pair` of each, with only what the sweep reads."""
        result: dict[int, list[MeetingTimes]] = {}
        if not programme_ids:
            return result
        rows = await self.db.fetchall(
            "SELECT m.id, m.pair_id, m.step, m.starts_at, m.minutes, m.status, m.version FROM pairs p "
            "JOIN meetings m ON m.pair_id = p.id WHERE p.status = 'active' "
            f"AND p.programme_id IN ({', '.join('?' * len(programme_ids))}) AND m.status != 'cancelled' "
            "ORDER BY m.starts_at, m.id",
            tuple(programme_ids),
        )
        statuses = {s.value: s for s in MeetingStatus}
        parse = datetime.fromisoformat
        for mid, pair_id, step, starts_at, minutes, status, version in rows:
            result.setdefault(pair_id, []).append(
                MeetingTimes(mid, pair_id, step, parse(starts_at), minutes, statuses[status], version))
        return result

    async def queued_at_many(self, dedupes: Sequence[str]) -> dict[str, datetime]:
        """`queued_at` of many dedupe keys in one query: those queued, with when they were due to go."""
        if not dedupes:
            return {}
        rows = await self.db.fetchall(
            "SELECT dedupe, not_before FROM outbox WHERE dedupe IN (SELECT value FROM json_each(?))",
            (json.dumps(list(dedupes)),),
        )
        return {r[0]: datetime.fromisoformat(r[1]) for r in rows}

    async def queued_at(self, dedupe: str) -> datetime | None:
        """When the outbox message with this dedupe key was due to go (None if never queued): the sweep
        escalates a nudge some days after the nudge itself."""
        row = await self.db.fetchone("SELECT not_before FROM outbox WHERE dedupe = ?", (dedupe,))
        return parse_ts(row[0]) if row else None

    async def bad_fits(self, programme_id: int) -> list[tuple[int, int, datetime]]:
        """(pair id, participant id, when) of every "not a good fit" answer in the programme's active pairs:
        the re-pair requests, newest first."""
        rows = await self.db.fetchall(
            "SELECT f.pair_id, f.participant_id, f.created_at FROM fit_checks f JOIN pairs p "
            "ON p.id = f.pair_id WHERE p.programme_id = ? AND p.status = 'active' AND f.answer = 'bad' "
            "ORDER BY f.created_at DESC, f.pair_id",
            (programme_id,),
        )
        return [(r[0], r[1], parse_ts(r[2])) for r in rows]  # type: ignore[misc]
