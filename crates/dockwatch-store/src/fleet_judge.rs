//! Judging machines: the organization's policies and team memberships as a [`Resolver`], and
//! [`Store::save_judgement`], which stores a machine's status and, when it changed, its history
//! row and activity-log transition in one transaction.

use crate::Store;
use crate::error::{Result, StoreError};
use crate::write::{Change, target};
use dockwatch_core::Clock;
use dockwatch_core::settings::report::UserSettings;
use dockwatch_core::settings::{
    Assessment, Assignment, ComplianceStatus, EffectivePolicy, MachineReport, PolicyRef, Subject,
    assess, resolve, transition,
};
use std::collections::HashMap;

/// Policies and memberships of one organization, for resolving effective policies.
pub(crate) struct Resolver {
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) policies: HashMap<String, EffectivePolicy>,
    pub(crate) teams_by_email: HashMap<String, Vec<String>>,
}

impl Resolver {
    /// The effective policy for a machine and (when known) its user: machine > user > team >
    /// org.
    pub(crate) fn effective(
        &self,
        machine_id: &str,
        email: Option<&str>,
    ) -> Option<EffectivePolicy> {
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

    /// Assesses a machine's last report against the current policies: each user against their
    /// own effective policy, the machine against its signed-in user's.
    pub(crate) fn assess(
        &self,
        machine_id: &str,
        last: Option<(&MachineReport, i64)>,
        stale_after_ms: i64,
        clock: &dyn Clock,
    ) -> Assessment {
        let signed_in = last.and_then(|(r, _)| r.signed_in_email());
        let machine_policy = self.effective(machine_id, signed_in);
        let mut per_user: HashMap<String, Option<EffectivePolicy>> = HashMap::new();
        if let Some((r, _)) = last {
            for u in &r.users {
                // A user without an e-mail is the signed-in user when they are the only user.
                let email = u.email.as_deref().or(match r.users.len() {
                    1 => r.signed_in_user.as_deref(),
                    _ => None,
                });
                per_user.insert(u.account.clone(), self.effective(machine_id, email));
            }
        }
        assess(
            last,
            |u: Option<&UserSettings>| match u {
                None => machine_policy.as_ref(),
                Some(u) => per_user.get(&u.account).and_then(Option::as_ref),
            },
            clock,
            stale_after_ms,
        )
    }
}

/// What a judgement stores.
pub(crate) struct Judgement<'a> {
    pub(crate) machine_id: &'a str,
    pub(crate) org_id: &'a str,
    pub(crate) hostname: &'a str,
    pub(crate) previous: Option<ComplianceStatus>,
    pub(crate) status: &'a ComplianceStatus,
    pub(crate) policy: Option<&'a PolicyRef>,
    pub(crate) judged_ms: i64,
    /// A new report: (JSON body, received at, signed-in user).
    pub(crate) report: Option<(&'a str, i64, Option<&'a str>)>,
    /// A re-judgement claims the row: it applies only if `judged_ms` and `last_report_ms` are
    /// still these (another process did not get there first).
    pub(crate) claim: Option<(Option<i64>, Option<i64>)>,
    /// The activity-log sentence, without the actor.
    pub(crate) sentence: String,
}

/// How long a cached resolver serves reports and policy fetches. Policy changes made through
/// this process clear it at once; other processes' changes (and team membership changes) are
/// seen within this time.
const RESOLVER_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Recent resolvers by organization: a report would otherwise read every assignment, parse
/// every assigned policy and read the team memberships.
#[derive(Default)]
pub(crate) struct ResolverCache {
    entries: std::sync::Mutex<HashMap<String, (std::time::Instant, std::sync::Arc<Resolver>)>>,
}

