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
