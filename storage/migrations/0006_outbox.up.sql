-- Every message the bot sends on its own (not as a reply): written in the transaction that decides it,
-- sent by one rate-limited sender. `dedupe` makes enqueueing idempotent; a row claimed ('sending') when
-- the process died is never sent again ('uncertain'): a message is sent at most once.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,          -- Telegram chat id
    kind        TEXT NOT NULL,             -- announcement | pair | ...
    ref         INTEGER,                   -- the announcement, pair... the message belongs to
    dedupe      TEXT NOT NULL UNIQUE,
    text        TEXT NOT NULL,
    markup      TEXT,                      -- JSON of an inline keyboard
    not_before  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'uncertain')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT NOT NULL,
    claimed_at  TEXT,
    done_at     TEXT
);
CREATE INDEX outbox_due ON outbox(status, not_before);
CREATE INDEX outbox_ref ON outbox(kind, ref, status);

-- A coordinator's message to a segment of a programme.
CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    segment       TEXT NOT NULL,           -- mentors | mentees | parents | observers | unfinished
    text          TEXT NOT NULL,
    created_by    INTEGER NOT NULL,        -- Telegram id of the coordinator
    created_at    TEXT NOT NULL,
    recipients    INTEGER NOT NULL
);
CREATE INDEX announcements_programme ON announcements(programme_id, id);
