-- A programme started again for a new year from an old one; its mentors are asked whether they continue.
ALTER TABLE programmes ADD COLUMN previous_id INTEGER REFERENCES programmes(id) ON DELETE SET NULL;

CREATE TABLE carry_over_offers (
    programme_id    INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,   -- the new programme
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE, -- the old mentor
    decision        TEXT CHECK (decision IN ('agreed', 'declined')),                -- NULL: not answered
    decided_at      TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (programme_id, participant_id)
) WITHOUT ROWID;
