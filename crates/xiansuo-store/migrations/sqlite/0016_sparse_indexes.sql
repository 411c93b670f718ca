-- Columns that are empty on almost every lead (the pool a lead waits in, the pool it was claimed
-- from, the account it was converted into) are indexed only where they hold a value: lookups
-- are always by a value, and a bulk import then maintains three indexes fewer per lead.
DROP INDEX leads_converted_account_idx;
CREATE INDEX leads_converted_account_idx ON leads (converted_account_id)
    WHERE converted_account_id IS NOT NULL;
DROP INDEX leads_pool_idx;
CREATE INDEX leads_pool_idx ON leads (pool_id, id) WHERE pool_id IS NOT NULL;
DROP INDEX leads_claimed_pool_idx;
CREATE INDEX leads_claimed_pool_idx ON leads (claimed_pool_id, owner_id)
    WHERE claimed_pool_id IS NOT NULL;
