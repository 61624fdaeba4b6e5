-- Token use is logged at most once per token per interval, claimed across processes.
ALTER TABLE tokens ADD COLUMN last_used_ms BIGINT;

-- Signed checkpoints: a verified prefix of a chain (periodic), or where a pruned chain now starts.
CREATE TABLE event_checkpoints (
    org_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, seq, kind)
);

-- Search by actor or target name (the filter matches id or name) and time.
CREATE INDEX events_org_actor_name_time ON events (org_id, actor_name, time_ms);
CREATE INDEX events_org_target_name_time ON events (org_id, target_name, time_ms);
-- Action prefixes are byte ranges whatever the database's collation.
CREATE INDEX events_org_action_c_time ON events (org_id, (action COLLATE "C"), time_ms);
