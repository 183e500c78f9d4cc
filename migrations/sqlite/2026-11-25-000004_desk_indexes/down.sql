DROP INDEX reports_period;
DROP INDEX reports_done;
