-- Indexes for the office's desk: the assignments that have a sent completed or not-applicable
-- report (a partial index, small), and sent reports by period (for periodic cycles).
CREATE INDEX reports_done ON reports (assignment_id)
    WHERE status IN ('completed', 'not_applicable') AND workflow IN ('submitted', 'resubmitted', 'accepted');
CREATE INDEX reports_period ON reports (period, assignment_id);
