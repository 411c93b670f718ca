-- A user's own time zone (an IANA name) for the times the web UI shows them; NULL is China
-- Standard Time (Asia/Shanghai).
ALTER TABLE users ADD COLUMN time_zone TEXT;
-- What an API token may do: read_only, read_write, or admin (all its user's role allows).
-- Tokens made before scopes existed could do all their user could, so they keep that.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
-- The order in which custom fields are shown and filled in.
ALTER TABLE custom_field_defs ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
