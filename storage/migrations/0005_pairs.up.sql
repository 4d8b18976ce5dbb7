-- Matching proposals the coordinator reviews: the engine's output, then the coordinator's decisions.
-- 'accepted' pairs are kept fixed and 'rejected' ones forbidden when matching is run again for the rest.
CREATE TABLE match_proposals (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    mentor_id     INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    mentee_id     INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    score         REAL NOT NULL,
    reasons       TEXT NOT NULL,          -- JSON list of the engine's reasons, translated when shown
    status        TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'rejected')),
    manual        INTEGER NOT NULL DEFAULT 0,
    decided_by    INTEGER,                -- Telegram id of the coordinator
    created_at    TEXT NOT NULL,
    decided_at    TEXT
);
-- A mentee has at most one live (proposed or accepted) proposal.
CREATE UNIQUE INDEX match_proposals_live ON match_proposals(mentee_id) WHERE status IN ('proposed', 'accepted');
CREATE INDEX match_proposals_programme ON match_proposals(programme_id, status);
CREATE INDEX match_proposals_mentor ON match_proposals(mentor_id);

-- Mentees the last run left without a proposal, with the engine's reason.
CREATE TABLE match_unmatched (
    mentee_id     INTEGER PRIMARY KEY REFERENCES participants(id) ON DELETE CASCADE,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    reason        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX match_unmatched_programme ON match_unmatched(programme_id);

-- Approved pairs and groups: one mentor, one or more mentees.
CREATE TABLE pairs (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    mentor_id     INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    approved_by   INTEGER NOT NULL,       -- Telegram id of the coordinator
    approved_at   TEXT NOT NULL,
    ended_at      TEXT
);
CREATE UNIQUE INDEX pairs_mentor_active ON pairs(mentor_id) WHERE status = 'active';
CREATE INDEX pairs_programme ON pairs(programme_id, status);

CREATE TABLE pair_members (
    pair_id    INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    mentee_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    joined_at  TEXT NOT NULL,
    PRIMARY KEY (pair_id, mentee_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX pair_members_mentee ON pair_members(mentee_id);

-- The pair's personalised programme: created empty at approval, goals agreed at the planning meeting.
CREATE TABLE pair_plans (
    pair_id     INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    agreed_at   TEXT
);

CREATE TABLE plan_goals (
    id          INTEGER PRIMARY KEY,
    pair_id     INTEGER NOT NULL REFERENCES pair_plans(pair_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX plan_goals_pair ON plan_goals(pair_id, position);
