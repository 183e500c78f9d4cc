-- The office's desk (kept equivalent to migrations/postgres): urges (提醒 / 催办 / 督办) about assignments, and the log that keeps
-- automatic reminders to one per assignment, period and kind.

CREATE TABLE urges (
    id INTEGER PRIMARY KEY,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    severity TEXT NOT NULL CHECK (severity IN ('reminder', 'urge', 'supervise')),
    message TEXT NOT NULL,
    reply_by DATE,
    automatic BOOLEAN NOT NULL,
    issued_by BIGINT REFERENCES users (id),
    issued_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by BIGINT REFERENCES users (id),
    reply TEXT,
    replied_at TIMESTAMP,
    replied_by BIGINT REFERENCES users (id)
);
CREATE INDEX urges_unit_issued ON urges (unit_id, issued_at);

CREATE TABLE urge_assignments (
    urge_id BIGINT NOT NULL REFERENCES urges (id) ON DELETE CASCADE,
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    PRIMARY KEY (urge_id, assignment_id)
);
CREATE INDEX urge_assignments_assignment_id ON urge_assignments (assignment_id);

CREATE TABLE reminder_log (
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('before_due', 'after_due')),
    urge_id BIGINT REFERENCES urges (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (assignment_id, period, kind)
);

CREATE INDEX reports_assignment_workflow ON reports (assignment_id, workflow, status);
