-- A person's own saved views of the lead list: a name and the list's filters as a query string.
CREATE TABLE IF NOT EXISTS saved_views (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS saved_views_user ON saved_views (user_id, id);
