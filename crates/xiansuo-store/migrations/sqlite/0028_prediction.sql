-- Win probability (赢单概率): the model trained from leads' outcomes (converted or won against
-- disqualified or lost), kept one row per training, the latest in use; and each lead's
-- probability under it, -1 while no model has scored the lead (the API shows null).
CREATE TABLE IF NOT EXISTS prediction_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trained_at BIGINT NOT NULL,
    trained_by BIGINT,
    leads BIGINT NOT NULL,
    positives BIGINT NOT NULL,
    negatives BIGINT NOT NULL,
    auc REAL NOT NULL,
    top_decile_lift REAL NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    model TEXT NOT NULL
);

ALTER TABLE leads ADD COLUMN win_probability REAL NOT NULL DEFAULT -1;
CREATE INDEX leads_win_probability_idx ON leads (win_probability, id);
