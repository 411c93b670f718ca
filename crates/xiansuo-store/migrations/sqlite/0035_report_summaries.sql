-- Per-day summaries the reports read instead of every lead and follow-up of their range.
--
-- A report over whole days (China time) adds up a few rows per day here rather than reading
-- each lead of the range: at 1,000,000 leads, a month held 82,000 leads and took 70-170 ms to
-- group for an admin.
--
-- Writers never update a shared row. Triggers on every write of a lead, follow-up or deal,
-- whichever code path makes it (creating, editing, assigning, converting, merging, deleting,
-- erasing, importing, the pool), only append change rows (`report_lead_changes`,
-- `report_activity_changes`: +1 for a record as it is now, -1 for it as it was), in the
-- writer's transaction, with no unique key: two writers of the same day, source and owner never
-- wait for each other, and a status change (-1 old status, +1 new) takes no lock another
-- writer could hold. The background job `reports.fold` (one at a time across instances) folds
-- the change rows into the summaries and deletes them in one transaction; a report reads the
-- summaries plus the change rows not yet folded, so it is exact at every moment.
--
-- The summaries are narrow, one table per grouping the reports need, so that a year of leads
-- folds into few rows: by status (the funnel, speed to lead, leads by status, owner, team and
-- period, targets), by source (leads by source, channels) and by campaign (leads by campaign),
-- each also by day and owner (the data scope). Follow-ups are by day, owner, type and outcome.
--
-- Keys hold no NULL, so that a key is one row: no owner is owner 0 (ids start at 1), and a
-- text that may be absent is stored as '' with a flag saying whether it was given, so that an
-- empty text and no text stay apart as they do in the reports.

-- The leads not deleted, by the China day of their creation, owner and status: how many, how
-- many deals converted from them are won (and for how much), how many have a follow-up, the
-- sum of the times from creation to the first one and how many are within an hour.
CREATE TABLE report_lead_status_days (
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    leads BIGINT NOT NULL,
    won BIGINT NOT NULL,
    won_amount BIGINT NOT NULL,
    contacted BIGINT NOT NULL,
    speed_ms BIGINT NOT NULL,
    within_hour BIGINT NOT NULL,
    PRIMARY KEY (day, owner_id, status)
) WITHOUT ROWID;

-- The same leads by day, owner and source: how many, how many converted, won and for how much.
CREATE TABLE report_lead_source_days (
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    leads BIGINT NOT NULL,
    converted BIGINT NOT NULL,
    won BIGINT NOT NULL,
    won_amount BIGINT NOT NULL,
    PRIMARY KEY (day, owner_id, source)
) WITHOUT ROWID;

-- The same leads by day, owner and campaign: how many, how many converted.
CREATE TABLE report_lead_campaign_days (
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    campaign_given BIGINT NOT NULL,
    campaign TEXT NOT NULL,
    leads BIGINT NOT NULL,
    converted BIGINT NOT NULL,
    PRIMARY KEY (day, owner_id, campaign_given, campaign)
) WITHOUT ROWID;

-- The follow-ups not deleted, by the China day they were logged, the user they count for,
-- their type and outcome.
CREATE TABLE report_activity_days (
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome_given BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    activities BIGINT NOT NULL,
    PRIMARY KEY (day, owner_id, type, outcome_given, outcome)
) WITHOUT ROWID;

-- Changes of leads not yet folded, with every key of the three lead summaries.
CREATE TABLE report_lead_changes (
    id INTEGER PRIMARY KEY,
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    campaign_given BIGINT NOT NULL,
    campaign TEXT NOT NULL,
    leads BIGINT NOT NULL,
    won BIGINT NOT NULL,
    won_amount BIGINT NOT NULL,
    contacted BIGINT NOT NULL,
    speed_ms BIGINT NOT NULL,
    within_hour BIGINT NOT NULL
);

-- Changes of follow-ups not yet folded.
CREATE TABLE report_activity_changes (
    id INTEGER PRIMARY KEY,
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome_given BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    activities BIGINT NOT NULL
);

-- The deal converted from a lead, for the triggers of deals.
CREATE INDEX leads_converted_opportunity_idx ON leads (converted_opportunity_id)
    WHERE converted_opportunity_id IS NOT NULL;
