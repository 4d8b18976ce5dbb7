"""Survey rounds of programmes: opened once per (programme, kind, label), invitations queued with them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.db import Database
from storage.models import OutboxMessage, SurveyKind, SurveyRound
from storage.repos._convert import parse_ts, ts
from storage.repos.outbox import OutboxRepo

# Composes, for a round, the invitations: (participant id, the message to them).
Invite = Callable[[SurveyRound], Awaitable[Sequence[tuple[int, OutboxMessage]]]]


@dataclass(frozen=True)
class SurveySettings:
    """A programme's survey settings: feedback during the work and the self-assessment's parameters."""

    programme_id: int
    feedback_every: str = "off"  # off | 2w | 4w | month
    feedback_from: date | None = None  # first day of the first month
    feedback_to: date | None = None  # last day of the last month
    assess_params: tuple[str, ...] | None = None  # None: every parameter


@dataclass(frozen=True)
class Pending:
    """Someone invited to a round still open who has not submitted."""

    round_id: int
    participant_id: int
    user_id: int


def _round(r: Any) -> SurveyRound:
    return SurveyRound(r["id"], r["programme_id"], SurveyKind(r["kind"]), r["label"],
                       parse_ts(r["opened_at"]), parse_ts(r["closes_at"]))  # type: ignore[arg-type]


class SurveyRepo:
    """Survey rounds and who has answered them."""

    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    async def invite(
        self, programme_id: int, kind: SurveyKind, label: str, by: int | None, invite: Invite, now: datetime,
        closes_at: datetime | None = None,
    ) -> tuple[SurveyRound, int]:
        """The round (opened now if it is new) and, in the same transaction, the invitations `invite`
        composes for it; a person already invited to the round is not invited (or messaged) again.
        Returns the round and how many were newly invited. `now` is the schedule's clock (reminders count
        from it)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO survey_rounds (programme_id, kind, label, opened_at, opened_by, "
                "closes_at) VALUES (?, ?, ?, ?, ?, ?)",
                (programme_id, kind.value, label, ts(now), by, ts(closes_at) if closes_at else None),
            )
            async with conn.execute(
                "SELECT * FROM survey_rounds WHERE programme_id = ? AND kind = ? AND label = ?",
                (programme_id, kind.value, label),
            ) as cur:
                found = _round(await cur.fetchone())
            messages = []
            for participant_id, message in await invite(found):
                async with conn.execute(
                    "INSERT OR IGNORE INTO survey_invitations (round_id, participant_id, invited_at) "
                    "VALUES (?, ?, ?)",
                    (found.id, participant_id, ts(now)),
                ) as cur:
                    if cur.rowcount == 1:
                        messages.append(message)
            await self.outbox.enqueue(messages, conn)
        return found, len(messages)

    async def get(self, round_id: int) -> SurveyRound | None:
        """One round."""
        row = await self.db.fetchone("SELECT * FROM survey_rounds WHERE id = ?", (round_id,))
        return _round(row) if row else None

    async def of_programme(self, programme_id: int) -> list[SurveyRound]:
        """A programme's rounds, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM survey_rounds WHERE programme_id = ? ORDER BY opened_at, id", (programme_id,)
        )
        return [_round(r) for r in rows]

    async def invited(self, round_id: int) -> dict[int, datetime]:
        """participant id → when they were invited to the round."""
        rows = await self.db.fetchall(
            "SELECT participant_id, invited_at FROM survey_invitations WHERE round_id = ?", (round_id,)
        )
        return {r["participant_id"]: parse_ts(r["invited_at"]) for r in rows}  # type: ignore[misc]

    async def is_invited(self, round_id: int, participant_id: int) -> bool:
        """Whether the participant was asked to answer the round."""
        row = await self.db.fetchone(
            "SELECT 1 FROM survey_invitations WHERE round_id = ? AND participant_id = ?",
            (round_id, participant_id),
        )
        return row is not None

    async def submitted(self, round_id: int) -> set[int]:
        """Participant ids who submitted their answers to a round."""
        rows = await self.db.fetchall(
            "SELECT participant_id FROM responses WHERE round_id = ? AND status = 'submitted'", (round_id,)
        )
        return {r["participant_id"] for r in rows}

    async def programmes_awaiting_answers(self) -> list[int]:
        """Programmes with invitations not yet answered (a closed programme's end surveys among them)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT r.programme_id FROM survey_invitations i "
            "JOIN survey_rounds r ON r.id = i.round_id WHERE NOT EXISTS (SELECT 1 FROM responses x "
            "WHERE x.round_id = i.round_id AND x.participant_id = i.participant_id "
            "AND x.status = 'submitted') ORDER BY r.programme_id"
        )
        return [int(r[0]) for r in rows]

    async def answers(self, round_id: int) -> list[tuple[int, str, dict[str, Any]]]:
        """(participant id, questionnaire id, answers) of every submitted response of a round."""
        rows = await self.db.fetchall(
            "SELECT r.participant_id, r.questionnaire_id, a.question_id, a.value FROM responses r "
            "LEFT JOIN answers a ON a.response_id = r.id WHERE r.round_id = ? AND r.status = 'submitted' "
            "ORDER BY r.participant_id",
            (round_id,),
        )
        found: dict[int, tuple[str, dict[str, Any]]] = {}
        for r in rows:
            _qid, answers = found.setdefault(r["participant_id"], (r["questionnaire_id"], {}))
            if r["question_id"] is not None:
                answers[r["question_id"]] = json.loads(r["value"])
        return [(pid, qid, answers) for pid, (qid, answers) in found.items()]

    async def settings(self, programme_id: int) -> SurveySettings:
        """The programme's survey settings (the defaults when never saved)."""
        r = await self.db.fetchone("SELECT * FROM survey_settings WHERE programme_id = ?", (programme_id,))
        if r is None:
            return SurveySettings(programme_id)
        params = tuple(json.loads(r["assess_params"])) if r["assess_params"] else None
        return SurveySettings(
            programme_id, r["feedback_every"],
            date.fromisoformat(r["feedback_from"]) if r["feedback_from"] else None,
            date.fromisoformat(r["feedback_to"]) if r["feedback_to"] else None, params,
        )

    async def save_settings(self, found: SurveySettings, by: int, now: datetime) -> None:
        """Store the programme's survey settings."""
        params = json.dumps(list(found.assess_params)) if found.assess_params is not None else None
        await self.db.execute(
            "INSERT INTO survey_settings (programme_id, feedback_every, feedback_from, feedback_to, "
            "assess_params, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (programme_id) DO UPDATE SET feedback_every = excluded.feedback_every, "
            "feedback_from = excluded.feedback_from, feedback_to = excluded.feedback_to, "
            "assess_params = excluded.assess_params, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by",
            (found.programme_id, found.feedback_every,
             found.feedback_from.isoformat() if found.feedback_from else None,
             found.feedback_to.isoformat() if found.feedback_to else None, params, ts(now), by),
        )

    async def pending(self, programme_ids: Sequence[int], now: datetime) -> list[tuple[int, Pending]]:
        """(programme id, who) for everyone invited to a round still open who has not submitted it."""
        if not programme_ids:
            return []
        marks = ",".join("?" * len(programme_ids))
        rows = await self.db.fetchall(
            "SELECT sr.programme_id, i.round_id, i.participant_id, p.user_id FROM survey_invitations i "
            "JOIN survey_rounds sr ON sr.id = i.round_id JOIN participants p ON p.id = i.participant_id "
            f"WHERE sr.programme_id IN ({marks}) AND (sr.closes_at IS NULL OR sr.closes_at > ?) "
            "AND p.status = 'active' AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.round_id = i.round_id "
            "AND r.participant_id = i.participant_id AND r.status = 'submitted') "
            "ORDER BY sr.programme_id, i.round_id, i.participant_id",
            (*programme_ids, ts(now)),
        )
        return [(r["programme_id"], Pending(r["round_id"], r["participant_id"], r["user_id"])) for r in rows]
