-- Time-proportional progress (序时进度): the share of the work a unit reports done (a percent,
-- optional) on its reports and their sent revisions, and in the standing the percent last sent
-- and the day from which the unit is behind its time-proportional share (NULL: never, on the
-- facts as they stand).
ALTER TABLE reports ADD COLUMN progress INTEGER CHECK (progress IS NULL OR progress BETWEEN 0 AND 100);
ALTER TABLE report_revisions ADD COLUMN progress INTEGER CHECK (progress IS NULL OR progress BETWEEN 0 AND 100);
ALTER TABLE assignment_standings ADD COLUMN sent_progress INTEGER;
ALTER TABLE assignment_standings ADD COLUMN behind_since DATE;
CREATE INDEX assignment_standings_behind ON assignment_standings (behind_since)
    WHERE behind_since IS NOT NULL AND valid_to IS NULL;
