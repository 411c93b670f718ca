-- Qualification, conversion and the pipeline. SQLite dialect; keep in step with
-- ../postgres/0007_pipeline.sql (a test compares the two).

-- Pipeline stages (阶段), editable by admins. `kind` is open, won or lost; `probability` is
-- the percent chance of winning a deal at that stage, which a deal takes unless overridden.
CREATE TABLE pipeline_stages (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    probability BIGINT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pipeline_stages_code_key ON pipeline_stages (code);
INSERT INTO pipeline_stages (code, name_zh, name_en, probability, position, kind, created_at, updated_at) VALUES
    ('met', '见到客户', 'Met', 10, 1, 'open', 0, 0),
    ('found', '发现机会', 'Opportunity found', 20, 2, 'open', 0, 0),
    ('confirmed', '确认机会', 'Opportunity confirmed', 30, 3, 'open', 0, 0),
    ('needs', '明确需求', 'Needs defined', 40, 4, 'open', 0, 0),
    ('proposal', '方案报价', 'Proposal', 60, 5, 'open', 0, 0),
    ('commitment', '客户承诺', 'Commitment', 80, 6, 'open', 0, 0),
    ('acceptance', '验收', 'Acceptance', 90, 7, 'open', 0, 0),
    ('paid', '收款', 'Paid', 100, 8, 'won', 0, 0),
    ('lost', '输单', 'Lost', 0, 9, 'lost', 0, 0);

-- A deal's win probability (it follows the stage unless set), whether it is open, won or
-- lost, why, and when it closed.
ALTER TABLE opportunities ADD COLUMN probability BIGINT;
ALTER TABLE opportunities ADD COLUMN result TEXT NOT NULL DEFAULT 'open';
ALTER TABLE opportunities ADD COLUMN close_reason TEXT;
ALTER TABLE opportunities ADD COLUMN closed_at BIGINT;
UPDATE opportunities SET probability = (SELECT s.probability FROM pipeline_stages s WHERE s.code = opportunities.stage);
CREATE INDEX opportunities_close_date_idx ON opportunities (expected_close_date);

-- Each account's won deals, totalled for its RFM value (recency, frequency, monetary). Kept
-- exact by the triggers below on every write of a deal, whichever code path makes it (the
-- record engine, winning and losing, deletes and restores): summing won deals on every read
-- took 0.4-1.2 s for 300,000 of them on SQLite.
ALTER TABLE accounts ADD COLUMN won_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN won_amount_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_won_at BIGINT;
CREATE INDEX accounts_won_idx ON accounts (owner_id) WHERE won_count > 0;
CREATE TRIGGER opportunities_won_insert AFTER INSERT ON opportunities
WHEN NEW.result = 'won'
BEGIN
    UPDATE accounts SET
        won_count = (SELECT COUNT(*) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL),
        won_amount_cents = (SELECT COALESCE(SUM(o.amount_cents), 0) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL),
        last_won_at = (SELECT MAX(o.closed_at) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL)
    WHERE id = NEW.account_id;
END;
CREATE TRIGGER opportunities_won_update
AFTER UPDATE OF account_id, result, amount_cents, closed_at, deleted_at ON opportunities
WHEN OLD.result = 'won' OR NEW.result = 'won'
BEGIN
    UPDATE accounts SET
        won_count = (SELECT COUNT(*) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL),
        won_amount_cents = (SELECT COALESCE(SUM(o.amount_cents), 0) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL),
        last_won_at = (SELECT MAX(o.closed_at) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL)
    WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER opportunities_won_delete AFTER DELETE ON opportunities
WHEN OLD.result = 'won'
BEGIN
    UPDATE accounts SET
        won_count = (SELECT COUNT(*) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL),
        won_amount_cents = (SELECT COALESCE(SUM(o.amount_cents), 0) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL),
        last_won_at = (SELECT MAX(o.closed_at) FROM opportunities o WHERE o.account_id = accounts.id AND o.result = 'won' AND o.deleted_at IS NULL)
    WHERE id = OLD.account_id;
END;

-- What a lead was converted into.
ALTER TABLE leads ADD COLUMN converted_account_id BIGINT REFERENCES accounts (id);
ALTER TABLE leads ADD COLUMN converted_contact_id BIGINT REFERENCES contacts (id);
ALTER TABLE leads ADD COLUMN converted_opportunity_id BIGINT REFERENCES opportunities (id);
ALTER TABLE leads ADD COLUMN converted_at BIGINT;
CREATE INDEX leads_converted_account_idx ON leads (converted_account_id);

-- Qualification checklists (鉴定) per business unit or product line; items is a JSON list of
-- {key, label, required}. At most one is the default, which applies to leads without one.
CREATE TABLE qualification_checklists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    business_unit TEXT,
    product_line TEXT,
    items TEXT NOT NULL DEFAULT '[]',
    is_default BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- A lead's chosen checklist and its ticked items (a JSON object of key -> true).
CREATE TABLE lead_qualifications (
    lead_id BIGINT PRIMARY KEY REFERENCES leads (id),
    checklist_id BIGINT REFERENCES qualification_checklists (id),
    items TEXT NOT NULL DEFAULT '{}',
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL
);
