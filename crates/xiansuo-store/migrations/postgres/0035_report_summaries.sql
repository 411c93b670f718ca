-- Per-day summaries the reports read instead of every lead and follow-up of their range.
--
-- A report over whole days (China time) adds up at most one row per day and key here rather
-- than reading each lead of the range: at 1,000,000 leads, a month held 82,000 leads and took
-- 70-170 ms to group for an admin. The rows are kept exact by the triggers below in the same
-- transaction as every write of a lead, follow-up or deal, whichever code path makes it
-- (creating, editing, assigning, converting, merging, deleting, erasing, importing, the pool),
-- and filled in below for the records that exist. Concurrent writers add to a row with
-- INSERT … ON CONFLICT DO UPDATE, which takes the row's lock until the writer commits.
--
-- Keys hold no NULL, so that a key is one row: no owner is owner 0 (ids start at 1), and a
-- text that may be absent is stored as '' with a flag saying whether it was given, so that an
-- empty text and no text stay apart as they do in the reports.
--
-- report_lead_days: the leads not deleted, by the China day of their creation, owner, source,
-- campaign and status; how many of them there are, how many deals converted from them are won
-- (and for how much), how many have a follow-up, the sum of the times from creation to the
-- first one and how many of those times are within an hour (for speed to lead).
CREATE TABLE report_lead_days (
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    campaign_given INTEGER NOT NULL,
    campaign TEXT NOT NULL,
    leads BIGINT NOT NULL,
    won BIGINT NOT NULL,
    won_amount BIGINT NOT NULL,
    contacted BIGINT NOT NULL,
    speed_ms BIGINT NOT NULL,
    within_hour BIGINT NOT NULL,
    PRIMARY KEY (day, owner_id, source, status, campaign_given, campaign)
);

-- report_activity_days: the follow-ups not deleted, by the China day they were logged, the user
-- they count for, their type and outcome.
CREATE TABLE report_activity_days (
    day BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome_given INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    activities BIGINT NOT NULL,
    PRIMARY KEY (day, owner_id, type, outcome_given, outcome)
);

-- The deal converted from a lead, for the triggers of deals.
CREATE INDEX leads_converted_opportunity_idx ON leads (converted_opportunity_id)
    WHERE converted_opportunity_id IS NOT NULL;
-- Speed to lead's median: only the leads with a follow-up, by creation time.
CREATE INDEX leads_contacted_report_idx
    ON leads (created_at, owner_id, first_activity_at, deleted_at)
    WHERE deleted_at IS NULL AND first_activity_at IS NOT NULL;

