-- The supervision core (kept equivalent to migrations/postgres): unit groups, plans with their task tree, source documents, assignments,
-- reports with immutable revisions, and idempotency keys.

CREATE TABLE unit_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE unit_group_aliases (
    id INTEGER PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES unit_groups (id) ON DELETE CASCADE,
    alias TEXT NOT NULL UNIQUE
);
CREATE INDEX unit_group_aliases_group_id ON unit_group_aliases (group_id);

CREATE TABLE unit_group_members (
    group_id BIGINT NOT NULL REFERENCES unit_groups (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (group_id, unit_id)
);
CREATE INDEX unit_group_members_unit_id ON unit_group_members (unit_id);

CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    year INTEGER NOT NULL,
    issuing_unit_id BIGINT REFERENCES units (id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'closed')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    closed_at TIMESTAMP
);
CREATE INDEX plans_year ON plans (year);

CREATE TABLE plan_items (
    id INTEGER PRIMARY KEY,
    plan_id BIGINT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES plan_items (id) ON DELETE CASCADE,
    level TEXT NOT NULL CHECK (level IN ('section', 'task', 'measure')),
    code TEXT NOT NULL,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    position INTEGER NOT NULL,
    lead_text TEXT,
    participant_text TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (plan_id, code),
    UNIQUE (plan_id, level, number)
);
CREATE INDEX plan_items_plan_position ON plan_items (plan_id, position);
CREATE INDEX plan_items_parent_id ON plan_items (parent_id);

CREATE TABLE source_documents (
    id INTEGER PRIMARY KEY,
    doc_number TEXT NOT NULL UNIQUE,
    title TEXT,
    issuer TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE measure_sources (
    measure_id BIGINT NOT NULL REFERENCES plan_items (id) ON DELETE CASCADE,
    source_id BIGINT NOT NULL REFERENCES source_documents (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (measure_id, source_id)
);
CREATE INDEX measure_sources_source_id ON measure_sources (source_id);

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    plan_id BIGINT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    measure_id BIGINT NOT NULL REFERENCES plan_items (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'participant')),
    via_group_id BIGINT REFERENCES unit_groups (id),
    due_date DATE NOT NULL,
    cycle TEXT NOT NULL CHECK (cycle IN ('once', 'monthly', 'quarterly', 'half_yearly', 'yearly')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (measure_id, unit_id)
);
CREATE INDEX assignments_unit_plan ON assignments (unit_id, plan_id);
CREATE INDEX assignments_plan_due ON assignments (plan_id, due_date);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    assignment_id BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    period TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'completed', 'not_applicable')),
    narrative TEXT NOT NULL,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    workflow TEXT NOT NULL CHECK (workflow IN ('draft', 'submitted', 'returned', 'resubmitted', 'accepted')),
    return_reason TEXT,
    version INTEGER NOT NULL,
    created_by BIGINT REFERENCES users (id),
    updated_by BIGINT REFERENCES users (id),
    submitted_at TIMESTAMP,
    reviewed_at TIMESTAMP,
    reviewed_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (assignment_id, period)
);
CREATE INDEX reports_unit_workflow ON reports (unit_id, workflow);

CREATE TABLE report_revisions (
    id INTEGER PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    narrative TEXT NOT NULL,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    submitted_by BIGINT REFERENCES users (id),
    submitted_at TIMESTAMP NOT NULL,
    UNIQUE (report_id, revision)
);

CREATE TRIGGER report_revisions_no_update BEFORE UPDATE ON report_revisions
BEGIN
    SELECT RAISE(ABORT, 'report revisions are immutable');
END;

CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
