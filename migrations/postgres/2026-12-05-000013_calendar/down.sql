DROP INDEX assignments_due_working_days;
ALTER TABLE assignments DROP COLUMN due_counted_from;
ALTER TABLE assignments DROP COLUMN due_working_days;
DROP TABLE calendar_state;
DROP TABLE calendar_shifts;
DROP TABLE calendar_days;
