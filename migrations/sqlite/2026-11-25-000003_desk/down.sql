DROP INDEX reports_assignment_workflow;
DROP TABLE reminder_log;
DROP TABLE urge_assignments;
DROP TABLE urges;
