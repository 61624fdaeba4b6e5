-- Token use is logged at most once per token per interval, claimed across processes.
ALTER TABLE tokens ADD COLUMN last_used_ms BIGINT;
