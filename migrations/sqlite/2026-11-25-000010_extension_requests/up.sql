-- Extension requests (延期申请): before its due date a unit asks for a later one, with its
-- reasons and the work done so far; the office approves (granting a date, which then becomes
-- the assignment's due date) or rejects with a reason. One request per assignment may be
-- pending at a time. The row keeps the due date in force when asked, so the history of an
-- assignment's due dates can be told from its requests and the audit trail.
CREATE TABLE extension_requests (
    id INTEGER PRIMARY KEY,
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    due_date DATE NOT NULL,
    requested_due_date DATE NOT NULL,
    reason TEXT NOT NULL,
    progress TEXT NOT NULL,
    requested_by BIGINT REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    granted_due_date DATE,
    decision_note TEXT,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE UNIQUE INDEX extension_requests_one_pending ON extension_requests (assignment_id)
    WHERE state = 'pending';
CREATE INDEX extension_requests_unit ON extension_requests (unit_id, id);
CREATE INDEX extension_requests_plan ON extension_requests (plan_id, id);
CREATE INDEX extension_requests_assignment ON extension_requests (assignment_id, id);
