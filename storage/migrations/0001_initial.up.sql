-- Users known to the bot: only what is needed to talk to them, nothing personal.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,      -- Telegram user id
    locale      TEXT,                     -- chosen with /language; NULL follows Telegram
    tg_locale   TEXT,                     -- the language Telegram last reported for the user
    blocked_at  TEXT,                     -- set when the messenger says the bot was blocked
    created_at  TEXT NOT NULL
);

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES organisations(id) ON DELETE RESTRICT,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE coordinators (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL,
    full_name        TEXT NOT NULL,
    consent_version  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (organisation_id, user_id)
);
CREATE INDEX coordinators_user ON coordinators(user_id);

CREATE TABLE programmes (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    forms            TEXT NOT NULL,        -- JSON list of form ids
    start_date       TEXT NOT NULL,        -- ISO date
    end_date         TEXT NOT NULL,
    retention_days   INTEGER NOT NULL DEFAULT 365,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX programmes_organisation ON programmes(organisation_id);

CREATE TABLE participants (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('mentor', 'mentee')),
    form          TEXT NOT NULL,
    full_name     TEXT NOT NULL,
    is_minor      INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL CHECK (status IN ('parent_pending', 'active', 'parent_refused')),
    created_at    TEXT NOT NULL,
    UNIQUE (programme_id, user_id)
);
CREATE INDEX participants_user ON participants(user_id);

-- Legal representatives who confirmed a minor's consent.
CREATE TABLE guardians (
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    confirmed_at    TEXT NOT NULL,
    PRIMARY KEY (participant_id, user_id)
) WITHOUT ROWID;
CREATE INDEX guardians_user ON guardians(user_id);

-- Every decision about consent. Kept after withdrawal with the person's ids removed.
CREATE TABLE consents (
    id              INTEGER PRIMARY KEY,
    programme_id    INTEGER REFERENCES programmes(id) ON DELETE SET NULL,
    participant_id  INTEGER REFERENCES participants(id) ON DELETE SET NULL,
    role            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('self', 'parent')),
    decision        TEXT NOT NULL CHECK (decision IN ('given', 'refused', 'withdrawn')),
    given_by        INTEGER,              -- Telegram id of who decided; NULL once anonymised
    text_version    TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX consents_participant ON consents(participant_id);

CREATE TABLE invites (
    id               INTEGER PRIMARY KEY,
    token            TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('coordinator', 'mentor', 'mentee', 'parent')),
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    programme_id     INTEGER REFERENCES programmes(id) ON DELETE CASCADE,
    participant_id   INTEGER REFERENCES participants(id) ON DELETE CASCADE,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    revoked_at       TEXT,
    used_at          TEXT,                -- single-use invites (coordinator, parent)
    used_by          INTEGER
);
CREATE INDEX invites_programme ON invites(programme_id);

CREATE TABLE responses (
    id                     INTEGER PRIMARY KEY,
    participant_id         INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    questionnaire_id       TEXT NOT NULL,
    questionnaire_version  INTEGER NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('in_progress', 'submitted')),
    started_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    submitted_at           TEXT,
    UNIQUE (participant_id, questionnaire_id)
);

CREATE TABLE answers (
    response_id  INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    question_id  TEXT NOT NULL,
    value        TEXT NOT NULL,           -- JSON; null marks a skipped optional question
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- aiogram FSM state and data, so a restart resumes every conversation.
CREATE TABLE fsm (
    key    TEXT PRIMARY KEY,
    state  TEXT,
    data   TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

-- Update ids already taken, so a redelivered update is handled once.
CREATE TABLE processed_updates (
    update_id     INTEGER PRIMARY KEY,
    processed_at  TEXT NOT NULL
);
CREATE INDEX processed_updates_time ON processed_updates(processed_at);
