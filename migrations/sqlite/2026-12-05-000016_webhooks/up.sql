-- Webhooks: a unit's subscriptions (or the office's, covering every unit), the outbox of
-- events written in the transaction of the change they describe, and one delivery per event
-- and subscription, claimed by a worker, retried with backoff, logged. Ids are never reused
-- (AUTOINCREMENT): receivers drop repeats by event id, and logs name deliveries by id.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id BIGINT REFERENCES units (id),
    covers TEXT NOT NULL CHECK (covers IN ('unit', 'all')),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    disabled_reason TEXT,
    disabled_at TIMESTAMP,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_success_at TIMESTAMP
);
CREATE INDEX webhooks_unit ON webhooks (unit_id, id);

CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    unit_id BIGINT REFERENCES units (id),
    occurred_at TIMESTAMP NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    event_id BIGINT NOT NULL REFERENCES webhook_events (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    last_duration_ms INTEGER,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    redelivery_of BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
