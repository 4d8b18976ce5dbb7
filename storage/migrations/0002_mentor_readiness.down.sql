DROP TABLE mentor_readiness;
