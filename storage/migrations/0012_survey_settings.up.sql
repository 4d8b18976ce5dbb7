-- A programme's survey settings: feedback during the work (a period of months and a frequency) and which
-- parameters the self-assessment asks (NULL: every parameter of the assessment surveys).
CREATE TABLE survey_settings (
    programme_id    INTEGER PRIMARY KEY REFERENCES programmes(id) ON DELETE CASCADE,
    feedback_every  TEXT NOT NULL DEFAULT 'off' CHECK (feedback_every IN ('off', '2w', '4w', 'month')),
    feedback_from   TEXT,                  -- first day of the first month (ISO date)
    feedback_to     TEXT,                  -- last day of the last month (ISO date)
    assess_params   TEXT,                  -- JSON list of parameters, NULL: all
    updated_at      TEXT NOT NULL,
    updated_by      INTEGER
);
