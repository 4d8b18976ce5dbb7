DROP TABLE plan_goals;
DROP TABLE pair_plans;
DROP TABLE pair_members;
DROP TABLE pairs;
DROP TABLE match_unmatched;
DROP TABLE match_proposals;
