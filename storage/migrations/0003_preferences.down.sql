DROP TABLE preferences;
DROP TABLE preference_surveys;
