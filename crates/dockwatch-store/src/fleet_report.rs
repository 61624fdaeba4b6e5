//! The fleet report: every machine of an organization judged now against the current
//! policies, per machine or per user, and the summary counted from the indexed status column.

use crate::error::Result;
use crate::fleet_judge::Resolver;
use crate::{Store, now_ms};
use dockwatch_core::SystemClock;
use dockwatch_core::settings::{
    Assessment, FleetFilter, FleetReport, MachineReport, MachineRow, Summary, UserReport,
    user_entries,
};

/// One machine judged at read time.
struct Judged {
    id: String,
    hostname: String,
    report: Option<MachineReport>,
    last_ms: Option<i64>,
    assessment: Assessment,
}

impl Judged {
    fn last(&self) -> Option<(&MachineReport, i64)> {
        self.report.as_ref().zip(self.last_ms)
    }
}

impl Store {
    /// Every machine (not revoked) judged now; `team` keeps machines with a user in it.
    async fn judge_all(
        &self,
        org_id: &str,
        team: Option<&str>,
        stale_after_ms: i64,
    ) -> Result<Vec<Judged>> {
        let resolver: Resolver = self.resolver(org_id).await?;
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
            if let Some(members) = &team_members {
                let in_team = report.as_ref().is_some_and(|r| {
                    r.users.iter().any(|u| {
                        let name = u.email.as_deref().unwrap_or(&u.account);
                        members.iter().any(|m| m.eq_ignore_ascii_case(name))
                    })
                });
                if !in_team {
                    continue;
                }
            }
            let assessment = resolver.assess(
                &id,
                report.as_ref().zip(last_ms),
                stale_after_ms,
                &SystemClock,
            );
            out.push(Judged {
                id,
                hostname,
                report,
                last_ms,
                assessment,
            });
        }
        Ok(out)
    }

    /// The fleet report: one row per machine (not revoked), judged now against the current
    /// policies; `team` keeps machines with a user in that team.
    pub async fn fleet_report(
        &self,
        org_id: &str,
        filter: &FleetFilter,
        team: Option<&str>,
        stale_after_ms: i64,
    ) -> Result<FleetReport> {
        let judged = self.judge_all(org_id, team, stale_after_ms).await?;
        let rows = judged
            .iter()
            .map(|j| {
                let mut row = MachineRow::new(&j.id, j.last(), &j.assessment);
                if row.hostname.is_empty() {
                    row.hostname = j.hostname.clone();
                }
                row
            })
            .collect();
        Ok(FleetReport::new(rows, filter, now_ms(), stale_after_ms))
    }

    /// The fleet report by user: each user's status on each machine they use.
    pub async fn fleet_user_report(
        &self,
        org_id: &str,
        filter: &FleetFilter,
        team: Option<&str>,
        stale_after_ms: i64,
    ) -> Result<UserReport> {
        let judged = self.judge_all(org_id, team, stale_after_ms).await?;
        let entries = judged
            .iter()
            .flat_map(|j| user_entries(&j.id, &j.hostname, j.last(), &j.assessment))
            .collect();
        Ok(UserReport::new(entries, filter, now_ms(), stale_after_ms))
    }

    /// Counts of machines by status, from each machine's stored status (as of its last report
    /// or re-judgement by the sweep), a machine without a report within `stale_after_ms`
    /// counting as unknown. One indexed aggregate: no report is read.
    pub async fn fleet_summary(&self, org_id: &str, stale_after_ms: i64) -> Result<Summary> {
        let cutoff = now_ms() - stale_after_ms;
        // Grouped by the indexed status name, counting per group the machines heard from
        // since the cutoff: one pass over the covering index (org_id, status_name,
        // last_report_ms); a `CASE` in the `GROUP BY` would make SQLite read every row.
        let rows: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT status_name, COUNT(*), \
             SUM(CASE WHEN last_report_ms >= $2 THEN 1 ELSE 0 END) FROM fleet_machines \
             WHERE org_id = $1 AND revoked_ms IS NULL GROUP BY status_name",
        )
        .bind(org_id)
        .bind(cutoff)
        .fetch_all(self.pool())
        .await?;
        let mut summary = Summary::default();
        for (status, all, fresh) in rows {
            let (all, fresh) = (all.max(0) as u64, fresh.max(0) as u64);
            summary.add_n(status.as_deref().unwrap_or("unknown"), fresh);
            summary.add_n("unknown", all - fresh);
        }
        Ok(summary)
    }
}
