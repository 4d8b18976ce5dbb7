-- see 0014_digest_indexes.up.sql
DROP INDEX responses_submitted;
DROP INDEX participants_programme_state;