impl ResolverCache {
    /// Forgets every organization's resolver.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Store {
    /// The organization's resolver, from the cache when recent.
    pub(crate) async fn cached_resolver(&self, org_id: &str) -> Result<std::sync::Arc<Resolver>> {
        if let Some((at, r)) = self
            .fleet_cache
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(org_id)
            && at.elapsed() < RESOLVER_TTL
        {
            return Ok(r.clone());
        }
        let fresh = std::sync::Arc::new(self.resolver(org_id).await?);
        self.fleet_cache
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                org_id.to_owned(),
                (std::time::Instant::now(), fresh.clone()),
            );
        Ok(fresh)
    }

    pub(crate) async fn resolver(&self, org_id: &str) -> Result<Resolver> {
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

    /// Stores a judgement; false when its claim was lost (nothing written). A status change
    /// writes a history row, and a transition its activity-log event, in the same transaction.
    pub(crate) async fn save_judgement(
        &self,
        j: Judgement<'_>,
        actor: &crate::Actor,
    ) -> Result<bool> {
        let action = transition(j.previous.as_ref(), j.status);
        let changed = j.previous.as_ref().map(ComplianceStatus::as_str) != Some(j.status.as_str());
        let status_json = serde_json::to_string(j.status).map_err(|e| StoreError::Corrupt {
            what: "status",
            message: e.to_string(),
        })?;
        if action.is_none() && !changed && j.report.is_some() {
            // The steady state (same status as last time): one statement, no transaction.
            return self.save_unchanged_report(&j, &status_json).await;
        }
        // Only transitions go through the mutation hook (a write with no event is refused);
        // a repeated status is a plain update of the machine row.
        let mut w = match action {
            Some(_) => Some(self.write(actor).await?),
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
            let done = match (j.report, j.claim) {
                (Some((body, received_ms, signed_in)), _) => {
                    sqlx::query(
                        "UPDATE fleet_machines SET last_report = $1, last_report_ms = $2, \
                         signed_in_user = $3, hostname = $4, status = $5, status_name = $6, \
                         judged_ms = $7 WHERE id = $8 AND revoked_ms IS NULL",
                    )
                    .bind(body)
                    .bind(received_ms)
                    .bind(signed_in)
                    .bind(j.hostname)
                    .bind(&status_json)
                    .bind(j.status.as_str())
                    .bind(j.judged_ms)
                    .bind(j.machine_id)
                    .execute(&mut *conn)
                    .await?
                }
                (None, claim) => {
                    let (judged, last) = claim.unwrap_or_default();
                    sqlx::query(
                        "UPDATE fleet_machines SET status = $1, status_name = $2, judged_ms = $3 \
                         WHERE id = $4 AND revoked_ms IS NULL AND COALESCE(judged_ms, -1) = $5 \
                         AND COALESCE(last_report_ms, -1) = $6",
                    )
                    .bind(&status_json)
                    .bind(j.status.as_str())
                    .bind(j.judged_ms)
                    .bind(j.machine_id)
                    .bind(judged.unwrap_or(-1))
                    .bind(last.unwrap_or(-1))
                    .execute(&mut *conn)
                    .await?
                }
            };
            if done.rows_affected() != 1 {
                // Dropping the transaction rolls it back.
                return match j.claim {
                    Some(_) => Ok(false),
                    None => Err(StoreError::not_found("machine", j.machine_id)),
                };
            }
            if changed || action.is_some() {
                sqlx::query(
                    "INSERT INTO fleet_status_history (machine_id, time_ms, status, detail) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(j.machine_id)
                .bind(j.judged_ms)
                .bind(j.status.as_str())
                .bind(&status_json)
                .execute(&mut *conn)
                .await?;
            }
        }
        match (w, plain, action) {
            (Some(mut w), _, Some(action)) => {
                w.record(
                    Change::new(
                        j.org_id,
                        action,
                        target("machine", j.machine_id, j.hostname),
                        j.sentence,
                    )
                    .details(serde_json::json!({
                        "before": j.previous, "after": j.status, "policy": j.policy,
                    })),
                );
                w.commit().await?;
            }
            (_, Some(tx), _) => tx.commit().await?,
            _ => unreachable!("one of the two is open"),
        }
        Ok(true)
    }
}

impl Store {
    /// A report that leaves the status as it was: the machine row only.
    async fn save_unchanged_report(&self, j: &Judgement<'_>, status_json: &str) -> Result<bool> {
        let Some((body, received_ms, signed_in)) = j.report else {
            return Ok(false);
        };
        let _single_writer = match self.backend {
            crate::Backend::Sqlite => Some(self.write_lock.lock().await),
            crate::Backend::Postgres => None,
        };
        let done = sqlx::query(
            "UPDATE fleet_machines SET last_report = $1, last_report_ms = $2, \
             signed_in_user = $3, hostname = $4, status = $5, status_name = $6, \
             judged_ms = $7 WHERE id = $8 AND revoked_ms IS NULL",
        )
        .bind(body)
        .bind(received_ms)
        .bind(signed_in)
        .bind(j.hostname)
        .bind(status_json)
        .bind(j.status.as_str())
        .bind(j.judged_ms)
        .bind(j.machine_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("machine", j.machine_id));
        }
        Ok(true)
    }
}

/// The sentence of a status, after the actor: `is non-compliant: analyticsEnabled (required
/// false, found true)`.
pub(crate) fn status_sentence(status: &ComplianceStatus) -> String {
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