-- Speed to lead's median: only the leads with a follow-up, by creation time.
CREATE INDEX leads_contacted_report_idx
    ON leads (created_at, owner_id, first_activity_at, deleted_at)
    WHERE deleted_at IS NULL AND first_activity_at IS NOT NULL;

-- The China day of an instant is `t - (((t + 28800000) % 86400000) + 86400000) % 86400000`:
-- its China midnight, as Unix milliseconds (the double modulo floors instants before 1970 too).
-- The records that exist are summarised as the fold would.
INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
    won, won_amount, contacted, speed_ms, within_hour)
SELECT l.created_at - (((l.created_at + 28800000) % 86400000) + 86400000) % 86400000 AS d,
    COALESCE(l.owner_id, 0) AS o, l.source, l.status,
    CASE WHEN l.campaign IS NULL THEN 0 ELSE 1 END AS g, COALESCE(l.campaign, '') AS c,
    COUNT(*),
    SUM(CASE WHEN p.result = 'won' THEN 1 ELSE 0 END),
    SUM(CASE WHEN p.result = 'won' THEN COALESCE(p.amount_cents, 0) ELSE 0 END),
    COUNT(l.first_activity_at),
    COALESCE(SUM(l.first_activity_at - l.created_at), 0),
    SUM(CASE WHEN l.first_activity_at - l.created_at <= 3600000 THEN 1 ELSE 0 END)
FROM leads l LEFT JOIN opportunities p
    ON p.id = l.converted_opportunity_id AND p.deleted_at IS NULL
WHERE l.deleted_at IS NULL
GROUP BY d, o, l.source, l.status, g, c;

INSERT INTO report_lead_status_days (day, owner_id, status, leads, won, won_amount, contacted,
    speed_ms, within_hour)
SELECT day, owner_id, status, SUM(leads), SUM(won), SUM(won_amount), SUM(contacted),
    SUM(speed_ms), SUM(within_hour)
FROM report_lead_changes GROUP BY day, owner_id, status;

INSERT INTO report_lead_source_days (day, owner_id, source, leads, converted, won, won_amount)
SELECT day, owner_id, source, SUM(leads),
    SUM(CASE WHEN status = 'converted' THEN leads ELSE 0 END), SUM(won), SUM(won_amount)
FROM report_lead_changes GROUP BY day, owner_id, source;

INSERT INTO report_lead_campaign_days (day, owner_id, campaign_given, campaign, leads, converted)
SELECT day, owner_id, campaign_given, campaign, SUM(leads),
    SUM(CASE WHEN status = 'converted' THEN leads ELSE 0 END)
FROM report_lead_changes GROUP BY day, owner_id, campaign_given, campaign;

DELETE FROM report_lead_changes;

INSERT INTO report_activity_days (day, owner_id, type, outcome_given, outcome, activities)
SELECT a.created_at - (((a.created_at + 28800000) % 86400000) + 86400000) % 86400000 AS d,
    COALESCE(a.owner_id, 0) AS o, a.type,
    CASE WHEN a.outcome IS NULL THEN 0 ELSE 1 END AS g, COALESCE(a.outcome, '') AS t, COUNT(*)
FROM activities a WHERE a.deleted_at IS NULL
GROUP BY d, o, a.type, g, t;

