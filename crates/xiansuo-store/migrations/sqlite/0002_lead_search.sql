-- The lead search index (see xiansuo-core/src/search.rs): one row per lead, rowid = lead id,
-- holding the lead's grams. Contentless: the grams are only indexed, not stored twice.
-- PostgreSQL keeps the same index as a tsvector column with a GIN index.
CREATE VIRTUAL TABLE lead_search USING fts5(grams, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
