DROP TABLE announcements;
DROP TABLE outbox;
