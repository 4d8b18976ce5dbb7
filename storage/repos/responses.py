"""Questionnaire responses: every answer is written the moment it is given."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from storage.db import Database, utcnow
from storage.models import Response, ResponseStatus
from storage.repos._convert import parse_ts, ts


class ResponseRepo:
    """Responses and their answers."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(
        self, participant_id: int, questionnaire_id: str, version: int, round_id: int | None = None
    ) -> Response:
        """The participant's response to the joining questionnaire (no round) or to a survey round, created if
        new."""
        now = ts(utcnow())
        await self.db.execute(
            "INSERT OR IGNORE INTO responses (participant_id, questionnaire_id, "
            "questionnaire_version, round_id, status, started_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'in_progress', ?, ?)",
            (participant_id, questionnaire_id, version, round_id, now, now),
        )
        if round_id is None:
            row = await self.db.fetchone(
                "SELECT id FROM responses WHERE participant_id = ? AND questionnaire_id = ? "
                "AND round_id IS NULL",
                (participant_id, questionnaire_id),
            )
        else:
            row = await self.db.fetchone(
                "SELECT id FROM responses WHERE participant_id = ? AND round_id = ?",
                (participant_id, round_id),
            )
        return await self.get(row["id"])  # type: ignore[index,return-value]

    async def get(self, response_id: int) -> Response | None:
        """A response with all its answers."""
        rows = await self.db.fetchall(  # in one query
            "SELECT r.*, a.question_id, a.value FROM responses r "
            "LEFT JOIN answers a ON a.response_id = r.id WHERE r.id = ?",
            (response_id,),
        )
        if not rows:
            return None
        row, answers = rows[0], [a for a in rows if a["question_id"] is not None]
        return Response(
            row["id"],
            row["participant_id"],
            row["questionnaire_id"],
            row["questionnaire_version"],
            ResponseStatus(row["status"]),
            {a["question_id"]: json.loads(a["value"]) for a in answers},
            parse_ts(row["submitted_at"]),
            row["round_id"],
        )

    async def of_participant(self, participant_id: int) -> list[Response]:
        """The participant's joining questionnaire responses (surveys are apart, in their rounds)."""
        rows = await self.db.fetchall(
            "SELECT id FROM responses WHERE participant_id = ? AND round_id IS NULL ORDER BY id",
            (participant_id,),
        )
        return [r for row in rows if (r := await self.get(row["id"])) is not None]

    async def everything_of(self, participant_id: int) -> list[Response]:
        """Every response of a participant, the questionnaire and the surveys (for /mydata)."""
        rows = await self.db.fetchall(
            "SELECT id FROM responses WHERE participant_id = ? ORDER BY id", (participant_id,)
        )
        return [r for row in rows if (r := await self.get(row["id"])) is not None]

    async def save_answer(self, response_id: int, question_id: str, value: Any) -> None:
        """Write (or overwrite) one answer; None records a skipped optional question."""
        await self.db.execute(  # a trigger stamps the response's updated_at in the same statement
            "INSERT INTO answers (response_id, question_id, value, answered_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(response_id, question_id) "
            "DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
            (response_id, question_id, json.dumps(value, ensure_ascii=False), ts(utcnow())),
        )

    async def submit(self, response_id: int, drop: Iterable[str] = ()) -> bool:
        """Mark submitted, dropping answers to questions no longer shown; False if already done."""
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            for question_id in drop:
                await conn.execute(
                    "DELETE FROM answers WHERE response_id = ? AND question_id = ?",
                    (response_id, question_id),
                )
            async with conn.execute(
                "UPDATE responses SET status = 'submitted', submitted_at = ?, updated_at = ? "
                "WHERE id = ? AND status = 'in_progress'",
                (now, now, response_id),
            ) as cur:
                return cur.rowcount == 1

    async def submitted_of_programme(self, programme_id: int) -> dict[int, tuple[str, dict[str, Any]]]:
        """participant id -> (questionnaire id, answers) of every submitted questionnaire of the programme's
        active participants, in one query (matching reads the whole programme at once)."""
        rows = await self.db.fetchall(
            "SELECT r.participant_id, r.questionnaire_id, a.question_id, a.value FROM responses r "
            "JOIN participants p ON p.id = r.participant_id "
            "LEFT JOIN answers a ON a.response_id = r.id "
            "WHERE p.programme_id = ? AND p.status = 'active' AND r.status = 'submitted' "
            "AND r.round_id IS NULL",
            (programme_id,),
        )
        found: dict[int, tuple[str, dict[str, Any]]] = {}
        for r in rows:
            _, answers = found.setdefault(r["participant_id"], (r["questionnaire_id"], {}))
            if r["question_id"] is not None:
                answers[r["question_id"]] = json.loads(r["value"])
        return found
