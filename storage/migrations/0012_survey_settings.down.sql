-- see 0012_survey_settings.up.sql
DROP TABLE survey_settings;
