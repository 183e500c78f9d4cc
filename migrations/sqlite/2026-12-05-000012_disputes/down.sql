PRAGMA foreign_keys = OFF;
BEGIN;
DROP TRIGGER measure_tallies_insert;
DROP TRIGGER measure_tallies_update_old;
DROP TRIGGER measure_tallies_update_new;
DROP TRIGGER measure_tallies_delete;
DROP TABLE measure_tallies;
DROP INDEX assignments_leads;
DROP INDEX assignments_unit_keyset;
DROP INDEX reports_latest;
ALTER TABLE assignment_standings DROP COLUMN lead;
ALTER TABLE assignment_standings DROP COLUMN measure_id;
CREATE TABLE reports_rebuilt (
    id INTEGER PRIMARY KEY,
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    period TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'completed', 'not_applicable')),
    narrative TEXT NOT NULL,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    workflow TEXT NOT NULL CHECK (workflow IN ('draft', 'submitted', 'returned', 'resubmitted', 'accepted')),
    return_reason TEXT,
    version INTEGER NOT NULL,
    created_by BIGINT REFERENCES users (id),
    updated_by BIGINT REFERENCES users (id),
    submitted_at TIMESTAMP,
    reviewed_at TIMESTAMP,
    reviewed_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_revision INTEGER,
    UNIQUE (assignment_id, period)
);
INSERT INTO reports_rebuilt (id, assignment_id, unit_id, period, status, narrative, problems, next_steps, workflow, return_reason, version, created_by, updated_by, submitted_at, reviewed_at, reviewed_by, created_at, updated_at, sent_revision)
    SELECT id, assignment_id, unit_id, period, status, narrative, problems, next_steps, workflow, return_reason, version, created_by, updated_by, submitted_at, reviewed_at, reviewed_by, created_at, updated_at, sent_revision FROM reports;
DROP TABLE reports;
ALTER TABLE reports_rebuilt RENAME TO reports;
CREATE INDEX reports_unit_workflow ON reports (unit_id, workflow);
CREATE INDEX reports_assignment_workflow ON reports (assignment_id, workflow, status);
CREATE TABLE reminder_log_rebuilt (
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('before_due', 'after_due')),
    urge_id BIGINT REFERENCES urges (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (assignment_id, period, kind)
);
INSERT INTO reminder_log_rebuilt (assignment_id, period, kind, urge_id, created_at)
    SELECT assignment_id, period, kind, urge_id, created_at FROM reminder_log WHERE kind <> 'unreceived';
DROP TABLE reminder_log;
ALTER TABLE reminder_log_rebuilt RENAME TO reminder_log;
ALTER TABLE assignments DROP COLUMN held_since;
DROP TABLE disputes;
COMMIT;
PRAGMA foreign_keys = ON;
