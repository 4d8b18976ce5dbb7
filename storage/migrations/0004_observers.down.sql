DROP TABLE invite_visits;
DROP TABLE notes;
DROP TABLE observers;
DELETE FROM invites WHERE kind = 'observer';
CREATE TABLE invites_old (
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
    used_at          TEXT,
    used_by          INTEGER
);
INSERT INTO invites_old SELECT * FROM invites;
DROP TABLE invites;
ALTER TABLE invites_old RENAME TO invites;
CREATE INDEX invites_programme ON invites(programme_id);
