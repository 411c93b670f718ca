-- Analytics reports: channel spend for cost per lead and customer acquisition cost, monthly KPI
-- targets per rep and team, and the indexes that keep the reports fast on a large base.
-- Statements are idempotent (IF NOT EXISTS), so running this file again changes nothing.

-- What a channel cost in a month (amount in cents, like opportunities.amount_cents). An empty
-- campaign means the whole source.
CREATE TABLE IF NOT EXISTS report_costs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    campaign TEXT NOT NULL DEFAULT '',
    month TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS report_costs_key ON report_costs (source, campaign, month);

-- A monthly target of a user or a team (subject 'user' or 'team'). The value of won_amount is
-- in cents; the others are counts.
CREATE TABLE IF NOT EXISTS report_targets (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    metric TEXT NOT NULL,
    month TEXT NOT NULL,
    value BIGINT NOT NULL,
    set_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS report_targets_key
    ON report_targets (subject, subject_id, metric, month);

-- Leads created in a time range by source, status, owner (and team), period, and through the
-- funnel: covering, so that counting a month of leads on a large base never reads the table.
CREATE INDEX IF NOT EXISTS leads_report_idx
    ON leads (created_at, owner_id, source, status, converted_opportunity_id)
    WHERE deleted_at IS NULL;
-- The first activity of each lead (speed to lead): one seek in an index that covers it.
CREATE INDEX IF NOT EXISTS activities_first_idx
    ON activities (record_type, record_id, deleted_at, created_at);
-- Activities in a time range, for everyone (admin) or for some owners (rep, manager); covering,
-- so that counting them by user, type and outcome never reads the table.
CREATE INDEX IF NOT EXISTS activities_created_cover_idx
    ON activities (created_at, owner_id, type, outcome) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS activities_owner_created_cover_idx
    ON activities (owner_id, created_at, type, outcome) WHERE deleted_at IS NULL;
-- Deals won in a time range (sales cycle, won_amount targets).
CREATE INDEX IF NOT EXISTS opportunities_won_idx ON opportunities (result, closed_at);
-- Leads converted in a time range (conversion targets).
CREATE INDEX IF NOT EXISTS leads_converted_at_idx ON leads (converted_at)
    WHERE converted_at IS NOT NULL;
