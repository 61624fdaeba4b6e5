-- Activity-log search: actor + time and action + time, newest first within an organization.
CREATE INDEX events_org_actor_time ON events (org_id, actor_id, time_ms);
CREATE INDEX events_org_action_time ON events (org_id, action, time_ms);
CREATE INDEX events_org_target_time ON events (org_id, target_id, time_ms);
