-- The preference survey after the group meeting: opened once per programme by a coordinator.
CREATE TABLE preference_surveys (
    programme_id  INTEGER PRIMARY KEY REFERENCES programmes(id) ON DELETE CASCADE,
    opened_at     TEXT NOT NULL,
    opened_by     INTEGER NOT NULL,     -- Telegram id of the coordinator
    closed_at     TEXT                  -- NULL: open
);

-- A participant's preferred partners, up to three, in rank order. Deleted with either person.
CREATE TABLE preferences (
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    chosen_id       INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    rank            INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 3),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (participant_id, rank),
    UNIQUE (participant_id, chosen_id)
);
CREATE INDEX preferences_chosen ON preferences(chosen_id);
