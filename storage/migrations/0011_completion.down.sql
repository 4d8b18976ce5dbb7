DROP TABLE mentor_base;
DROP TABLE awards;
ALTER TABLE programmes DROP COLUMN purged_at;
ALTER TABLE programmes DROP COLUMN closed_by;
ALTER TABLE programmes DROP COLUMN closed_at;
