DELETE FROM outbox WHERE status IN ('cancelled', 'expired');
CREATE TABLE outbox_old (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    ref         INTEGER,
    dedupe      TEXT NOT NULL UNIQUE,
    text        TEXT NOT NULL,
    markup      TEXT,
    not_before  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'uncertain')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT NOT NULL,
    claimed_at  TEXT,
    done_at     TEXT
);
INSERT INTO outbox_old SELECT id, user_id, kind, ref, dedupe, text, markup, not_before, status, attempts,
    error, created_at, claimed_at, done_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, not_before);
CREATE INDEX outbox_ref ON outbox(kind, ref, status);
DROP TABLE fit_checks;
DROP TABLE meeting_feedback;
DROP TABLE goal_progress;
DROP TABLE move_requests;
DROP TABLE meetings;
DROP TABLE holidays;
DROP TABLE meeting_settings;
