DROP TRIGGER standing_tallies_insert;
DROP TRIGGER standing_tallies_update_old;
DROP TRIGGER standing_tallies_update_new;
DROP TRIGGER standing_tallies_delete;
DROP TABLE standing_tallies;

CREATE TABLE standing_tallies (
    plan_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    phase TEXT NOT NULL,
    due_date DATE NOT NULL,
    deadline DATE,
    reported BOOLEAN NOT NULL,
    returned BOOLEAN NOT NULL,
    urged BOOLEAN NOT NULL,
    done BOOLEAN NOT NULL,
    late BOOLEAN NOT NULL,
    n INTEGER NOT NULL,
    late_days INTEGER NOT NULL
);
CREATE INDEX standing_tallies_plan_unit ON standing_tallies (plan_id, unit_id);

CREATE TRIGGER standing_tallies_insert AFTER INSERT ON assignment_standings
WHEN NEW.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (NEW.plan_id, NEW.unit_id, NEW.phase, NEW.due_date,
        NEW.deadline, NEW.sent_report_id IS NOT NULL, NEW.returned, NEW.urges > 0,
        NEW.done IS NOT NULL, NEW.done_late_days IS NOT NULL, 1, COALESCE(NEW.done_late_days, 0));
END;

CREATE TRIGGER standing_tallies_update_old AFTER UPDATE ON assignment_standings
WHEN OLD.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (OLD.plan_id, OLD.unit_id, OLD.phase, OLD.due_date,
        OLD.deadline, OLD.sent_report_id IS NOT NULL, OLD.returned, OLD.urges > 0,
        OLD.done IS NOT NULL, OLD.done_late_days IS NOT NULL, -1, -COALESCE(OLD.done_late_days, 0));
END;

CREATE TRIGGER standing_tallies_update_new AFTER UPDATE ON assignment_standings
WHEN NEW.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (NEW.plan_id, NEW.unit_id, NEW.phase, NEW.due_date,
        NEW.deadline, NEW.sent_report_id IS NOT NULL, NEW.returned, NEW.urges > 0,
        NEW.done IS NOT NULL, NEW.done_late_days IS NOT NULL, 1, COALESCE(NEW.done_late_days, 0));
END;

CREATE TRIGGER standing_tallies_delete AFTER DELETE ON assignment_standings
WHEN OLD.valid_to IS NULL BEGIN
    INSERT INTO standing_tallies VALUES (OLD.plan_id, OLD.unit_id, OLD.phase, OLD.due_date,
        OLD.deadline, OLD.sent_report_id IS NOT NULL, OLD.returned, OLD.urges > 0,
        OLD.done IS NOT NULL, OLD.done_late_days IS NOT NULL, -1, -COALESCE(OLD.done_late_days, 0));
END;

INSERT INTO standing_tallies
SELECT plan_id, unit_id, phase, due_date, deadline, sent_report_id IS NOT NULL, returned,
       urges > 0, done IS NOT NULL, done_late_days IS NOT NULL, COUNT(*),
       COALESCE(SUM(done_late_days), 0)
FROM assignment_standings WHERE valid_to IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
