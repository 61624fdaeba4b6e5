//! Fleet machines: enrollment, per-machine credentials, seen nonces, report ingest with
//! compliance transitions in the activity log, status history and the fleet report.

use crate::error::{Result, StoreError};
use crate::write::{Change, target};
use crate::{Actor, Store, new_id, now_ms, secret};
use dockwatch_core::SystemClock;
use dockwatch_core::settings::report::UserSettings;
use dockwatch_core::settings::transition::{self, actions};
use dockwatch_core::settings::wire::EnrollRequest;
use dockwatch_core::settings::{
    Assignment, ComplianceStatus, EffectivePolicy, FleetFilter, FleetReport, MachineReport,
    MachineRow, PolicyVersion, Subject, assess, resolve,
};
use std::collections::HashMap;

/// An enrolled machine as the agent endpoints need it.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The server's id for it.
    pub id: String,
    /// Its organization.
    pub org_id: String,
    /// Its host name at enrollment or last report.
    pub hostname: String,
    /// The HMAC key of its signatures. Kept in the clear: the server must recompute HMACs.
    pub credential: String,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
    /// Its status after the last report (JSON of [`ComplianceStatus`]).
    pub status: Option<String>,
}

/// A `fleet_machines` row: id, org, host name, credential, revoked, status.
type MachineRow6 = (String, String, String, String, Option<i64>, Option<String>);

/// What enrollment hands back.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The new machine id.
    pub machine_id: String,
    /// Its credential (shown once).
    pub credential: String,
    /// The organization's name.
    pub org: String,
}

/// One entry of a machine's status history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StatusChange {
    /// When (ms since the epoch).
    pub time_ms: i64,
    /// The status name.
    pub status: String,
    /// The status with its details.
    pub detail: serde_json::Value,
}

/// What a report ingest decided.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The machine's status now.
    pub status: ComplianceStatus,
    /// The current version of its machine-level policy.
    pub policy_version: Option<PolicyVersion>,
}

/// Policies and memberships of one organization, for resolving effective policies.
struct Resolver {
    assignments: Vec<Assignment>,
    policies: HashMap<String, EffectivePolicy>,
    teams_by_email: HashMap<String, Vec<String>>,
}

impl Resolver {
    fn effective(&self, machine_id: &str, email: Option<&str>) -> Option<EffectivePolicy> {
        let email = email.map(str::to_ascii_lowercase);
        let no_teams = Vec::new();
        let teams = email
            .as_ref()
            .and_then(|e| self.teams_by_email.get(e))
            .unwrap_or(&no_teams);
        let subject = Subject {
            machine_id,
            user_email: email.as_deref(),
            teams,
        };
        let winner = resolve(&self.assignments, &subject)?;
        let mut p = self.policies.get(&winner.policy)?.clone();
        p.scope = winner.scope.clone();
        Some(p)
    }

    /// Assesses a machine's last report against the current policies.
    fn assess(
        &self,
        machine_id: &str,
        last: Option<(&MachineReport, i64)>,
        stale_after_ms: i64,
    ) -> dockwatch_core::settings::Assessment {
        let machine_policy = self.effective(machine_id, None);
        let mut per_user: HashMap<String, Option<EffectivePolicy>> = HashMap::new();
        if let Some((r, _)) = last {
            for u in &r.users {
                per_user.insert(
                    u.account.clone(),
                    self.effective(machine_id, u.email.as_deref()),
                );
            }
        }
        assess(
            last,
            |u: Option<&UserSettings>| match u {
                None => machine_policy.as_ref(),
                Some(u) => per_user.get(&u.account).and_then(Option::as_ref),
            },
            &SystemClock,
            stale_after_ms,
        )
    }
}

fn machine_actor(m: &Machine, ip: Option<String>, user_agent: Option<String>) -> Actor {
    Actor {
        kind: "machine".into(),
        id: m.id.clone(),
        name: format!("machine {}", m.hostname),
        ip,
        user_agent,
    }
}

fn sentence(status: &ComplianceStatus) -> String {
    match status {
        ComplianceStatus::NonCompliant { drifts } => {
            let keys: Vec<String> = drifts
                .iter()
                .map(|d| format!("{} (required {}, found {})", d.key, d.required, d.actual))
                .collect();
            format!("is non-compliant: {}", keys.join(", "))
        }
        other => format!("is {}", other.as_str()),
    }
}

impl Store {
    async fn resolver(&self, org_id: &str) -> Result<Resolver> {
        let (assignments, policies) = self.effective_policies(org_id).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT u.email, t.name FROM team_members tm JOIN teams t ON t.id = tm.team_id \
             JOIN users u ON u.id = tm.user_id WHERE t.org_id = $1",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        let mut teams_by_email: HashMap<String, Vec<String>> = HashMap::new();
        for (email, team) in rows {
            teams_by_email
                .entry(email.to_ascii_lowercase())
                .or_default()
                .push(team);
        }
        Ok(Resolver {
            assignments,
            policies,
            teams_by_email,
        })
    }

