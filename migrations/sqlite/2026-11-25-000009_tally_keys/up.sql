-- Tallies keyed on fewer facts, so that their number follows the combinations a figure can
-- tell apart, not the history: a done standing's due date enters no figure (done is done
-- whatever the day), so its tally leaves it out; being reported, returned and urged are only
-- ever counted, never combined with another fact, so they are counted in columns instead of
-- splitting tallies. A unit's current standings fold into a handful of tallies at the year's
-- end as at its start. Kept equivalent to migrations/postgres.
-- (store::desk's STANDING_FACTS and TALLY_FACTS read both shapes alike.)

DROP TRIGGER standing_tallies_insert;
DROP TRIGGER standing_tallies_update_old;
DROP TRIGGER standing_tallies_update_new;
DROP TRIGGER standing_tallies_delete;
DROP TABLE standing_tallies;

CREATE TABLE standing_tallies (
    plan_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    phase TEXT NOT NULL,
    due_date DATE,
    deadline DATE,
    done BOOLEAN NOT NULL,
    late BOOLEAN NOT NULL,
    n INTEGER NOT NULL,
    reported INTEGER NOT NULL,
    returned INTEGER NOT NULL,
    urged INTEGER NOT NULL,
    late_days INTEGER NOT NULL
);
CREATE INDEX standing_tallies_plan_unit ON standing_tallies (plan_id, unit_id);

CREATE TRIGGER standing_tallies_insert AFTER INSERT ON assignment_standings
WHEN NEW.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (NEW.plan_id, NEW.unit_id, NEW.phase,
        CASE WHEN NEW.done IS NULL THEN NEW.due_date END, NEW.deadline,
        NEW.done IS NOT NULL, NEW.done_late_days IS NOT NULL, 1,
        CASE WHEN NEW.sent_report_id IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN NEW.returned THEN 1 ELSE 0 END,
        CASE WHEN NEW.urges > 0 THEN 1 ELSE 0 END,
        COALESCE(NEW.done_late_days, 0));
END;

CREATE TRIGGER standing_tallies_update_old AFTER UPDATE ON assignment_standings
WHEN OLD.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (OLD.plan_id, OLD.unit_id, OLD.phase,
        CASE WHEN OLD.done IS NULL THEN OLD.due_date END, OLD.deadline,
        OLD.done IS NOT NULL, OLD.done_late_days IS NOT NULL, -1,
        -CASE WHEN OLD.sent_report_id IS NOT NULL THEN 1 ELSE 0 END,
        -CASE WHEN OLD.returned THEN 1 ELSE 0 END,
        -CASE WHEN OLD.urges > 0 THEN 1 ELSE 0 END,
        -COALESCE(OLD.done_late_days, 0));
END;

CREATE TRIGGER standing_tallies_update_new AFTER UPDATE ON assignment_standings
WHEN NEW.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (NEW.plan_id, NEW.unit_id, NEW.phase,
        CASE WHEN NEW.done IS NULL THEN NEW.due_date END, NEW.deadline,
        NEW.done IS NOT NULL, NEW.done_late_days IS NOT NULL, 1,
        CASE WHEN NEW.sent_report_id IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN NEW.returned THEN 1 ELSE 0 END,
        CASE WHEN NEW.urges > 0 THEN 1 ELSE 0 END,
        COALESCE(NEW.done_late_days, 0));
END;

CREATE TRIGGER standing_tallies_delete AFTER DELETE ON assignment_standings
WHEN OLD.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (OLD.plan_id, OLD.unit_id, OLD.phase,
        CASE WHEN OLD.done IS NULL THEN OLD.due_date END, OLD.deadline,
        OLD.done IS NOT NULL, OLD.done_late_days IS NOT NULL, -1,
        -CASE WHEN OLD.sent_report_id IS NOT NULL THEN 1 ELSE 0 END,
        -CASE WHEN OLD.returned THEN 1 ELSE 0 END,
        -CASE WHEN OLD.urges > 0 THEN 1 ELSE 0 END,
        -COALESCE(OLD.done_late_days, 0));
END;

INSERT INTO standing_tallies
SELECT plan_id, unit_id, phase, CASE WHEN done IS NULL THEN due_date END, deadline,
       done IS NOT NULL, done_late_days IS NOT NULL, COUNT(*),
       CAST(SUM(CASE WHEN sent_report_id IS NOT NULL THEN 1 ELSE 0 END) AS INTEGER),
       CAST(SUM(CASE WHEN returned THEN 1 ELSE 0 END) AS INTEGER),
       CAST(SUM(CASE WHEN urges > 0 THEN 1 ELSE 0 END) AS INTEGER),
       CAST(COALESCE(SUM(done_late_days), 0) AS INTEGER)
FROM assignment_standings WHERE valid_to IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7;
