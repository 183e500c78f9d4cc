-- Evidence files (佐证材料) on reports. The bytes live in the file storage under
-- storage_key; the row is written only once they are stored. A file belongs to the report's
-- working copy until it is removed (removed_at), and to every sent revision from
-- first_revision (set when the report is sent with it) up to last_revision (set when it is
-- removed from the working copy after being sent; NULL: still in the latest).
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    uploaded_by BIGINT REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    first_revision INTEGER,
    last_revision INTEGER,
    removed_at TIMESTAMP,
    removed_by BIGINT REFERENCES users (id)
);
CREATE INDEX attachments_report ON attachments (report_id, id);
