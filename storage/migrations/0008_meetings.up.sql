-- Meetings of pairs: the five-step sequence, reminders (as outbox rows), logs, feedback, fit checks.

-- How a programme runs its meetings; a programme without a row uses the defaults below.
CREATE TABLE meeting_settings (
    programme_id          INTEGER PRIMARY KEY REFERENCES programmes(id) ON DELETE CASCADE,
    steps                 TEXT NOT NULL DEFAULT '["organisational","trial","planning","regular","final"]',
    cadence_days          INTEGER NOT NULL DEFAULT 14 CHECK (cadence_days IN (7, 14, 30)),
    reminder_minutes      TEXT NOT NULL DEFAULT '[1440,60]',   -- before each meeting
    quiet_start           TEXT NOT NULL DEFAULT '21:00',       -- local time of the organisation
    quiet_end             TEXT NOT NULL DEFAULT '08:00',
    schedule_within_days  INTEGER NOT NULL DEFAULT 7,          -- a due step must be scheduled within
    inactivity_days       INTEGER NOT NULL DEFAULT 21,         -- no logged meeting for this long: flagged
    notify_parents        INTEGER NOT NULL DEFAULT 0,          -- a minor mentee's parents are told too
    updated_by            INTEGER,
    updated_at            TEXT NOT NULL
);

-- School holidays: no meeting is proposed and no reminder about a due step is sent inside them.
CREATE TABLE holidays (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    first_day     TEXT NOT NULL,      -- ISO date, inclusive
    last_day      TEXT NOT NULL,      -- ISO date, inclusive
    created_at    TEXT NOT NULL
);
CREATE INDEX holidays_programme ON holidays(programme_id, first_day);

-- A meeting of a pair/group (pair_id) or the group final meeting of a programme (pair_id NULL).
CREATE TABLE meetings (
    id               INTEGER PRIMARY KEY,
    programme_id     INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    pair_id          INTEGER REFERENCES pairs(id) ON DELETE CASCADE,
    step             TEXT NOT NULL
                     CHECK (step IN ('organisational', 'trial', 'planning', 'regular', 'final', 'group_final')),
    starts_at        TEXT NOT NULL,          -- UTC
    minutes          INTEGER NOT NULL DEFAULT 60,
    place            TEXT NOT NULL,          -- a room, an address or an online link
    online           INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'held', 'not_held', 'cancelled')),
    version          INTEGER NOT NULL DEFAULT 1,   -- raised on every move; part of its reminders' keys
    created_by       INTEGER NOT NULL,             -- Telegram id
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    logged_at        TEXT,
    held_minutes     INTEGER,
    activities       TEXT,                   -- JSON list of activity ids
    notes            TEXT,
    not_held_reason  TEXT
);
CREATE INDEX meetings_pair ON meetings(pair_id, status, starts_at);
CREATE INDEX meetings_programme ON meetings(programme_id, status, starts_at);

-- A mentee's (or parent's) request to move a meeting, for the mentor.
CREATE TABLE move_requests (
    id              INTEGER PRIMARY KEY,
    meeting_id      INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX move_requests_meeting ON move_requests(meeting_id);

-- Progress on the personalised programme's goals, marked when a meeting is logged.
CREATE TABLE goal_progress (
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    goal_id     INTEGER NOT NULL REFERENCES plan_goals(id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'achieved')),
    PRIMARY KEY (meeting_id, goal_id)
) WITHOUT ROWID;

-- A mentee's quick feedback on a meeting. Shown to coordinators, never to the mentor.
CREATE TABLE meeting_feedback (
    meeting_id      INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    usefulness      INTEGER NOT NULL CHECK (usefulness BETWEEN 1 AND 5),
    comment         TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (meeting_id, participant_id)
) WITHOUT ROWID;

-- After the organisational meeting each side says privately whether the pair fits.
CREATE TABLE fit_checks (
    pair_id         INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    answer          TEXT NOT NULL CHECK (answer IN ('good', 'unsure', 'bad')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (pair_id, participant_id)
) WITHOUT ROWID;

-- The outbox gains: an expiry (a reminder for a meeting that has passed is dropped, never sent late),
-- an attached file (the .ics of a meeting), and the 'cancelled' and 'expired' statuses.
CREATE TABLE outbox_new (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    ref         INTEGER,
    dedupe      TEXT NOT NULL UNIQUE,
    text        TEXT NOT NULL,
    markup      TEXT,
    not_before  TEXT NOT NULL,
    expires_at  TEXT,                      -- not sent after this moment ('expired')
    file_name   TEXT,                      -- sent as a document with `text` as its caption
    file_data   BLOB,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'uncertain',
                                  'cancelled', 'expired')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT NOT NULL,
    claimed_at  TEXT,
    done_at     TEXT
);
INSERT INTO outbox_new (id, user_id, kind, ref, dedupe, text, markup, not_before, status, attempts, error,
                        created_at, claimed_at, done_at)
    SELECT id, user_id, kind, ref, dedupe, text, markup, not_before, status, attempts, error, created_at,
           claimed_at, done_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, not_before);
CREATE INDEX outbox_ref ON outbox(kind, ref, status);
