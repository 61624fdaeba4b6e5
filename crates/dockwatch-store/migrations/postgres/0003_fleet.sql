-- Settings compliance: policies (versioned), assignments, enrollment tokens, machines, reports,
-- status history and seen nonces.
CREATE TABLE fleet_policies (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE fleet_policy_versions (
    policy_id TEXT NOT NULL REFERENCES fleet_policies (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    hash TEXT NOT NULL,
    document TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (policy_id, number)
);

CREATE TABLE fleet_assignments (
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES fleet_policies (id) ON DELETE CASCADE,
    assigned_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, scope)
);

CREATE TABLE fleet_enroll_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

CREATE TABLE fleet_machines (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    host_machine_id TEXT NOT NULL,
    hostname TEXT NOT NULL,
    credential TEXT NOT NULL,
    enrolled_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    last_report TEXT,
    last_report_ms BIGINT,
    status TEXT
);
CREATE INDEX fleet_machines_org ON fleet_machines (org_id);

CREATE TABLE fleet_status_history (
    machine_id TEXT NOT NULL REFERENCES fleet_machines (id) ON DELETE CASCADE,
    time_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX fleet_status_history_machine ON fleet_status_history (machine_id, time_ms);

CREATE TABLE fleet_nonces (
    machine_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (machine_id, nonce)
);
CREATE INDEX fleet_nonces_expiry ON fleet_nonces (expires_ms);
