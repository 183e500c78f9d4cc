-- Signing for assignments (签收): when a plan is published each assigned unit signs for its
-- assignments. The assignment keeps who signed and when; its standing carries whether it is
-- signed (a new version when it is, so a past day's figures count what was signed by then),
-- and the tallies count the unsigned ones per unit (`/stats/units` `unreceived`).

ALTER TABLE assignments ADD COLUMN received_at TIMESTAMP;
ALTER TABLE assignments ADD COLUMN received_by BIGINT REFERENCES users (id);
ALTER TABLE assignment_standings ADD COLUMN received BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE standing_tallies ADD COLUMN unreceived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX assignments_unreceived ON assignments (plan_id, unit_id) WHERE received_at IS NULL;

CREATE OR REPLACE FUNCTION standing_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.valid_to IS NULL THEN
        INSERT INTO standing_tallies VALUES (OLD.plan_id, OLD.unit_id, OLD.phase,
            CASE WHEN OLD.done IS NULL THEN OLD.due_date END, OLD.deadline,
            OLD.done IS NOT NULL, OLD.done_late_days IS NOT NULL, -1,
            -CASE WHEN OLD.sent_report_id IS NOT NULL THEN 1 ELSE 0 END,
            -CASE WHEN OLD.returned THEN 1 ELSE 0 END,
            -CASE WHEN OLD.urges > 0 THEN 1 ELSE 0 END,
            -COALESCE(OLD.done_late_days, 0),
            -CASE WHEN OLD.received THEN 0 ELSE 1 END);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.valid_to IS NULL THEN
        INSERT INTO standing_tallies VALUES (NEW.plan_id, NEW.unit_id, NEW.phase,
            CASE WHEN NEW.done IS NULL THEN NEW.due_date END, NEW.deadline,
            NEW.done IS NOT NULL, NEW.done_late_days IS NOT NULL, 1,
            CASE WHEN NEW.sent_report_id IS NOT NULL THEN 1 ELSE 0 END,
            CASE WHEN NEW.returned THEN 1 ELSE 0 END,
            CASE WHEN NEW.urges > 0 THEN 1 ELSE 0 END,
            COALESCE(NEW.done_late_days, 0),
            CASE WHEN NEW.received THEN 0 ELSE 1 END);
    END IF;
    RETURN NULL;
END
$$;

DELETE FROM standing_tallies;
INSERT INTO standing_tallies
SELECT plan_id, unit_id, phase, CASE WHEN done IS NULL THEN due_date END, deadline,
       done IS NOT NULL, done_late_days IS NOT NULL, CAST(COUNT(*) AS INTEGER),
       CAST(SUM(CASE WHEN sent_report_id IS NOT NULL THEN 1 ELSE 0 END) AS INTEGER),
       CAST(SUM(CASE WHEN returned THEN 1 ELSE 0 END) AS INTEGER),
       CAST(SUM(CASE WHEN urges > 0 THEN 1 ELSE 0 END) AS INTEGER),
       CAST(COALESCE(SUM(done_late_days), 0) AS INTEGER),
       CAST(SUM(CASE WHEN received THEN 0 ELSE 1 END) AS INTEGER)
FROM assignment_standings WHERE valid_to IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;
