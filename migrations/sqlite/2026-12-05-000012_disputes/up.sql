PRAGMA foreign_keys = OFF;
BEGIN;

-- Disputes (异议 / 调整申请): a unit states that an assignment is not its responsibility
-- (not_ours), or that it should lead rather than participate (should_lead), or the reverse
-- (should_participate). The office resolves it: withdraw the assignment, move it to another
-- unit, change its role, or reject the dispute with a reason. The row keeps what the
-- assignment was when disputed (plan, measure, unit, role), so the record outlives a
-- withdrawn assignment. One dispute per assignment may be pending at a time.
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY,
    assignment_id BIGINT REFERENCES assignments (id) ON DELETE SET NULL,
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    measure_id BIGINT NOT NULL REFERENCES plan_items (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'participant')),
    kind TEXT NOT NULL CHECK (kind IN ('not_ours', 'should_lead', 'should_participate')),
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'resolved')),
    outcome TEXT CHECK (outcome IN ('withdraw', 'move', 'change_role', 'reject')),
    moved_to_unit_id BIGINT REFERENCES units (id),
    new_role TEXT CHECK (new_role IN ('lead', 'participant')),
    resolution_note TEXT,
    raised_by BIGINT REFERENCES users (id),
    raised_at TIMESTAMP NOT NULL,
    resolved_by BIGINT REFERENCES users (id),
    resolved_at TIMESTAMP
);
CREATE UNIQUE INDEX disputes_one_pending ON disputes (assignment_id) WHERE state = 'pending';
CREATE INDEX disputes_unit ON disputes (unit_id, id);
CREATE INDEX disputes_plan ON disputes (plan_id, id);
CREATE INDEX disputes_assignment ON disputes (assignment_id, id);

-- An assignment moved to another unit keeps the reports its former holder wrote; the new
-- holder answers the same periods itself, so a period is unique per assignment and unit.
-- SQLite keeps a table's UNIQUE constraint for good: the table is rebuilt, as its manual
-- describes, with foreign keys off so that dropping the old one cascades nothing.
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
    UNIQUE (assignment_id, unit_id, period)
);
INSERT INTO reports_rebuilt (id, assignment_id, unit_id, period, status, narrative, problems, next_steps, workflow, return_reason, version, created_by, updated_by, submitted_at, reviewed_at, reviewed_by, created_at, updated_at, sent_revision)
    SELECT id, assignment_id, unit_id, period, status, narrative, problems, next_steps, workflow, return_reason, version, created_by, updated_by, submitted_at, reviewed_at, reviewed_by, created_at, updated_at, sent_revision FROM reports;
DROP TABLE reports;
ALTER TABLE reports_rebuilt RENAME TO reports;
CREATE INDEX reports_unit_workflow ON reports (unit_id, workflow);
CREATE INDEX reports_assignment_workflow ON reports (assignment_id, workflow, status);

-- When the unit that holds an assignment took it over from another (a dispute resolved by a
-- move); NULL: since it was made. Its reminder to sign counts from then.
ALTER TABLE assignments ADD COLUMN held_since TIMESTAMP;

-- Assignments still unsigned some days after their plan was published get an automatic
-- reminder to sign (签收), logged like the reminders before and after the due date; the
-- log's CHECK names the new kind (rebuilt, as above).
CREATE TABLE reminder_log_rebuilt (
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('before_due', 'after_due', 'unreceived')),
    urge_id BIGINT REFERENCES urges (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (assignment_id, period, kind)
);
INSERT INTO reminder_log_rebuilt (assignment_id, period, kind, urge_id, created_at)
    SELECT assignment_id, period, kind, urge_id, created_at FROM reminder_log;
DROP TABLE reminder_log;
ALTER TABLE reminder_log_rebuilt RENAME TO reminder_log;

-- The standing carries the assignment's measure and whether it leads it, so that a lead
-- unit's figures on its participants (牵头单位汇总: how many answers are in) read tallies per
-- measure, written by the database like the per-unit tallies, instead of every standing.
ALTER TABLE assignment_standings ADD COLUMN measure_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assignment_standings ADD COLUMN lead BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE assignment_standings SET
    measure_id = (SELECT a.measure_id FROM assignments a WHERE a.id = assignment_standings.assignment_id),
    lead = (SELECT a.role = 'lead' FROM assignments a WHERE a.id = assignment_standings.assignment_id);

-- One row per change to a participant's current standing (+1 / -1), folded by the tallies job.
CREATE TABLE measure_tallies (
    plan_id BIGINT NOT NULL,
    measure_id BIGINT NOT NULL,
    n INTEGER NOT NULL,
    reported INTEGER NOT NULL
);
CREATE INDEX measure_tallies_measure ON measure_tallies (measure_id);
-- A unit's assignments in id order: the keyset pages of /assignments read 50 rows, not every
-- assignment before the cursor.
CREATE INDEX assignments_unit_keyset ON assignments (unit_id, id);
-- The newest report a unit wrote on an assignment, one index probe however long its history.
CREATE INDEX reports_latest ON reports (assignment_id, unit_id, updated_at, id);
-- The measures a unit leads (its consolidation, the visibility of its participants' reports).
CREATE INDEX assignments_leads ON assignments (unit_id, measure_id, plan_id) WHERE role = 'lead';

CREATE TRIGGER measure_tallies_insert AFTER INSERT ON assignment_standings
WHEN NEW.valid_to IS NULL AND NOT NEW.lead BEGIN
    INSERT INTO measure_tallies VALUES (NEW.plan_id, NEW.measure_id, 1,
        CASE WHEN NEW.sent_report_id IS NOT NULL THEN 1 ELSE 0 END);
END;

CREATE TRIGGER measure_tallies_update_old AFTER UPDATE ON assignment_standings
WHEN OLD.valid_to IS NULL AND NOT OLD.lead BEGIN
    INSERT INTO measure_tallies VALUES (OLD.plan_id, OLD.measure_id, -1,
        -CASE WHEN OLD.sent_report_id IS NOT NULL THEN 1 ELSE 0 END);
END;

CREATE TRIGGER measure_tallies_update_new AFTER UPDATE ON assignment_standings
WHEN NEW.valid_to IS NULL AND NOT NEW.lead BEGIN
    INSERT INTO measure_tallies VALUES (NEW.plan_id, NEW.measure_id, 1,
        CASE WHEN NEW.sent_report_id IS NOT NULL THEN 1 ELSE 0 END);
END;

CREATE TRIGGER measure_tallies_delete AFTER DELETE ON assignment_standings
WHEN OLD.valid_to IS NULL AND NOT OLD.lead BEGIN
    INSERT INTO measure_tallies VALUES (OLD.plan_id, OLD.measure_id, -1,
        -CASE WHEN OLD.sent_report_id IS NOT NULL THEN 1 ELSE 0 END);
END;

INSERT INTO measure_tallies
SELECT plan_id, measure_id, CAST(COUNT(*) AS INTEGER),
       CAST(SUM(CASE WHEN sent_report_id IS NOT NULL THEN 1 ELSE 0 END) AS INTEGER)
FROM assignment_standings WHERE valid_to IS NULL AND NOT lead
GROUP BY plan_id, measure_id;

COMMIT;
PRAGMA foreign_keys = ON;
