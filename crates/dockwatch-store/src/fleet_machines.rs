//! Fleet machines: enrollment, per-machine credentials, seen nonces, report ingest with
//! compliance transitions in the activity log, status history and the fleet report.

use crate::error::{Result, StoreError};
use crate::fleet_judge::{Judgement, status_sentence};
use crate::write::{Change, target};
use crate::{Actor, Store, new_id, now_ms, secret};
use dockwatch_core::SystemClock;
use dockwatch_core::settings::transition::actions;
use dockwatch_core::settings::wire::EnrollRequest;
use dockwatch_core::settings::{ComplianceStatus, EffectivePolicy, MachineReport, PolicyVersion};

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
    /// The signed-in user's e-mail in its last report.
    pub signed_in_user: Option<String>,
}

/// A `fleet_machines` row: id, org, host name, credential, revoked, status, signed-in user.
type MachineRow7 = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

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

fn machine_actor(m: &Machine, ip: Option<String>, user_agent: Option<String>) -> Actor {
    Actor {
        kind: "machine".into(),
        id: m.id.clone(),
        name: format!("machine {}", m.hostname),
        ip,
        user_agent,
    }
}

impl Store {
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
        let row: Option<MachineRow7> = sqlx::query_as(
            "SELECT id, org_id, hostname, credential, revoked_ms, status, signed_in_user \
             FROM fleet_machines WHERE id = $1",
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
            signed_in_user: r.6,
        })
    }

    /// Records a request nonce; false when this machine already used it (a replay). Works
    /// across processes: the primary key decides. Expired nonces are purged now and then.
    pub async fn use_nonce(&self, machine_id: &str, nonce: &str, expires_ms: i64) -> Result<bool> {
        // SQLite has one writer: queue in the process rather than in SQLite's busy handler,
        // which sleeps for milliseconds at a time under load.
        let _single_writer = match self.backend {
            crate::Backend::Sqlite => Some(self.write_lock.lock().await),
            crate::Backend::Postgres => None,
        };
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

    /// The effective policy a machine gets: that of `user` (the signed-in user the agent
    /// named), else of the signed-in user of its last report, else the machine's own.
    pub async fn machine_policy(
        &self,
        machine: &Machine,
        user: Option<&str>,
    ) -> Result<Option<EffectivePolicy>> {
        let user = user.or(machine.signed_in_user.as_deref());
        Ok(self
            .cached_resolver(&machine.org_id)
            .await?
            .effective(&machine.id, user))
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
        let resolver = self.cached_resolver(&machine.org_id).await?;
        let now = now_ms();
        let assessment = resolver.assess(
            &machine.id,
            Some((report, now)),
            dockwatch_core::settings::DEFAULT_STALE_AFTER_MS,
            &SystemClock,
        );
        let previous: Option<ComplianceStatus> = machine
            .status
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let body = serde_json::to_string(report).map_err(|e| StoreError::Corrupt {
            what: "report",
            message: e.to_string(),
        })?;
        let hostname = report.machine.hostname.clone();
        let actor = machine_actor(machine, ip, user_agent);
        self.save_judgement(
            Judgement {
                machine_id: &machine.id,
                org_id: &machine.org_id,
                hostname: &hostname,
                previous,
                status: &assessment.status,
                policy: assessment.policy.as_ref(),
                judged_ms: now,
                report: Some((&body, now, report.signed_in_email())),
                claim: None,
                sentence: status_sentence(&assessment.status),
            },
            &actor,
        )
        .await?;
        Ok(Ingested {
            policy_version: assessment.policy.map(|p| p.version),
            status: assessment.status,
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
