-- What the main pages need to stay fast on a large base, kept on the lead itself.
--
-- The next planned follow-up of a lead (the plan of its latest follow-up, by time then id) and
-- when its first follow-up was logged, kept exact by the triggers below on every write of an
-- activity, whichever code path makes it (logging, editing or deleting a follow-up, merging
-- leads and undoing it, converting, importing): finding them through the activities at every
-- request took seconds at 1,000,000 leads for the follow-up views and speed to lead.
ALTER TABLE leads ADD COLUMN IF NOT EXISTS next_follow_up_at BIGINT;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS first_activity_at BIGINT;

UPDATE leads l SET next_follow_up_at = x.next_follow_up_at, first_activity_at = x.first_at
FROM (
    SELECT DISTINCT ON (record_id) record_id, next_follow_up_at,
        MIN(created_at) OVER (PARTITION BY record_id) AS first_at
    FROM activities WHERE record_type = 'lead' AND deleted_at IS NULL
    ORDER BY record_id, created_at DESC, id DESC
) x
WHERE l.id = x.record_id;

CREATE FUNCTION lead_activity_marks(lead BIGINT) RETURNS void LANGUAGE sql AS $$
    UPDATE leads SET
        next_follow_up_at = (SELECT a.next_follow_up_at FROM activities a
            WHERE a.record_type = 'lead' AND a.record_id = leads.id AND a.deleted_at IS NULL
            ORDER BY a.created_at DESC, a.id DESC LIMIT 1),
        first_activity_at = (SELECT MIN(a.created_at) FROM activities a
            WHERE a.record_type = 'lead' AND a.record_id = leads.id AND a.deleted_at IS NULL)
    WHERE id = lead
$$;
CREATE FUNCTION activities_lead_marks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.record_type = 'lead' THEN
        PERFORM lead_activity_marks(OLD.record_id);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.record_type = 'lead' AND (TG_OP = 'INSERT'
        OR OLD.record_type <> 'lead' OR NEW.record_id <> OLD.record_id) THEN
        PERFORM lead_activity_marks(NEW.record_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER activities_lead_marks_insert AFTER INSERT ON activities
FOR EACH ROW WHEN (NEW.record_type = 'lead') EXECUTE FUNCTION activities_lead_marks();
CREATE TRIGGER activities_lead_marks_update
AFTER UPDATE OF record_type, record_id, next_follow_up_at, created_at, deleted_at ON activities
FOR EACH ROW WHEN (OLD.record_type = 'lead' OR NEW.record_type = 'lead')
EXECUTE FUNCTION activities_lead_marks();
CREATE TRIGGER activities_lead_marks_delete AFTER DELETE ON activities
FOR EACH ROW WHEN (OLD.record_type = 'lead') EXECUTE FUNCTION activities_lead_marks();

-- Covering indexes name every column the query reads, deleted_at too although their WHERE
-- already says it is null: SQLite reads the table for a column of the WHERE that the index
-- lacks, which took 100-300 ms for a month of leads or activities at 1,000,000 leads.
--
-- The follow-up views (待跟进, 逾期未跟进) and my day: a range of planned follow-ups, for
-- everyone or for one owner, counted without reading the table.
CREATE INDEX leads_follow_up_idx ON leads (next_follow_up_at, status, owner_id, deleted_at)
    WHERE deleted_at IS NULL AND next_follow_up_at IS NOT NULL;
CREATE INDEX leads_owner_follow_up_idx ON leads (owner_id, next_follow_up_at, status, deleted_at)
    WHERE deleted_at IS NULL AND next_follow_up_at IS NOT NULL;
-- Planned follow-ups of contacts, accounts and deals, by record type and time.
CREATE INDEX activities_type_follow_up_idx ON activities (record_type, next_follow_up_at)
    WHERE deleted_at IS NULL AND next_follow_up_at IS NOT NULL;
-- A pool's leads, newest in the pool first.
CREATE INDEX leads_pool_order_idx
    ON leads (pool_id, (COALESCE(pooled_at, created_at)), id, owner_id, deleted_at)
    WHERE pool_id IS NOT NULL AND owner_id IS NULL AND deleted_at IS NULL;
-- The reports' covering index of leads created in a range, now with the first follow-up for
-- speed to lead.
DROP INDEX IF EXISTS leads_report_idx;
CREATE INDEX leads_report_idx
    ON leads (created_at, owner_id, source, status, converted_opportunity_id, first_activity_at,
        deleted_at)
    WHERE deleted_at IS NULL;
-- The activities report's, likewise.
DROP INDEX IF EXISTS activities_created_cover_idx;
CREATE INDEX activities_created_cover_idx
    ON activities (created_at, owner_id, type, outcome, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX IF EXISTS activities_owner_created_cover_idx;
CREATE INDEX activities_owner_created_cover_idx
    ON activities (owner_id, created_at, type, outcome, deleted_at) WHERE deleted_at IS NULL;
-- The board: each stage's deals, their amounts and weighted amounts without reading the table,
-- and each column's cards, most recently changed first, for everyone or for one owner.
CREATE INDEX opportunities_board_idx
    ON opportunities (stage, owner_id, amount_cents, probability, deleted_at)
    WHERE deleted_at IS NULL;
CREATE INDEX opportunities_stage_updated_idx
    ON opportunities (stage, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_owner_stage_updated_idx
    ON opportunities (owner_id, stage, updated_at, id) WHERE deleted_at IS NULL;
-- The forecast: open deals by expected close date and deals won by day, covering.
CREATE INDEX opportunities_forecast_idx
    ON opportunities (result, expected_close_date, owner_id, amount_cents, probability, deleted_at)
    WHERE deleted_at IS NULL;
CREATE INDEX opportunities_won_cover_idx
    ON opportunities (result, closed_at, owner_id, amount_cents, deleted_at)
    WHERE deleted_at IS NULL;