    /// Trades an enrollment token for a machine credential; `None` when the token is unknown
    /// or revoked.
    pub async fn enroll_machine(&self, request: &EnrollRequest) -> Result<Option<Enrolled>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT t.org_id, o.name, t.name FROM fleet_enroll_tokens t JOIN orgs o ON o.id = t.org_id \
             WHERE t.token_hash = $1 AND t.revoked_ms IS NULL",
        )
        .bind(secret::hash(&request.enrollment_token))
        .fetch_optional(self.pool())
        .await?;
        let Some((org_id, org_name, token_name)) = row else {
            return Ok(None);
        };
        let machine_id = new_id();
        let credential = secret::generate("dwm_");
        let actor = Actor {
            kind: "machine".into(),
            id: machine_id.clone(),
            name: format!("machine {}", request.hostname),
            ip: None,
            user_agent: None,
        };
        let mut w = self.write(&actor).await?;
        sqlx::query(
            "INSERT INTO fleet_machines (id, org_id, host_machine_id, hostname, credential, enrolled_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&machine_id)
        .bind(&org_id)
        .bind(&request.host_machine_id)
        .bind(&request.hostname)
        .bind(&credential)
        .bind(now_ms())
        .execute(w.conn())
        .await?;
        w.record(
            Change::new(
                &org_id,
                actions::MACHINE_ENROLLED,
                target("machine", &machine_id, &request.hostname),
                format!("enrolled with token {token_name}"),
            )
            .details(
                serde_json::json!({ "host_machine_id": request.host_machine_id,
                "os": request.os, "agent_version": request.agent_version }),
            ),
        );
        w.commit().await?;
        Ok(Some(Enrolled {
            machine_id,
            credential,
            org: org_name,
        }))
    }

    /// A machine by id.
    pub async fn machine(&self, id: &str) -> Result<Machine> {
        let row: Option<MachineRow6> =
            sqlx::query_as(
                "SELECT id, org_id, hostname, credential, revoked_ms, status FROM fleet_machines WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let r = row.ok_or_else(|| StoreError::not_found("machine", id))?;
        Ok(Machine {
            id: r.0,
            org_id: r.1,
            hostname: r.2,
            credential: r.3,
            revoked_ms: r.4,
            status: r.5,
        })
    }

    /// Records a request nonce; false when this machine already used it (a replay). Works
    /// across processes: the primary key decides. Expired nonces are purged now and then.
    pub async fn use_nonce(&self, machine_id: &str, nonce: &str, expires_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO fleet_nonces (machine_id, nonce, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (machine_id, nonce) DO NOTHING",
        )
        .bind(machine_id)
        .bind(nonce)
        .bind(expires_ms)
        .execute(self.pool())
        .await?;
        if rand::random::<u8>() == 0 {
            sqlx::query("DELETE FROM fleet_nonces WHERE expires_ms < $1")
                .bind(now_ms())
                .execute(self.pool())
                .await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// The effective machine-level policy of a machine.
    pub async fn machine_policy(&self, machine: &Machine) -> Result<Option<EffectivePolicy>> {
        Ok(self
            .resolver(&machine.org_id)
            .await?
            .effective(&machine.id, None))
    }

    /// Stores a machine's report as its latest, judges it, and records a status change in the
    /// history and (as a compliance transition) in the activity log, all in one transaction.
    pub async fn ingest_report(
        &self,
        machine: &Machine,
        report: &MachineReport,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<Ingested> {
        let resolver = self.resolver(&machine.org_id).await?;
        let now = now_ms();
        let assessment = resolver.assess(
            &machine.id,
            Some((report, now)),
            dockwatch_core::settings::DEFAULT_STALE_AFTER_MS,
        );
        let status = assessment.status;
        let previous: Option<ComplianceStatus> = machine
            .status
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let action = transition::transition(previous.as_ref(), &status);
        let changed = previous.as_ref().map(ComplianceStatus::as_str) != Some(status.as_str());
        let body = serde_json::to_string(report).map_err(|e| StoreError::Corrupt {
            what: "report",
            message: e.to_string(),
        })?;
        let status_json = serde_json::to_string(&status).unwrap_or_default();
        let hostname = report.machine.hostname.clone();
        let update = "UPDATE fleet_machines SET last_report = $1, last_report_ms = $2, status = $3, \
             hostname = $4 WHERE id = $5 AND revoked_ms IS NULL";
        let history = "INSERT INTO fleet_status_history (machine_id, time_ms, status, detail) \
             VALUES ($1, $2, $3, $4)";
        let actor = machine_actor(machine, ip, user_agent);
        // Only transitions go through the mutation hook (a write with no event is refused);
        // a repeated status is a plain update of the machine row.
        let mut w = match action {
            Some(_) => Some(self.write(&actor).await?),
            None => None,
        };
        let _single_writer = match (&w, self.backend) {
            (None, crate::Backend::Sqlite) => Some(self.write_lock.lock().await),
            _ => None,
        };
        let mut plain = match &w {
            Some(_) => None,
            None => Some(self.pool().begin().await?),
        };
        {
            let conn: &mut sqlx::AnyConnection = match (&mut w, &mut plain) {
                (Some(w), _) => w.conn(),
                (None, Some(tx)) => tx,
                (None, None) => unreachable!("one of the two is open"),
            };
            let done = sqlx::query(update)
                .bind(&body)
                .bind(now)
                .bind(&status_json)
                .bind(&hostname)
                .bind(&machine.id)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::not_found("machine", &machine.id));
            }
            if changed || action.is_some() {
                sqlx::query(history)
                    .bind(&machine.id)
                    .bind(now)
                    .bind(status.as_str())
                    .bind(&status_json)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        match (w, plain, action) {
            (Some(mut w), _, Some(action)) => {
                w.record(
                    Change::new(
                        &machine.org_id,
                        action,
                        target("machine", &machine.id, &hostname),
                        sentence(&status),
                    )
                    .details(serde_json::json!({
                        "before": previous, "after": status,
                        "policy": assessment.policy,
                    })),
                );
                w.commit().await?;
            }
            (_, Some(tx), _) => tx.commit().await?,
            _ => unreachable!("one of the two is open"),
        }
        Ok(Ingested {
            status,
            policy_version: assessment.policy.map(|p| p.version),
        })
    }

    /// Revokes a machine's credential: its later requests are refused.
    pub async fn revoke_machine(&self, actor: &Actor, org_id: &str, id: &str) -> Result<()> {
        let mut w = self.write(actor).await?;
        let hostname: Option<String> = sqlx::query_scalar(
            "SELECT hostname FROM fleet_machines WHERE id = $1 AND org_id = $2 AND revoked_ms IS NULL",
        )
        .bind(id)
        .bind(org_id)
        .fetch_optional(w.conn())
        .await?;
        let hostname = hostname.ok_or_else(|| StoreError::not_found("machine", id))?;
        sqlx::query("UPDATE fleet_machines SET revoked_ms = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(w.conn())
            .await?;
        w.record(Change::new(
            org_id,
            actions::MACHINE_REVOKED,
            target("machine", id, &hostname),
            format!("revoked machine {hostname}"),
        ));
        w.commit().await?;
        Ok(())
    }

    /// The fleet report: every machine (not revoked) judged now against the current policies;
    /// `team` keeps machines with a user in that team.
    pub async fn fleet_report(
        &self,
        org_id: &str,
        filter: &FleetFilter,
        team: Option<&str>,
        stale_after_ms: i64,
    ) -> Result<FleetReport> {
        let resolver = self.resolver(org_id).await?;
        let rows: Vec<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT id, hostname, last_report, last_report_ms FROM fleet_machines \
             WHERE org_id = $1 AND revoked_ms IS NULL",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        let team_members: Option<Vec<&String>> = team.map(|t| {
            resolver
                .teams_by_email
                .iter()
                .filter(|(_, teams)| teams.iter().any(|x| x == t))
                .map(|(e, _)| e)
                .collect()
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id, hostname, last, last_ms) in rows {
            let report: Option<MachineReport> = last.and_then(|s| serde_json::from_str(&s).ok());
            let last = report.as_ref().zip(last_ms);
            let assessment = resolver.assess(&id, last, stale_after_ms);
            let mut row = MachineRow::new(&id, last, &assessment);
            if row.hostname.is_empty() {
                row.hostname = hostname;
            }
            if let Some(members) = &team_members
                && !row
                    .users
                    .iter()
                    .any(|u| members.iter().any(|m| m.eq_ignore_ascii_case(u)))
            {
                continue;
            }
            out.push(row);
        }
        Ok(FleetReport::new(out, filter, now_ms(), stale_after_ms))
    }

    /// A machine's status history, oldest first.
    pub async fn machine_history(&self, org_id: &str, id: &str) -> Result<Vec<StatusChange>> {
        let known: Option<String> =
            sqlx::query_scalar("SELECT id FROM fleet_machines WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(org_id)
                .fetch_optional(self.pool())
                .await?;
        known.ok_or_else(|| StoreError::not_found("machine", id))?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT time_ms, status, detail FROM fleet_status_history WHERE machine_id = $1 ORDER BY time_ms",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(time_ms, status, detail)| StatusChange {
                time_ms,
                status,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}
