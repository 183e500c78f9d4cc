ALTER TABLE reports DROP CONSTRAINT reports_assignment_unit_period;
ALTER TABLE reports ADD CONSTRAINT reports_assignment_id_period_key UNIQUE (assignment_id, period);
DROP TABLE disputes;
