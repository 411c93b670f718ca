-- Group robots of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书): chosen events posted as
-- chat messages to a robot's webhook URL, optionally only for leads of one team's subtree. The
-- deliveries are written in the transaction that raised the event (an outbox), each with its
-- attempts, shaped like the webhooks' own log.
CREATE TABLE robots (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    webhook_url TEXT NOT NULL,
    secret TEXT,
    events TEXT NOT NULL,
    team_id BIGINT REFERENCES teams (id),
    language TEXT NOT NULL DEFAULT 'zh',
    active BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX robots_active_idx ON robots (active);

CREATE TABLE robot_deliveries (
    id INTEGER PRIMARY KEY,
    robot_id BIGINT NOT NULL REFERENCES robots (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    status_code BIGINT,
    response_body TEXT,
    error TEXT,
    duration_ms BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX robot_deliveries_robot_idx ON robot_deliveries (robot_id, id);

CREATE TABLE robot_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES robot_deliveries (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status_code BIGINT,
    response_body TEXT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX robot_attempts_delivery_idx ON robot_attempts (delivery_id, attempt);
