"""Survey rounds of programmes: opened once per (programme, kind, label), invitations queued with them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import OutboxMessage, SurveyKind, SurveyRound
from storage.repos._convert import parse_ts, ts
from storage.repos.outbox import OutboxRepo

# Composes, for a round, the invitations: (participant id, the message to them).
Invite = Callable[[SurveyRound], Awaitable[Sequence[tuple[int, OutboxMessage]]]]


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
