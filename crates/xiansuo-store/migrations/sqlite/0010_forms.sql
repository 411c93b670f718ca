-- Public web forms, their submissions, where a lead came from (campaign, UTM parameters,
-- referrer), and which notifications the email digest has handled.

CREATE TABLE forms (
    id INTEGER PRIMARY KEY,
    form_key TEXT NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'zh',
    fields TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL,
    campaign TEXT,
    dedup_policy TEXT,
    owner_id BIGINT REFERENCES users (id),
    auto_reply TEXT NOT NULL DEFAULT '{}',
    thank_you TEXT NOT NULL DEFAULT '{}',
    redirect_url TEXT,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    consent TEXT,
    consent_version BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX forms_key ON forms (form_key);

-- Every post to a form, kept whatever became of it (a lead, spam caught by the honeypot, a
-- duplicate blocked by the form's policy). dedup_key is set while a submission can still absorb
-- a double submit of the same person; it is released when that window has passed.
CREATE TABLE form_submissions (
    id INTEGER PRIMARY KEY,
    form_id BIGINT NOT NULL REFERENCES forms (id),
    lead_id BIGINT REFERENCES leads (id),
    status TEXT NOT NULL,
    dedup_key TEXT,
    client_ip TEXT NOT NULL,
    user_agent TEXT,
    language TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    extra TEXT NOT NULL DEFAULT '{}',
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    referrer TEXT,
    consent_given BIGINT NOT NULL DEFAULT 0,
    consent_at BIGINT,
    consent_version BIGINT,
    consent_text TEXT,
    error TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX form_submissions_dedup_key ON form_submissions (dedup_key);
CREATE INDEX form_submissions_form_idx ON form_submissions (form_id, id);
CREATE INDEX form_submissions_rate_idx ON form_submissions (form_id, client_ip, created_at);

ALTER TABLE leads ADD COLUMN campaign TEXT;
ALTER TABLE leads ADD COLUMN utm_source TEXT;
ALTER TABLE leads ADD COLUMN utm_medium TEXT;
ALTER TABLE leads ADD COLUMN utm_campaign TEXT;
ALTER TABLE leads ADD COLUMN utm_term TEXT;
ALTER TABLE leads ADD COLUMN utm_content TEXT;
ALTER TABLE leads ADD COLUMN referrer TEXT;

ALTER TABLE notifications ADD COLUMN mailed_at BIGINT;
CREATE INDEX notifications_mailed_idx ON notifications (mailed_at, created_at);
