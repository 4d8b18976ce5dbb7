DROP TABLE carry_over_offers;
ALTER TABLE programmes DROP COLUMN previous_id;
