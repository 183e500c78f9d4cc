DROP TABLE audit_log;
DROP TABLE login_throttles;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE unit_aliases;
DROP TABLE units;
