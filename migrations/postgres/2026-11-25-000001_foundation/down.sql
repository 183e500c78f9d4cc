DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only;
DROP TABLE login_throttles;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE unit_aliases;
DROP TABLE units;
