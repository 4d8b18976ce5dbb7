-- A coordinator's record of a mentor's readiness: interview, training, written agreement, decision.
-- Deleted with the participant (withdrawal of consent deletes the participant).
CREATE TABLE mentor_readiness (
    participant_id   INTEGER PRIMARY KEY REFERENCES participants(id) ON DELETE CASCADE,
    interview_at     TEXT,                 -- when the interview was recorded as held; NULL: not held
    training_course  TEXT,
    training_date    TEXT,                 -- ISO date
    agreement_at     TEXT,                 -- when the written agreement was recorded; NULL: not received
    ready            INTEGER NOT NULL DEFAULT 0,
    updated_by       INTEGER,              -- Telegram id of the coordinator
    updated_at       TEXT NOT NULL
);
