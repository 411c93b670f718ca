-- Scoring rules and settings, behaviour events of leads, assignment rules with their
-- persistent round-robin counts, and the availability and caps of users.

-- A lead's tier (from its score), urgency and demand stage; the breakdown of its score by rule
-- (JSON, null while no scoring rule has scored it).
ALTER TABLE leads ADD COLUMN tier TEXT;
ALTER TABLE leads ADD COLUMN urgency TEXT;
ALTER TABLE leads ADD COLUMN demand_stage TEXT;
ALTER TABLE leads ADD COLUMN score_breakdown TEXT;
-- Tiers of existing leads from the default thresholds (high from 70, medium from 40).
UPDATE leads SET tier = CASE WHEN score >= 70 THEN 'high' WHEN score >= 40 THEN 'medium' ELSE 'low' END;

-- The rule as the API shows it, without its id, is kept in `definition` (JSON).
CREATE TABLE scoring_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    definition TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row (id 1) once an admin has changed the defaults.
CREATE TABLE scoring_settings (
    id BIGINT PRIMARY KEY,
    max_score BIGINT NOT NULL,
    high_threshold BIGINT NOT NULL,
    medium_threshold BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE lead_events (
    id INTEGER PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    type TEXT NOT NULL,
    name TEXT,
    url TEXT,
    occurred_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX lead_events_lead_idx ON lead_events (lead_id, occurred_at);

-- Conditions, target, strategy, members, territories and fallback are in `definition` (JSON).
CREATE TABLE assignment_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    definition TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- How many leads each rule has given each member: the persistent round-robin cursor.
CREATE TABLE assignment_counts (
    rule_id BIGINT NOT NULL REFERENCES assignment_rules (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    assigned BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (rule_id, user_id)
);

-- How many leads rules gave each user on each day (China time), for daily caps.
CREATE TABLE assignment_daily (
    user_id BIGINT NOT NULL REFERENCES users (id),
    day TEXT NOT NULL,
    assigned BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);

-- One row (id 1): who takes a lead that a matching rule could not place.
CREATE TABLE assignment_settings (
    id BIGINT PRIMARY KEY,
    fallback_user_id BIGINT REFERENCES users (id),
    fallback_pool_id BIGINT,
    updated_at BIGINT NOT NULL
);

-- Away until when, and the caps rules respect for a user.
CREATE TABLE user_availability (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    away_until BIGINT,
    max_open_leads BIGINT,
    daily_cap BIGINT,
    updated_at BIGINT NOT NULL
);