-- The China midnight (Unix milliseconds) of the day an instant falls in.
CREATE FUNCTION report_china_day(t BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT t - (((t + 28800000) % 86400000) + 86400000) % 86400000
$$;

INSERT INTO report_lead_days (day, owner_id, source, status, campaign_given, campaign, leads, won,
    won_amount, contacted, speed_ms, within_hour)
SELECT report_china_day(l.created_at) AS d, COALESCE(l.owner_id, 0) AS o, l.source, l.status,
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

INSERT INTO report_activity_days (day, owner_id, type, outcome_given, outcome, activities)
SELECT report_china_day(a.created_at) AS d, COALESCE(a.owner_id, 0) AS o, a.type,
    CASE WHEN a.outcome IS NULL THEN 0 ELSE 1 END AS g, COALESCE(a.outcome, '') AS t, COUNT(*)
FROM activities a WHERE a.deleted_at IS NULL
GROUP BY d, o, a.type, g, t;

-- Adds one lead (sign 1) to its row, or takes it away (sign -1). Its won deal is read as it is
-- now; the trigger of deals moves the figures when a deal changes.
CREATE FUNCTION report_lead_add(l leads, sign BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_lead_days (day, owner_id, source, status, campaign_given, campaign, leads,
        won, won_amount, contacted, speed_ms, within_hour)
    SELECT report_china_day(l.created_at), COALESCE(l.owner_id, 0), l.source, l.status,
        CASE WHEN l.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(l.campaign, ''), sign,
        sign * COALESCE(p.won, 0), sign * COALESCE(p.amount, 0),
        CASE WHEN l.first_activity_at IS NULL THEN 0 ELSE sign END,
        sign * COALESCE(l.first_activity_at - l.created_at, 0),
        CASE WHEN l.first_activity_at - l.created_at <= 3600000 THEN sign ELSE 0 END
    FROM (SELECT 1) one LEFT JOIN (SELECT 1 AS won, COALESCE(amount_cents, 0) AS amount
        FROM opportunities WHERE id = l.converted_opportunity_id AND deleted_at IS NULL
        AND result = 'won') p ON true
    ON CONFLICT (day, owner_id, source, status, campaign_given, campaign) DO UPDATE SET
        leads = report_lead_days.leads + excluded.leads,
        won = report_lead_days.won + excluded.won,
        won_amount = report_lead_days.won_amount + excluded.won_amount,
        contacted = report_lead_days.contacted + excluded.contacted,
        speed_ms = report_lead_days.speed_ms + excluded.speed_ms,
        within_hour = report_lead_days.within_hour + excluded.within_hour
$$;

-- A lead counts in its row while it is not deleted.
CREATE FUNCTION leads_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        PERFORM report_lead_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        PERFORM report_lead_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_report_insert AFTER INSERT ON leads
FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION leads_report();
CREATE TRIGGER leads_report_update
AFTER UPDATE OF created_at, owner_id, source, status, campaign, converted_opportunity_id,
    first_activity_at, deleted_at ON leads
FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.source IS DISTINCT FROM NEW.source
    OR OLD.status IS DISTINCT FROM NEW.status OR OLD.campaign IS DISTINCT FROM NEW.campaign
    OR OLD.converted_opportunity_id IS DISTINCT FROM NEW.converted_opportunity_id
    OR OLD.first_activity_at IS DISTINCT FROM NEW.first_activity_at
    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION leads_report();
CREATE TRIGGER leads_report_delete AFTER DELETE ON leads
FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION leads_report();

-- A deal moves the won figures of the leads converted into it when it is made, won or lost,
-- changes amount, is deleted or restored, or is removed.
CREATE FUNCTION opportunities_report() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    deal BIGINT;
    won_now BIGINT := 0;
    amount_now BIGINT := 0;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        deal := NEW.id;
        IF NEW.deleted_at IS NULL AND NEW.result = 'won' THEN
            won_now := 1;
            amount_now := COALESCE(NEW.amount_cents, 0);
        END IF;
    ELSE
        deal := OLD.id;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL AND OLD.result = 'won' THEN
        won_now := won_now - 1;
        amount_now := amount_now - COALESCE(OLD.amount_cents, 0);
    END IF;
    IF won_now <> 0 OR amount_now <> 0 THEN
        INSERT INTO report_lead_days (day, owner_id, source, status, campaign_given, campaign,
            leads, won, won_amount, contacted, speed_ms, within_hour)
        SELECT report_china_day(l.created_at), COALESCE(l.owner_id, 0), l.source, l.status,
            CASE WHEN l.campaign IS NULL THEN 0 ELSE 1 END, COALESCE(l.campaign, ''), 0,
            won_now, amount_now, 0, 0, 0
        FROM leads l WHERE l.converted_opportunity_id = deal AND l.deleted_at IS NULL
        ON CONFLICT (day, owner_id, source, status, campaign_given, campaign) DO UPDATE SET
            won = report_lead_days.won + excluded.won,
            won_amount = report_lead_days.won_amount + excluded.won_amount;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER opportunities_report_insert AFTER INSERT ON opportunities
FOR EACH ROW WHEN (NEW.deleted_at IS NULL AND NEW.result = 'won')
EXECUTE FUNCTION opportunities_report();
CREATE TRIGGER opportunities_report_update
AFTER UPDATE OF result, amount_cents, deleted_at ON opportunities
FOR EACH ROW EXECUTE FUNCTION opportunities_report();
CREATE TRIGGER opportunities_report_delete AFTER DELETE ON opportunities
FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND OLD.result = 'won')
EXECUTE FUNCTION opportunities_report();

-- Adds one follow-up (sign 1) to its row, or takes it away (sign -1).
CREATE FUNCTION report_activity_add(a activities, sign BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_activity_days (day, owner_id, type, outcome_given, outcome, activities)
    VALUES (report_china_day(a.created_at), COALESCE(a.owner_id, 0), a.type,
        CASE WHEN a.outcome IS NULL THEN 0 ELSE 1 END, COALESCE(a.outcome, ''), sign)
    ON CONFLICT (day, owner_id, type, outcome_given, outcome) DO UPDATE SET
        activities = report_activity_days.activities + excluded.activities
$$;

-- A follow-up counts in its row while it is not deleted.
CREATE FUNCTION activities_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        PERFORM report_activity_add(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        PERFORM report_activity_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER activities_report_insert AFTER INSERT ON activities
FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION activities_report();
CREATE TRIGGER activities_report_update
AFTER UPDATE OF created_at, owner_id, type, outcome, deleted_at ON activities
FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.type IS DISTINCT FROM NEW.type
    OR OLD.outcome IS DISTINCT FROM NEW.outcome OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION activities_report();
CREATE TRIGGER activities_report_delete AFTER DELETE ON activities
FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION activities_report();
