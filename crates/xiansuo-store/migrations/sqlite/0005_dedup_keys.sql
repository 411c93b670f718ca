-- The company key (xiansuo-core/src/dedup.rs) of a lead's company and of an account's name, for
-- finding duplicates. The program computes it on every write; rows written before this
-- migration get theirs from the program right after it (migrate.rs).
ALTER TABLE leads ADD COLUMN company_key TEXT;
ALTER TABLE accounts ADD COLUMN company_key TEXT;
CREATE INDEX leads_company_key_idx ON leads (company_key);
CREATE INDEX accounts_company_key_idx ON accounts (company_key);
