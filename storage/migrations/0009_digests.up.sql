-- The coordinator's digest: each coordinator's schedule, and what each digest counted.
CREATE TABLE digest_settings (
    user_id     INTEGER PRIMARY KEY,          -- Telegram id of the coordinator; no row: daily at 08:00
    frequency   TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly', 'off')),
    weekday     INTEGER NOT NULL DEFAULT 0 CHECK (weekday BETWEEN 0 AND 6),   -- Monday = 0 (weekly)
    hour        INTEGER NOT NULL DEFAULT 8 CHECK (hour BETWEEN 0 AND 23),     -- local to the organisation
    updated_at  TEXT NOT NULL
);

CREATE TABLE digests (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,             -- Telegram id of the coordinator
    period      TEXT NOT NULL,                -- the local date the digest is for (its day, or its weekday)
    counts      TEXT NOT NULL,                -- JSON snapshot {programme id: {item: count}}
    sent        INTEGER NOT NULL,             -- 0: nothing changed and nothing stuck, no message
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, period)
);
CREATE INDEX digests_user ON digests(user_id, id);
