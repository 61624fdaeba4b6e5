//! The fleet sweep, run periodically by every `serve` process: re-judges the machines whose
//! status can change without a report (silence past the threshold, a policy or assignment
//! change since their last judgement) and logs each transition once.
//!
//! Safe with several processes on one PostgreSQL database: each machine is claimed by a
//! conditional `UPDATE` on the judgement it read (`judged_ms`, `last_report_ms`); a process that
//! loses the race updates nothing and writes no event.

use crate::Store;
use crate::error::Result;
use crate::fleet_judge::{Judgement, Resolver, status_sentence};
use crate::write::system_actor;
use dockwatch_core::Clock;
use dockwatch_core::settings::ComplianceStatus;
use dockwatch_core::settings::fleet_report::rfc3339;
use std::collections::{HashMap, HashSet};

/// Machines read per query.
const BATCH: i64 = 500;
/// A bound on one sweep's queries (the next sweep continues).
const MAX_ROUNDS: usize = 200;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Machines re-judged by this process.
    pub judged: usize,
    /// Of those, how many changed status.
    pub changed: usize,
    /// Machines another process re-judged first.
    pub lost: usize,
}

/// A candidate: id, org, host name, last report, its time, stored status, judged at.
type SweepRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

impl Store {
    /// Re-judges, as of `clock`, the machines silent for longer than `stale_after_ms` that are
    /// not yet `unknown`, and the machines judged before their organization's last policy
    /// change; writes status changes and their transition events (`fleet.compliance.silent`,
    /// `.outdated`, `.unassigned`...) once.
    pub async fn fleet_sweep(
        &self,
        clock: &dyn Clock,
        stale_after_ms: i64,
    ) -> Result<SweepOutcome> {
        let now = clock.now_millis();
        let cutoff = now - stale_after_ms;
        let mut out = SweepOutcome::default();
        let mut resolvers: HashMap<String, Resolver> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        let actor = system_actor();
        for _ in 0..MAX_ROUNDS {
            let rows: Vec<SweepRow> = sqlx::query_as(
                "SELECT m.id, m.org_id, m.hostname, m.last_report, m.last_report_ms, m.status, \
                 m.judged_ms FROM fleet_machines m \
                 LEFT JOIN fleet_policy_changes c ON c.org_id = m.org_id \
                 WHERE m.revoked_ms IS NULL AND ( \
                   (COALESCE(m.last_report_ms, m.enrolled_ms) < $1 \
                     AND COALESCE(m.status_name, '') <> 'unknown') \
                   OR (m.last_report_ms IS NOT NULL AND c.changed_ms IS NOT NULL \
                     AND COALESCE(m.judged_ms, 0) < c.changed_ms)) \
                 ORDER BY m.org_id, m.id LIMIT $2",
            )
            .bind(cutoff)
            .bind(BATCH)
            .fetch_all(self.pool())
            .await?;
            let fresh: Vec<SweepRow> = rows
                .into_iter()
                .filter(|r| seen.insert(r.0.clone()))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for (id, org_id, hostname, last, last_ms, status, judged_ms) in fresh {
                if !resolvers.contains_key(&org_id) {
                    resolvers.insert(org_id.clone(), self.resolver(&org_id).await?);
                }
                let resolver = &resolvers[&org_id];
                let report = last.and_then(|s| serde_json::from_str(&s).ok());
                let last_report = report.as_ref().zip(last_ms);
                let assessment = resolver.assess(&id, last_report, stale_after_ms, clock);
                let previous: Option<ComplianceStatus> =
                    status.as_deref().and_then(|s| serde_json::from_str(s).ok());
                let changed = previous.as_ref().map(ComplianceStatus::as_str)
                    != Some(assessment.status.as_str());
                let sentence = match &assessment.status {
                    ComplianceStatus::Unknown { last_report_at_ms } => format!(
                        "found machine {hostname} silent: {}",
                        last_report_at_ms.map_or_else(
                            || "it never reported".to_owned(),
                            |t| format!("no report since {}", rfc3339(t))
                        )
                    ),
                    other => format!(
                        "re-judged machine {hostname} after a policy change: it {}",
                        status_sentence(other)
                    ),
                };
                let won = self
                    .save_judgement(
                        Judgement {
                            machine_id: &id,
                            org_id: &org_id,
                            hostname: &hostname,
                            previous,
                            status: &assessment.status,
                            policy: assessment.policy.as_ref(),
                            judged_ms: now,
                            report: None,
                            claim: Some((judged_ms, last_ms)),
                            sentence,
                        },
                        &actor,
                    )
                    .await?;
                if won {
                    out.judged += 1;
                    out.changed += usize::from(changed);
                } else {
                    out.lost += 1;
                }
            }
        }
        if out.changed > 0 {
            tracing::info!(
                judged = out.judged,
                changed = out.changed,
                "Fleet sweep re-judged machines."
            );
        }
        Ok(out)
    }
}
