-- Fleet (issue 7): each machine's status name as an indexed column (the summary counts it
-- without reading reports), when it was last judged (a policy change re-judges older
-- judgements), the signed-in user of its last report, and when each organization's policies
-- and assignments last changed.
ALTER TABLE fleet_machines ADD COLUMN status_name TEXT;
ALTER TABLE fleet_machines ADD COLUMN judged_ms BIGINT;
ALTER TABLE fleet_machines ADD COLUMN signed_in_user TEXT;
UPDATE fleet_machines SET status_name = (status::jsonb) ->> 'status', judged_ms = last_report_ms
    WHERE status IS NOT NULL;
CREATE INDEX fleet_machines_summary ON fleet_machines (org_id, status_name, last_report_ms)
    WHERE revoked_ms IS NULL;
CREATE INDEX fleet_machines_last_report ON fleet_machines (last_report_ms);

CREATE TABLE fleet_policy_changes (
    org_id TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    changed_ms BIGINT NOT NULL
);
