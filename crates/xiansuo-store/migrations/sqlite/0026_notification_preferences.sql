-- Which notifications each user gets in the app and by email (a kind never set is on in both),
-- and whether their email comes as one digest a day; a notification muted in the app is kept
-- for the digest and "my day" but out of the user's list.
CREATE TABLE notification_preferences (
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    in_app BIGINT NOT NULL,
    email BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
ALTER TABLE users ADD COLUMN daily_digest BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN digest_mailed_at BIGINT;
ALTER TABLE notifications ADD COLUMN in_app BIGINT NOT NULL DEFAULT 1;
