DROP TRIGGER standing_tallies_insert;
DROP TRIGGER standing_tallies_update_old;
DROP TRIGGER standing_tallies_update_new;
DROP TRIGGER standing_tallies_delete;
DROP INDEX assignments_unreceived;
ALTER TABLE standing_tallies DROP COLUMN unreceived;
ALTER TABLE assignment_standings DROP COLUMN received;
ALTER TABLE assignments DROP COLUMN received_by;
ALTER TABLE assignments DROP COLUMN received_at;

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

