-- Alerts: channels (config encrypted by the server), rules, the delivery outbox and its log.
CREATE TABLE alert_channels (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE alert_rules (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- One row per event x channel; the id is the delivery id receivers see on every attempt.
CREATE TABLE alert_outbox (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    event_ids TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    first_attempt_ms BIGINT,
    last_status BIGINT,
    last_latency_ms BIGINT,
    last_excerpt TEXT,
    reason TEXT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_ms);
CREATE INDEX alert_outbox_org ON alert_outbox (org_id, created_ms);

CREATE TABLE alert_attempts (
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    time_ms BIGINT NOT NULL,
    status BIGINT,
    latency_ms BIGINT NOT NULL,
    excerpt TEXT NOT NULL,
    decision TEXT NOT NULL
);
CREATE INDEX alert_attempts_delivery ON alert_attempts (delivery_id, attempt);
