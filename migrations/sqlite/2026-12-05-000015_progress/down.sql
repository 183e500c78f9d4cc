DROP INDEX assignment_standings_behind;
ALTER TABLE assignment_standings DROP COLUMN behind_since;
ALTER TABLE assignment_standings DROP COLUMN sent_progress;
ALTER TABLE report_revisions DROP COLUMN progress;
ALTER TABLE reports DROP COLUMN progress;
