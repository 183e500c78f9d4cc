-- The standing of each assignment (kept equivalent to migrations/postgres): the facts that decide its state, overdue, severity
-- and every figure, one row per version, each valid from the change that made it until the
-- next one (valid_to NULL: the current version). Written in the same transaction as the change.

CREATE TABLE assignment_standings (
    id INTEGER PRIMARY KEY,
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    plan_id BIGINT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    valid_from TIMESTAMP NOT NULL,
    valid_to TIMESTAMP,
    due_date DATE NOT NULL,
    deadline DATE,
    done TEXT CHECK (done IN ('completed', 'not_applicable')),
    done_at TIMESTAMP,
    last_sent_period TEXT,
    sent_report_id BIGINT REFERENCES reports (id) ON DELETE SET NULL,
    sent_status TEXT CHECK (sent_status IN ('not_started', 'in_progress', 'completed', 'not_applicable')),
    sent_workflow TEXT CHECK (sent_workflow IN ('submitted', 'resubmitted', 'accepted')),
    sent_at TIMESTAMP,
    returned BOOLEAN NOT NULL,
    urges INTEGER NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('not_started', 'in_progress', 'completed', 'not_applicable')),
    done_late_days INTEGER
);
CREATE UNIQUE INDEX assignment_standings_current ON assignment_standings (assignment_id)
    WHERE valid_to IS NULL;
CREATE INDEX assignment_standings_history ON assignment_standings (assignment_id, valid_from);
CREATE INDEX assignment_standings_plan_unit ON assignment_standings (plan_id, unit_id)
    WHERE valid_to IS NULL;
CREATE INDEX assignment_standings_deadline ON assignment_standings (deadline, assignment_id)
    WHERE valid_to IS NULL AND deadline IS NOT NULL;

-- The revision of a report that everyone but its unit reads (NULL: never sent).
ALTER TABLE reports ADD COLUMN sent_revision INTEGER;
UPDATE reports SET sent_revision =
    (SELECT MAX(rv.revision) FROM report_revisions rv WHERE rv.report_id = reports.id);

-- The desk no longer aggregates reports.
DROP INDEX reports_done;
DROP INDEX reports_period;
