-- Xiansuo schema, SQLite dialect. Instants are Unix milliseconds (BIGINT), JSON is TEXT.
-- Keep in step with ../postgres/0001_init.sql: a test compares the two.

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id BIGINT REFERENCES teams (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX teams_name_key ON teams (name);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    display_name TEXT,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id BIGINT REFERENCES teams (id),
    locale TEXT NOT NULL DEFAULT 'zh',
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_team_idx ON users (team_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    session_hash TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sessions_hash_key ON sessions (session_hash);

CREATE TABLE custom_field_defs (
    id INTEGER PRIMARY KEY,
    record_type TEXT NOT NULL,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]',
    required BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX custom_field_defs_key ON custom_field_defs (record_type, key);

CREATE TABLE leads (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    company TEXT,
    title TEXT,
    phone TEXT,
    phone_normalized TEXT,
    email TEXT,
    email_normalized TEXT,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    score BIGINT NOT NULL DEFAULT 0,
    grade TEXT,
    industry TEXT,
    province TEXT,
    city TEXT,
    company_size BIGINT,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX leads_created_idx ON leads (created_at, id);
CREATE INDEX leads_owner_created_idx ON leads (owner_id, created_at, id);
CREATE INDEX leads_status_created_idx ON leads (status, created_at, id);
CREATE INDEX leads_phone_idx ON leads (phone_normalized);
CREATE INDEX leads_email_idx ON leads (email_normalized);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    industry TEXT,
    province TEXT,
    city TEXT,
    address TEXT,
    phone TEXT,
    phone_normalized TEXT,
    website TEXT,
    company_size BIGINT,
    description TEXT,
    owner_id BIGINT REFERENCES users (id),
    tags TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX accounts_owner_created_idx ON accounts (owner_id, created_at, id);
CREATE INDEX accounts_created_idx ON accounts (created_at, id);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    account_id BIGINT REFERENCES accounts (id),
    name TEXT NOT NULL,
    title TEXT,
    phone TEXT,
    phone_normalized TEXT,
    email TEXT,
    email_normalized TEXT,
    wechat TEXT,
    description TEXT,
    owner_id BIGINT REFERENCES users (id),
    tags TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX contacts_owner_created_idx ON contacts (owner_id, created_at, id);
CREATE INDEX contacts_created_idx ON contacts (created_at, id);
CREATE INDEX contacts_account_idx ON contacts (account_id);
CREATE INDEX contacts_phone_idx ON contacts (phone_normalized);
CREATE INDEX contacts_email_idx ON contacts (email_normalized);

CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    account_id BIGINT REFERENCES accounts (id),
    contact_id BIGINT REFERENCES contacts (id),
    lead_id BIGINT REFERENCES leads (id),
    amount_cents BIGINT,
    stage TEXT NOT NULL,
    expected_close_date TEXT,
    description TEXT,
    owner_id BIGINT REFERENCES users (id),
    tags TEXT NOT NULL DEFAULT '[]',
    custom TEXT NOT NULL DEFAULT '{}',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX opportunities_owner_created_idx ON opportunities (owner_id, created_at, id);
CREATE INDEX opportunities_created_idx ON opportunities (created_at, id);
CREATE INDEX opportunities_account_idx ON opportunities (account_id);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT,
    content TEXT,
    next_follow_up_at BIGINT,
    owner_id BIGINT REFERENCES users (id),
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX activities_record_idx ON activities (record_type, record_id, created_at);

CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    actor_id BIGINT,
    channel TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX history_record_idx ON history (record_type, record_id, id);
