-- Rule throttles: deliveries sent per rule x channel in the current fixed window, kept in the
-- database so a restart (or a second server) does not reset them.
CREATE TABLE alert_throttle (
    rule_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    sent BIGINT NOT NULL DEFAULT 0,
    suppressed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (rule_id, channel_id, window_start_ms)
);

-- Queue depth by state, for /metrics.
CREATE INDEX alert_outbox_status_lease ON alert_outbox (status, lease_until_ms);
