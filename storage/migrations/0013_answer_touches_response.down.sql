-- see 0013_answer_touches_response.up.sql
DROP TRIGGER answers_touch_response_update;
DROP TRIGGER answers_touch_response_insert;
