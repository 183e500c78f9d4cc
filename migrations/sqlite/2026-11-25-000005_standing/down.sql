DROP TABLE assignment_standings;
CREATE INDEX reports_done ON reports (assignment_id)
    WHERE status IN ('completed', 'not_applicable') AND workflow IN ('submitted', 'resubmitted', 'accepted');
CREATE INDEX reports_period ON reports (period, assignment_id);
ALTER TABLE reports DROP COLUMN sent_revision;
