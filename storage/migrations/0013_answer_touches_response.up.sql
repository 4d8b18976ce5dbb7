-- Writing an answer also stamps its response's updated_at, inside the same statement: the runner saves an
-- answer with one statement (one trip to the database thread), still atomic with the stamp. The stamp only
-- moves forward (answers copied with their old time into next year's response leave it as it is).
CREATE TRIGGER answers_touch_response_insert AFTER INSERT ON answers
BEGIN
    UPDATE responses SET updated_at = NEW.answered_at
    WHERE id = NEW.response_id AND updated_at < NEW.answered_at;
END;

CREATE TRIGGER answers_touch_response_update AFTER UPDATE OF value, answered_at ON answers
BEGIN
    UPDATE responses SET updated_at = NEW.answered_at
    WHERE id = NEW.response_id AND updated_at < NEW.answered_at;
END;
