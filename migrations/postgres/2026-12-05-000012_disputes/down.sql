DROP TRIGGER measure_tallies ON assignment_standings;
DROP FUNCTION measure_tally();
DROP TABLE measure_tallies;
DROP INDEX assignments_leads;
DROP INDEX assignments_unit_keyset;
DROP INDEX reports_latest;
ALTER TABLE assignment_standings DROP COLUMN lead;
ALTER TABLE assignment_standings DROP COLUMN measure_id;
DELETE FROM reminder_log WHERE kind = 'unreceived';
ALTER TABLE reminder_log DROP CONSTRAINT reminder_log_kind_check;
ALTER TABLE reminder_log ADD CONSTRAINT reminder_log_kind_check
    CHECK (kind IN ('before_due', 'after_due'));
ALTER TABLE reports DROP CONSTRAINT reports_assignment_unit_period;
ALTER TABLE reports ADD CONSTRAINT reports_assignment_id_period_key UNIQUE (assignment_id, period);
ALTER TABLE assignments DROP COLUMN held_since;
DROP TABLE disputes;
