DROP TRIGGER standing_tallies ON assignment_standings;
DROP FUNCTION standing_tally();
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

CREATE FUNCTION standing_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.valid_to IS NULL THEN
        INSERT INTO standing_tallies VALUES (OLD.plan_id, OLD.unit_id, OLD.phase, OLD.due_date,
            OLD.deadline, OLD.sent_report_id IS NOT NULL, OLD.returned, OLD.urges > 0,
            OLD.done IS NOT NULL, OLD.done_late_days IS NOT NULL, -1,
            -COALESCE(OLD.done_late_days, 0));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.valid_to IS NULL THEN
        INSERT INTO standing_tallies VALUES (NEW.plan_id, NEW.unit_id, NEW.phase, NEW.due_date,
            NEW.deadline, NEW.sent_report_id IS NOT NULL, NEW.returned, NEW.urges > 0,
            NEW.done IS NOT NULL, NEW.done_late_days IS NOT NULL, 1,
            COALESCE(NEW.done_late_days, 0));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER standing_tallies AFTER INSERT OR UPDATE OR DELETE ON assignment_standings
    FOR EACH ROW EXECUTE FUNCTION standing_tally();

INSERT INTO standing_tallies
SELECT plan_id, unit_id, phase, due_date, deadline, sent_report_id IS NOT NULL, returned,
       urges > 0, done IS NOT NULL, done_late_days IS NOT NULL, CAST(COUNT(*) AS INTEGER),
       CAST(COALESCE(SUM(done_late_days), 0) AS INTEGER)
FROM assignment_standings WHERE valid_to IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
