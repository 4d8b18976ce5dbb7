DELETE FROM responses WHERE round_id IS NOT NULL;
CREATE TABLE responses_old (
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
CREATE TABLE answers_old (
    response_id  INTEGER NOT NULL REFERENCES responses_old(id) ON DELETE CASCADE,
    question_id  TEXT NOT NULL,
    value        TEXT NOT NULL,
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;
INSERT INTO responses_old SELECT id, participant_id, questionnaire_id, questionnaire_version, status,
    started_at, updated_at, submitted_at FROM responses;
INSERT INTO answers_old SELECT response_id, question_id, value, answered_at FROM answers;
DROP TABLE answers;
DROP TABLE responses;
ALTER TABLE responses_old RENAME TO responses;
ALTER TABLE answers_old RENAME TO answers;
DROP TABLE survey_invitations;
DROP TABLE survey_rounds;
