-- Win probability (赢单概率): the model trained from leads' outcomes (converted or won against
-- disqualified or lost), kept one row per training, the latest in use; and each lead's
-- probability under it, -1 while no model has scored the lead (the API shows null).
CREATE TABLE IF NOT EXISTS prediction_models (
    id BIGSERIAL PRIMARY KEY,
    trained_at BIGINT NOT NULL,
    trained_by BIGINT,
    leads BIGINT NOT NULL,
    positives BIGINT NOT NULL,
    negatives BIGINT NOT NULL,
    auc DOUBLE PRECISION NOT NULL,
    top_decile_lift DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    model TEXT NOT NULL
);

ALTER TABLE leads ADD COLUMN IF NOT EXISTS win_probability DOUBLE PRECISION NOT NULL DEFAULT -1;
CREATE INDEX IF NOT EXISTS leads_win_probability_idx ON leads (win_probability, id);
