-- Public pools (公海) with their members and recycle rules, the timers of held leads,
-- follow-up reminders, working hours and SLA rules, manager comments on follow-ups, and
-- attachments.

CREATE TABLE pools (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT,
    industry TEXT,
    admin_id BIGINT REFERENCES users (id),
    max_held BIGINT,
    max_claims_per_day BIGINT,
    cooldown_days BIGINT NOT NULL DEFAULT 0,
    protection_days BIGINT NOT NULL DEFAULT 0,
    protection_max_days BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX pools_name_key ON pools (name) WHERE deleted_at IS NULL;

-- Who may see and claim a pool's leads: users, and teams with their subtrees.
CREATE TABLE pool_members (
    id INTEGER PRIMARY KEY,
    pool_id BIGINT NOT NULL REFERENCES pools (id),
    user_id BIGINT REFERENCES users (id),
    team_id BIGINT REFERENCES teams (id)
);
CREATE INDEX pool_members_pool_idx ON pool_members (pool_id);

-- Every lead taken from or put into a pool: claim, assign, release, recycle. user_id is the
-- new owner (claim, assign) or the one who lost it (release, recycle), for limits and
-- cool-downs.
CREATE TABLE pool_moves (
    id INTEGER PRIMARY KEY,
    pool_id BIGINT NOT NULL REFERENCES pools (id),
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    kind TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    actor_id BIGINT,
    reason TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX pool_moves_user_idx ON pool_moves (user_id, kind, at);
CREATE INDEX pool_moves_lead_idx ON pool_moves (lead_id, user_id, at);

CREATE TABLE recycle_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    after_amount BIGINT NOT NULL,
    unit TEXT NOT NULL,
    warn_before BIGINT NOT NULL DEFAULT 0,
    pool_id BIGINT REFERENCES pools (id),
    team_id BIGINT REFERENCES teams (id),
    active BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- One warning per rule, lead and deadline (identified by the instant its timer started).
CREATE TABLE recycle_warnings (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES recycle_rules (id),
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    timer_start BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    warned_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX recycle_warnings_key ON recycle_warnings (rule_id, lead_id, timer_start);

ALTER TABLE leads ADD COLUMN pool_id BIGINT REFERENCES pools (id);
ALTER TABLE leads ADD COLUMN pooled_at BIGINT;
ALTER TABLE leads ADD COLUMN claimed_pool_id BIGINT REFERENCES pools (id);
ALTER TABLE leads ADD COLUMN protected_until BIGINT;
ALTER TABLE leads ADD COLUMN last_activity_at BIGINT;
CREATE INDEX leads_pool_idx ON leads (pool_id, id);
CREATE INDEX leads_claimed_pool_idx ON leads (claimed_pool_id, owner_id);
UPDATE leads SET last_activity_at = (
    SELECT MAX(a.created_at) FROM activities a
    WHERE a.record_type = 'lead' AND a.record_id = leads.id AND a.deleted_at IS NULL
);

-- Follow-up reminders: the due instant a reminder was last sent for, so that each is sent once
-- and a moved follow-up is reminded again.
ALTER TABLE activities ADD COLUMN reminded_for BIGINT;
CREATE INDEX activities_follow_up_idx ON activities (next_follow_up_at);

-- The one set of working hours SLA clocks count in (absent: Mon-Fri 09:00-18:00, Asia/Shanghai).
CREATE TABLE working_hours (
    id INTEGER PRIMARY KEY,
    time_zone TEXT NOT NULL,
    weekdays TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    holidays TEXT NOT NULL DEFAULT '[]',
    workdays TEXT NOT NULL DEFAULT '[]',
    updated_at BIGINT NOT NULL
);

CREATE TABLE sla_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    hours BIGINT NOT NULL,
    action TEXT NOT NULL,
    target_pool_id BIGINT REFERENCES pools (id),
    target_user_id BIGINT REFERENCES users (id),
    team_id BIGINT REFERENCES teams (id),
    active BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- Each rule acts once per lead and assignment.
CREATE TABLE sla_breaches (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES sla_rules (id),
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    assigned_at BIGINT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    action TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_breaches_key ON sla_breaches (rule_id, lead_id, assigned_at);

-- Managers' comments (点评) on follow-ups.
CREATE TABLE activity_comments (
    id INTEGER PRIMARY KEY,
    activity_id BIGINT NOT NULL REFERENCES activities (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX activity_comments_activity_idx ON activity_comments (activity_id, id);

-- Files kept in the database, so that every instance serves them; the content is base64 in
-- chunks of at most 1 MiB of file each.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    activity_id BIGINT REFERENCES activities (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX attachments_record_idx ON attachments (record_type, record_id, id);

CREATE TABLE attachment_chunks (
    id INTEGER PRIMARY KEY,
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    seq BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX attachment_chunks_key ON attachment_chunks (attachment_id, seq);
