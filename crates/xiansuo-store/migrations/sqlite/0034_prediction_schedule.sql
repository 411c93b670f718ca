-- How often the win prediction is trained again on its own once an admin has trained it:
-- every N days, or never (0). Without a row it is weekly.
CREATE TABLE IF NOT EXISTS prediction_schedule (
    id BIGINT PRIMARY KEY,
    every_days BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
