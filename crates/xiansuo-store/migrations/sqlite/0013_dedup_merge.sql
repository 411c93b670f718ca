-- Dedup on every channel, the duplicate scan, and merges that can be undone.
-- Keep in step with ../postgres/0013_dedup_merge.sql: a test compares the two.

-- The person key (xiansuo-core/src/dedup.rs) of a lead's and a contact's name. The program
-- computes it on every write; rows written before this migration get theirs from the program
-- right after it (migrate.rs).
ALTER TABLE leads ADD COLUMN person_key TEXT;
ALTER TABLE contacts ADD COLUMN person_key TEXT;
-- The lead a new lead was flagged as a possible duplicate of (warn policy).
ALTER TABLE leads ADD COLUMN duplicate_of BIGINT;
-- The lead a merged lead went into; merged leads are soft-deleted, so a merge can be undone.
ALTER TABLE leads ADD COLUMN merged_into BIGINT;
CREATE INDEX leads_person_key_idx ON leads (person_key, company_key);
CREATE INDEX contacts_person_key_idx ON contacts (person_key);
CREATE INDEX accounts_phone_idx ON accounts (phone_normalized);

-- What a new lead that duplicates existing records does, per source ('*': any other source).
-- Sources without a row follow the built-in defaults.
CREATE TABLE dedup_policies (
    source TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL
);

-- Runs of the duplicate scan, requested or periodic.
CREATE TABLE dedup_scans (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    requested_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    groups_found BIGINT,
    error TEXT
);

-- The groups of duplicate leads the last finished scan found.
CREATE TABLE duplicate_groups (
    id INTEGER PRIMARY KEY,
    scan_id BIGINT NOT NULL REFERENCES dedup_scans (id),
    signals TEXT NOT NULL DEFAULT '[]',
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE duplicate_group_members (
    group_id BIGINT NOT NULL REFERENCES duplicate_groups (id),
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    PRIMARY KEY (group_id, lead_id)
);
CREATE INDEX duplicate_group_members_lead_idx ON duplicate_group_members (lead_id);

-- Each merge, with what undoing it needs: the survivor's columns before the merge and after
-- it, and the ids of every row moved from a merged lead to the survivor.
CREATE TABLE lead_merges (
    id INTEGER PRIMARY KEY,
    survivor_id BIGINT NOT NULL REFERENCES leads (id),
    merged_ids TEXT NOT NULL,
    fields TEXT NOT NULL DEFAULT '{}',
    before_image TEXT NOT NULL,
    after_image TEXT NOT NULL,
    moved TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    undone_by BIGINT REFERENCES users (id),
    undone_at BIGINT
);
CREATE INDEX lead_merges_survivor_idx ON lead_merges (survivor_id, id);
