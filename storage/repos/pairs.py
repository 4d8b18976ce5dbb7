"""Matching proposals, approved pairs and groups, and their personalised programmes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.db import Database, utcnow
from storage.models import MatchProposal, OutboxMessage, Pair, ProposalStatus
from storage.repos._convert import parse_ts, ts
from storage.repos.outbox import OutboxRepo

LIVE = ("proposed", "accepted")


def _proposal(r: Any) -> MatchProposal:
    return MatchProposal(
        r["id"], r["programme_id"], r["mentor_id"], r["mentee_id"], r["score"], json.loads(r["reasons"]),
        ProposalStatus(r["status"]), bool(r["manual"]),
    )


@dataclass(frozen=True)
class NewProposal:
    """One pair of a matching run (or a pair made by hand), before it is stored."""

    mentor_id: int
    mentee_id: int
    score: float
    reasons: list[dict[str, Any]]


class StaleDecision(Exception):
    """The proposals changed since the coordinator's screen was drawn."""


class PairRepo:
    """Matching proposals, approved pairs and groups, and their personalised programmes."""

    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    # --- proposals -------------------------------------------------------------------------------------

    async def proposals(
        self, programme_id: int, status: ProposalStatus | None = None
    ) -> list[MatchProposal]:
        """The programme's proposals that are not approved yet (mentees already in a pair are left out)."""
        sql = (
            "SELECT m.* FROM match_proposals m WHERE m.programme_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM pair_members pm WHERE pm.mentee_id = m.mentee_id)"
        )
        params: list[object] = [programme_id]
        if status is not None:
            sql += " AND m.status = ?"
            params.append(status.value)
        rows = await self.db.fetchall(sql + " ORDER BY m.mentor_id, m.mentee_id, m.id", tuple(params))
        return [_proposal(r) for r in rows]

    async def proposal(self, proposal_id: int) -> MatchProposal | None:
        """One proposal, any status."""
        row = await self.db.fetchone("SELECT * FROM match_proposals WHERE id = ?", (proposal_id,))
        return _proposal(row) if row else None

    async def live_proposal_of(self, mentee_id: int) -> MatchProposal | None:
        """The mentee's proposed or accepted pair, if any."""
        row = await self.db.fetchone(
            "SELECT * FROM match_proposals WHERE mentee_id = ? AND status IN ('proposed', 'accepted')",
            (mentee_id,),
        )
        return _proposal(row) if row else None

    async def unmatched(self, programme_id: int) -> list[tuple[int, str]]:
        """(mentee id, reason) of the mentees the last run left without a proposal and still unpaired."""
        rows = await self.db.fetchall(
            "SELECT u.mentee_id, u.reason FROM match_unmatched u WHERE u.programme_id = ? "
            "AND NOT EXISTS (SELECT 1 FROM pair_members pm WHERE pm.mentee_id = u.mentee_id) "
            "AND NOT EXISTS (SELECT 1 FROM match_proposals m WHERE m.mentee_id = u.mentee_id "
            "AND m.status IN ('proposed', 'accepted')) ORDER BY u.mentee_id",
            (programme_id,),
        )
        return [(r["mentee_id"], r["reason"]) for r in rows]

    async def fixed_and_forbidden(
        self, programme_id: int
    ) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """What a re-run must respect: accepted or approved (mentor, mentee) pairs, and rejected ones."""
        fixed_rows = await self.db.fetchall(
            "SELECT mentor_id, mentee_id FROM match_proposals WHERE programme_id = ? AND status = 'accepted' "
            "AND NOT EXISTS (SELECT 1 FROM pair_members pm WHERE pm.mentee_id = match_proposals.mentee_id) "
            "UNION SELECT p.mentor_id, pm.mentee_id FROM pairs p JOIN pair_members pm ON pm.pair_id = p.id "
            "WHERE p.programme_id = ? AND p.status = 'active'",
            (programme_id, programme_id),
        )
        rejected = await self.db.fetchall(
            "SELECT mentor_id, mentee_id FROM match_proposals WHERE programme_id = ? AND status = 'rejected'",
            (programme_id,),
        )
        return (
            {(r["mentor_id"], r["mentee_id"]) for r in fixed_rows},
            {(r["mentor_id"], r["mentee_id"]) for r in rejected},
        )

    async def replace_run(
        self, programme_id: int, proposals: Sequence[NewProposal], unmatched: Sequence[tuple[int, str]]
    ) -> None:
        """Store a run: undecided proposals and the unmatched list are replaced, decisions are kept."""
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM match_proposals WHERE programme_id = ? AND status = 'proposed'", (programme_id,)
            )
            await conn.execute("DELETE FROM match_unmatched WHERE programme_id = ?", (programme_id,))
            await conn.executemany(
                "INSERT INTO match_proposals (programme_id, mentor_id, mentee_id, score, reasons, status, "
                "created_at) VALUES (?, ?, ?, ?, ?, 'proposed', ?)",
                [(programme_id, p.mentor_id, p.mentee_id, p.score, json.dumps(p.reasons), now)
                 for p in proposals],
            )
            await conn.executemany(
                "INSERT INTO match_unmatched (mentee_id, programme_id, reason, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(mentee_id, programme_id, reason, now) for mentee_id, reason in unmatched],
            )

    async def decide(self, proposal_id: int, status: ProposalStatus, by: int) -> bool:
        """Accept or reject a proposed pair (or undo an acceptance); False if it was not in that state."""
        allowed = {ProposalStatus.ACCEPTED: "proposed", ProposalStatus.REJECTED: "proposed",
                   ProposalStatus.PROPOSED: "accepted"}[status]
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE match_proposals SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? "
                "AND status = ? AND NOT EXISTS (SELECT 1 FROM pair_members pm "
                "WHERE pm.mentee_id = match_proposals.mentee_id)",
                (status.value, by, ts(utcnow()), proposal_id, allowed),
            )
            return cur.rowcount == 1

    async def accept_all(self, programme_id: int, by: int) -> int:
        """Accept every proposed pair of the programme; how many."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE match_proposals SET status = 'accepted', decided_by = ?, decided_at = ? "
                "WHERE programme_id = ? AND status = 'proposed'",
                (by, ts(utcnow()), programme_id),
            )
            return cur.rowcount

    async def swap(self, first: MatchProposal, second: MatchProposal, new: Sequence[NewProposal],
                   by: int) -> bool:
        """Give two proposed pairs each other's mentors: both become accepted pairs made by hand."""
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM match_proposals WHERE id IN (?, ?) AND status IN ('proposed', 'accepted')",
                (first.id, second.id),
            )
            if cur.rowcount != 2:
                raise StaleDecision
            await self._insert_manual(conn, first.programme_id, new, by, now)
        return True

    async def pair_by_hand(self, programme_id: int, pair: NewProposal, by: int) -> None:
        """Pair a mentee with a mentor by hand: replaces the mentee's live proposal, accepted at once."""
        now = ts(utcnow())
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM match_proposals WHERE mentee_id = ? AND status IN ('proposed', 'accepted')",
                (pair.mentee_id,),
            )
            await conn.execute("DELETE FROM match_unmatched WHERE mentee_id = ?", (pair.mentee_id,))
            await self._insert_manual(conn, programme_id, [pair], by, now)

    @staticmethod
    async def _insert_manual(
        conn: aiosqlite.Connection, programme_id: int, pairs: Sequence[NewProposal], by: int, now: str
    ) -> None:
        await conn.executemany(
            "INSERT INTO match_proposals (programme_id, mentor_id, mentee_id, score, reasons, status, "
            "manual, decided_by, created_at, decided_at) VALUES (?, ?, ?, ?, ?, 'accepted', 1, ?, ?, ?)",
            [(programme_id, p.mentor_id, p.mentee_id, p.score, json.dumps(p.reasons), by, now, now)
             for p in pairs],
        )

    # --- approval and pairs ----------------------------------------------------------------------------

    async def approve(
        self, programme_id: int, proposal_ids: Sequence[int], by: int, messages: Sequence[OutboxMessage]
    ) -> list[Pair]:
        """Make the accepted proposals active pairs/groups (a mentor already leading one gets the new mentees
        in it), give each new pair an empty personalised programme, and queue the messages, all in one
        transaction. Raises StaleDecision if any of the proposals is no longer accepted and unpaired."""
        now = ts(utcnow())
        touched: set[int] = set()
        async with self.db.transaction() as conn:
            for proposal_id in proposal_ids:
                async with conn.execute(
                    "SELECT mentor_id, mentee_id FROM match_proposals WHERE id = ? AND programme_id = ? "
                    "AND status = 'accepted' AND NOT EXISTS (SELECT 1 FROM pair_members pm "
                    "WHERE pm.mentee_id = match_proposals.mentee_id)",
                    (proposal_id, programme_id),
                ) as cur:
                    row = await cur.fetchone()
                if row is None:
                    raise StaleDecision
                pair_id = await self._active_pair_id(conn, programme_id, row["mentor_id"], by, now)
                await conn.execute(
                    "INSERT INTO pair_members (pair_id, mentee_id, joined_at) VALUES (?, ?, ?)",
                    (pair_id, row["mentee_id"], now),
                )
                touched.add(pair_id)
            await self.outbox.enqueue(messages, conn)
        return [p for p in await self.active(programme_id) if p.id in touched]

    @staticmethod
    async def _active_pair_id(conn: aiosqlite.Connection, programme_id: int, mentor_id: int, by: int,
                              now: str) -> int:
        async with conn.execute(
            "SELECT id FROM pairs WHERE mentor_id = ? AND status = 'active'", (mentor_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is not None:
            return int(row["id"])
        async with conn.execute(
            "INSERT INTO pairs (programme_id, mentor_id, approved_by, approved_at) VALUES (?, ?, ?, ?)",
            (programme_id, mentor_id, by, now),
        ) as cur:
            pair_id = int(cur.lastrowid)  # type: ignore[arg-type]
        await conn.execute("INSERT INTO pair_plans (pair_id, created_at) VALUES (?, ?)", (pair_id, now))
        return pair_id

    async def active(self, programme_id: int) -> list[Pair]:
        """The programme's active pairs and groups, by mentor."""
        return await self._pairs("p.programme_id = ? AND p.status = 'active'", (programme_id,))

    async def get(self, pair_id: int) -> Pair | None:
        """One pair or group."""
        found = await self._pairs("p.id = ?", (pair_id,))
        return found[0] if found else None

    async def of_participant(self, participant_id: int) -> Pair | None:
        """The active pair/group the participant leads or belongs to."""
        found = await self._pairs(
            "p.status = 'active' AND (p.mentor_id = ? OR EXISTS (SELECT 1 FROM pair_members x "
            "WHERE x.pair_id = p.id AND x.mentee_id = ?))",
            (participant_id, participant_id),
        )
        return found[0] if found else None

    async def goals(self, pair_id: int) -> list[str]:
        """The goals of the pair's personalised programme, in order (empty until the planning meeting)."""
        rows = await self.db.fetchall(
            "SELECT text FROM plan_goals WHERE pair_id = ? ORDER BY position, id", (pair_id,)
        )
        return [r["text"] for r in rows]

    async def has_plan(self, pair_id: int) -> bool:
        """Whether the pair has its personalised programme."""
        return await self.db.fetchone("SELECT 1 FROM pair_plans WHERE pair_id = ?", (pair_id,)) is not None

    async def _pairs(self, where: str, params: tuple[object, ...]) -> list[Pair]:
        rows = await self.db.fetchall(
            "SELECT p.id, p.programme_id, p.mentor_id, p.approved_at, "
            "GROUP_CONCAT(pm.mentee_id) AS mentees FROM pairs p "
            f"LEFT JOIN pair_members pm ON pm.pair_id = p.id WHERE {where} "
            "GROUP BY p.id ORDER BY p.mentor_id, p.id",
            params,
        )
        return [
            Pair(r["id"], r["programme_id"], r["mentor_id"],
                 tuple(sorted(int(x) for x in (r["mentees"] or "").split(",") if x)),
                 parse_ts(r["approved_at"]))  # type: ignore[arg-type]
            for r in rows
        ]
