-- Observers (class teacher, psychologist, social pedagogue) join a programme by link and write notes
-- about mentees' requests. The invites table is rebuilt to allow the 'observer' kind.
CREATE TABLE invites_new (
    id               INTEGER PRIMARY KEY,
    token            TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('coordinator', 'mentor', 'mentee', 'parent', 'observer')),
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    programme_id     INTEGER REFERENCES programmes(id) ON DELETE CASCADE,
    participant_id   INTEGER REFERENCES participants(id) ON DELETE CASCADE,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    revoked_at       TEXT,
    used_at          TEXT,
    used_by          INTEGER
);
INSERT INTO invites_new SELECT * FROM invites;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;
CREATE INDEX invites_programme ON invites(programme_id);

CREATE TABLE observers (
    id               INTEGER PRIMARY KEY,
    programme_id     INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL,
    full_name        TEXT NOT NULL,
    position         TEXT NOT NULL,        -- class_teacher | psychologist | social_pedagogue | other
    consent_version  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (programme_id, user_id)
);
CREATE INDEX observers_user ON observers(user_id);

-- Notes about a mentee (or a mentor) for the coordinators. Deleted with the person they are about.
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    author_id       INTEGER NOT NULL,      -- Telegram id
    author_role     TEXT NOT NULL CHECK (author_role IN ('observer', 'coordinator')),
    author_name     TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX notes_participant ON notes(participant_id, id);

-- Who opened a programme's mentor/mentee link and has not joined yet: the base's "invited" state.
-- Only the Telegram id is kept (no name is stored before consent).
CREATE TABLE invite_visits (
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('mentor', 'mentee')),
    opened_at     TEXT NOT NULL,
    PRIMARY KEY (programme_id, user_id)
) WITHOUT ROWID;