-- A lead counts while it is not deleted: a change adds it on insert, one takes it away and one
-- adds it again on an update of anything its figures depend on, one takes it away on delete.
-- Its won deal is read as it is now; the triggers of deals append a change when a deal changes.
CREATE TRIGGER leads_report_insert AFTER INSERT ON leads
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT NEW.created_at - (((NEW.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(NEW.owner_id, 0), NEW.source, NEW.status,
        CASE WHEN NEW.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(NEW.campaign, ''), 1,
        COALESCE(p.won, 0), COALESCE(p.amount, 0),
        CASE WHEN NEW.first_activity_at IS NULL THEN 0 ELSE 1 END,
        COALESCE(NEW.first_activity_at - NEW.created_at, 0),
        CASE WHEN NEW.first_activity_at - NEW.created_at <= 3600000 THEN 1 ELSE 0 END
    FROM (SELECT NULL) LEFT JOIN (SELECT 1 AS won, COALESCE(amount_cents, 0) AS amount
        FROM opportunities WHERE id = NEW.converted_opportunity_id AND deleted_at IS NULL
        AND result = 'won') p ON 1 = 1;
END;

CREATE TRIGGER leads_report_update
AFTER UPDATE OF created_at, owner_id, source, status, campaign, converted_opportunity_id,
    first_activity_at, deleted_at ON leads
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.owner_id IS NOT NEW.owner_id
    OR OLD.source IS NOT NEW.source OR OLD.status IS NOT NEW.status
    OR OLD.campaign IS NOT NEW.campaign
    OR OLD.converted_opportunity_id IS NOT NEW.converted_opportunity_id
    OR OLD.first_activity_at IS NOT NEW.first_activity_at OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT OLD.created_at - (((OLD.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(OLD.owner_id, 0), OLD.source, OLD.status,
        CASE WHEN OLD.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(OLD.campaign, ''), -1,
        -COALESCE(p.won, 0), -COALESCE(p.amount, 0),
        CASE WHEN OLD.first_activity_at IS NULL THEN 0 ELSE -1 END,
        -COALESCE(OLD.first_activity_at - OLD.created_at, 0),
        CASE WHEN OLD.first_activity_at - OLD.created_at <= 3600000 THEN -1 ELSE 0 END
    FROM (SELECT NULL) LEFT JOIN (SELECT 1 AS won, COALESCE(amount_cents, 0) AS amount
        FROM opportunities WHERE id = OLD.converted_opportunity_id AND deleted_at IS NULL
        AND result = 'won') p ON 1 = 1
    WHERE OLD.deleted_at IS NULL;
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT NEW.created_at - (((NEW.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(NEW.owner_id, 0), NEW.source, NEW.status,
        CASE WHEN NEW.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(NEW.campaign, ''), 1,
        COALESCE(p.won, 0), COALESCE(p.amount, 0),
        CASE WHEN NEW.first_activity_at IS NULL THEN 0 ELSE 1 END,
        COALESCE(NEW.first_activity_at - NEW.created_at, 0),
        CASE WHEN NEW.first_activity_at - NEW.created_at <= 3600000 THEN 1 ELSE 0 END
    FROM (SELECT NULL) LEFT JOIN (SELECT 1 AS won, COALESCE(amount_cents, 0) AS amount
        FROM opportunities WHERE id = NEW.converted_opportunity_id AND deleted_at IS NULL
        AND result = 'won') p ON 1 = 1
    WHERE NEW.deleted_at IS NULL;
END;

CREATE TRIGGER leads_report_delete AFTER DELETE ON leads
WHEN OLD.deleted_at IS NULL
BEGIN
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT OLD.created_at - (((OLD.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(OLD.owner_id, 0), OLD.source, OLD.status,
        CASE WHEN OLD.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(OLD.campaign, ''), -1,
        -COALESCE(p.won, 0), -COALESCE(p.amount, 0),
        CASE WHEN OLD.first_activity_at IS NULL THEN 0 ELSE -1 END,
        -COALESCE(OLD.first_activity_at - OLD.created_at, 0),
        CASE WHEN OLD.first_activity_at - OLD.created_at <= 3600000 THEN -1 ELSE 0 END
    FROM (SELECT NULL) LEFT JOIN (SELECT 1 AS won, COALESCE(amount_cents, 0) AS amount
        FROM opportunities WHERE id = OLD.converted_opportunity_id AND deleted_at IS NULL
        AND result = 'won') p ON 1 = 1;
END;

-- A deal moves the won figures of the leads converted into it when it is made, won or lost,
-- changes amount, is deleted or restored, or is removed.
CREATE TRIGGER opportunities_report_insert AFTER INSERT ON opportunities
WHEN NEW.deleted_at IS NULL AND NEW.result = 'won'
BEGIN
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT l.created_at - (((l.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(l.owner_id, 0), l.source, l.status,
        CASE WHEN l.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(l.campaign, ''), 0,
        1, COALESCE(NEW.amount_cents, 0), 0, 0, 0
    FROM leads l WHERE l.converted_opportunity_id = NEW.id AND l.deleted_at IS NULL;
END;

CREATE TRIGGER opportunities_report_update
AFTER UPDATE OF result, amount_cents, deleted_at ON opportunities
WHEN ((OLD.deleted_at IS NULL AND OLD.result = 'won')
        IS NOT (NEW.deleted_at IS NULL AND NEW.result = 'won'))
    OR (NEW.deleted_at IS NULL AND NEW.result = 'won'
        AND OLD.amount_cents IS NOT NEW.amount_cents)
BEGIN
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT l.created_at - (((l.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(l.owner_id, 0), l.source, l.status,
        CASE WHEN l.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(l.campaign, ''), 0,
        CASE WHEN NEW.deleted_at IS NULL AND NEW.result = 'won' THEN 1 ELSE 0 END
            - CASE WHEN OLD.deleted_at IS NULL AND OLD.result = 'won' THEN 1 ELSE 0 END,
        CASE WHEN NEW.deleted_at IS NULL AND NEW.result = 'won'
            THEN COALESCE(NEW.amount_cents, 0) ELSE 0 END
            - CASE WHEN OLD.deleted_at IS NULL AND OLD.result = 'won'
            THEN COALESCE(OLD.amount_cents, 0) ELSE 0 END,
        0, 0, 0
    FROM leads l WHERE l.converted_opportunity_id = NEW.id AND l.deleted_at IS NULL;
END;

CREATE TRIGGER opportunities_report_delete AFTER DELETE ON opportunities
WHEN OLD.deleted_at IS NULL AND OLD.result = 'won'
BEGIN
    INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT l.created_at - (((l.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(l.owner_id, 0), l.source, l.status,
        CASE WHEN l.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(l.campaign, ''), 0,
        -1, -COALESCE(OLD.amount_cents, 0), 0, 0, 0
    FROM leads l WHERE l.converted_opportunity_id = OLD.id AND l.deleted_at IS NULL;
END;

-- A follow-up counts while it is not deleted.
CREATE TRIGGER activities_report_insert AFTER INSERT ON activities
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO report_activity_changes (day, owner_id, type, outcome_given, outcome, activities)
    VALUES (NEW.created_at - (((NEW.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(NEW.owner_id, 0), NEW.type, CASE WHEN NEW.outcome IS NULL THEN 0 ELSE 1 END,
        COALESCE(NEW.outcome, ''), 1);
END;

CREATE TRIGGER activities_report_update
AFTER UPDATE OF created_at, owner_id, type, outcome, deleted_at ON activities
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.owner_id IS NOT NEW.owner_id
    OR OLD.type IS NOT NEW.type OR OLD.outcome IS NOT NEW.outcome
    OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    INSERT INTO report_activity_changes (day, owner_id, type, outcome_given, outcome, activities)
    SELECT OLD.created_at - (((OLD.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(OLD.owner_id, 0), OLD.type, CASE WHEN OLD.outcome IS NULL THEN 0 ELSE 1 END,
        COALESCE(OLD.outcome, ''), -1
    WHERE OLD.deleted_at IS NULL;
    INSERT INTO report_activity_changes (day, owner_id, type, outcome_given, outcome, activities)
    SELECT NEW.created_at - (((NEW.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(NEW.owner_id, 0), NEW.type, CASE WHEN NEW.outcome IS NULL THEN 0 ELSE 1 END,
        COALESCE(NEW.outcome, ''), 1
    WHERE NEW.deleted_at IS NULL;
END;

CREATE TRIGGER activities_report_delete AFTER DELETE ON activities
WHEN OLD.deleted_at IS NULL
BEGIN
    INSERT INTO report_activity_changes (day, owner_id, type, outcome_given, outcome, activities)
    VALUES (OLD.created_at - (((OLD.created_at + 28800000) % 86400000) + 86400000) % 86400000,
        COALESCE(OLD.owner_id, 0), OLD.type, CASE WHEN OLD.outcome IS NULL THEN 0 ELSE 1 END,
        COALESCE(OLD.outcome, ''), -1);
END;
