-- Surveys: a round is one sending of a survey in a programme (feedback rounds, the assessment before and
-- after the work, the satisfaction and quality surveys at the end). A survey's answers are responses like the
-- joining questionnaire's, marked with their round; the joining questionnaire's responses have no round.
CREATE TABLE survey_rounds (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL
                  CHECK (kind IN ('feedback', 'assessment_before', 'assessment_after', 'satisfaction', 'quality')),
    label         TEXT NOT NULL,           -- what tells rounds of a kind apart, e.g. '2027-02' for feedback
    opened_at     TEXT NOT NULL,
    opened_by     INTEGER,                 -- Telegram id of the coordinator; NULL when opened by the bot
    closes_at     TEXT,
    UNIQUE (programme_id, kind, label)
);

-- Who was asked to answer a round (reminders go to those who have not submitted).
CREATE TABLE survey_invitations (
    round_id        INTEGER NOT NULL REFERENCES survey_rounds(id) ON DELETE CASCADE,
    participant_id  INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    invited_at      TEXT NOT NULL,
    PRIMARY KEY (round_id, participant_id)
) WITHOUT ROWID;

-- The responses table is rebuilt with the round (answers with it, so no answer is lost on the way).
CREATE TABLE responses_new (
    id                     INTEGER PRIMARY KEY,
    participant_id         INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    questionnaire_id       TEXT NOT NULL,
    questionnaire_version  INTEGER NOT NULL,
    round_id               INTEGER REFERENCES survey_rounds(id) ON DELETE CASCADE,  -- NULL: joining
    status                 TEXT NOT NULL CHECK (status IN ('in_progress', 'submitted')),
    started_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    submitted_at           TEXT
);
CREATE TABLE answers_new (
    response_id  INTEGER NOT NULL REFERENCES responses_new(id) ON DELETE CASCADE,
    question_id  TEXT NOT NULL,
    value        TEXT NOT NULL,
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;
INSERT INTO responses_new (id, participant_id, questionnaire_id, questionnaire_version, status, started_at,
                           updated_at, submitted_at)
    SELECT id, participant_id, questionnaire_id, questionnaire_version, status, started_at, updated_at,
           submitted_at FROM responses;
INSERT INTO answers_new SELECT response_id, question_id, value, answered_at FROM answers;
DROP TABLE answers;
DROP TABLE responses;
ALTER TABLE responses_new RENAME TO responses;
ALTER TABLE answers_new RENAME TO answers;
CREATE UNIQUE INDEX responses_joining ON responses(participant_id, questionnaire_id) WHERE round_id IS NULL;
CREATE UNIQUE INDEX responses_round ON responses(participant_id, round_id) WHERE round_id IS NOT NULL;
CREATE INDEX responses_round_status ON responses(round_id, status);
