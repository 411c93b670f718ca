-- Background jobs, in-app notifications, and the instant a lead got its current owner.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    unique_key TEXT,
    state TEXT NOT NULL DEFAULT 'queued',
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 8,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
CREATE INDEX jobs_due_idx ON jobs (state, run_at);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    record_type TEXT,
    record_id BIGINT,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at);

ALTER TABLE leads ADD COLUMN assigned_at BIGINT;
UPDATE leads SET assigned_at = created_at WHERE owner_id IS NOT NULL;
