-- The digest counts every programme's participants by status and role, and whether each submitted the
-- joining questionnaire (storage/repos/digests.py, `DigestRepo.counts`): one pass along the first index, each
-- participant looked up in the second without reading the response. Writing an answer touches neither (the
-- trigger of 0013 changes only a response's updated_at); a submission adds one entry to the second.
CREATE INDEX participants_programme_state ON participants(programme_id, status, role);
CREATE INDEX responses_submitted ON responses(participant_id) WHERE round_id IS NULL AND status = 'submitted';
