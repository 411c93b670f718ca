-- The lead search index (see xiansuo-core/src/search.rs): one row per lead holding its grams.
-- SQLite keeps the same index as an FTS5 table.
CREATE TABLE lead_search (
    lead_id BIGINT PRIMARY KEY REFERENCES leads (id),
    grams TSVECTOR NOT NULL
);
CREATE INDEX lead_search_grams_idx ON lead_search USING GIN (grams);
