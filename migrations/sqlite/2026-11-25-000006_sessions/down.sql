DROP TABLE idempotency_locks;
DROP TABLE sessions;
