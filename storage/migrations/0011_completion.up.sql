-- Completion of a programme: awards, closing (archived read-only), the long-term mentor base question,
-- and the deletion of personal data once the programme's retention after closing has passed.
ALTER TABLE programmes ADD COLUMN closed_at TEXT;        -- NULL: running; set: archived, read-only
ALTER TABLE programmes ADD COLUMN closed_by INTEGER;     -- Telegram id of the coordinator
ALTER TABLE programmes ADD COLUMN purged_at TEXT;        -- personal data deleted after the retention

-- "Mentor of the year" (a mentor) and "best pair" (a pair or group), marked by a coordinator.
CREATE TABLE awards (
    id              INTEGER PRIMARY KEY,
    programme_id    INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('mentor', 'pair')),
    participant_id  INTEGER REFERENCES participants(id) ON DELETE CASCADE,   -- kind 'mentor'
    pair_id         INTEGER REFERENCES pairs(id) ON DELETE CASCADE,          -- kind 'pair'
    awarded_by      INTEGER NOT NULL,
    awarded_at      TEXT NOT NULL,
    CHECK ((kind = 'mentor' AND participant_id IS NOT NULL AND pair_id IS NULL)
        OR (kind = 'pair' AND pair_id IS NOT NULL AND participant_id IS NULL))
);
CREATE UNIQUE INDEX awards_mentor ON awards(participant_id) WHERE kind = 'mentor';
CREATE UNIQUE INDEX awards_pair ON awards(pair_id) WHERE kind = 'pair';
CREATE INDEX awards_programme ON awards(programme_id);

-- Each mentor of a closed programme is asked whether they stay in the organisation's long-term mentor
-- base; the next year's programme offers those who agreed first. Deleted with the participant.
CREATE TABLE mentor_base (
    participant_id  INTEGER PRIMARY KEY REFERENCES participants(id) ON DELETE CASCADE,
    programme_id    INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    decision        TEXT CHECK (decision IN ('agreed', 'declined')),   -- NULL: asked, not answered
    asked_at        TEXT NOT NULL,
    decided_at      TEXT
);
CREATE INDEX mentor_base_programme ON mentor_base(programme_id, decision);
