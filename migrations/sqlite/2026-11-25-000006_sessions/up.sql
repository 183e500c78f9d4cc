-- One row per sign-in (a password login and the refresh tokens rotated from it, or one
-- client-credentials grant). Every access token names its session; ending the session ends
-- the access tokens at once.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- The sign-ins of refresh tokens issued before sessions were kept.
INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at)
SELECT family, MIN(user_id), MIN(issued_at), MAX(expires_at), MIN(revoked_at)
FROM refresh_tokens
GROUP BY family;

-- An Idempotency-Key whose first request is still running: reserved in its own committed
-- statement, released when the request fails, taken over once `locked_until` has passed.
CREATE TABLE idempotency_locks (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    locked_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
