//! The fleet report (API v1 DTO of `GET /api/v1/fleet/report` and `dockwatch fleet report`):
//! one row per machine with its status, policy and drifted settings, counts by status, filters,
//! and the table and CSV renderings.

use super::compliance::{Assessment, ComplianceStatus, PolicyRef};
use super::report::MachineReport;
use super::transition::Summary;
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    /// When it was computed (ms since the epoch).
    pub generated_at_ms: i64,
    /// The silence threshold used (ms).
    pub stale_after_ms: i64,
    /// Counts by status over the rows (after filtering).
    pub summary: Summary,
    /// One row per machine, sorted by host name then machine id.
    pub machines: Vec<MachineRow>,
}

/// One machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineRow {
    /// The server's id for the machine.
    pub machine_id: String,
    /// Its host name.
    pub hostname: String,
    /// `ubuntu 24.04`, `macos`...
    pub os: String,
    /// The users seen on it (e-mail when known, else account name).
    pub users: Vec<String>,
    /// The machine-level effective policy.
    #[serde(default)]
    pub policy: Option<PolicyRef>,
    /// When its last report arrived (ms since the epoch).
    #[serde(default)]
    pub last_report_at_ms: Option<i64>,
    /// The status, with drifts or versions (`{"status": "non-compliant", "drifts": [...]}`).
    #[serde(flatten)]
    pub status: ComplianceStatus,
}

impl MachineRow {
    /// A row from a machine's last report (if any) and its assessment.
    pub fn new(
        machine_id: &str,
        last_report: Option<(&MachineReport, i64)>,
        assessment: &Assessment,
    ) -> Self {
        let (hostname, os, users) = match last_report {
            Some((r, _)) => (
                r.machine.hostname.clone(),
                os_label(r),
                r.users
                    .iter()
                    .map(|u| u.email.clone().unwrap_or_else(|| u.account.clone()))
                    .collect(),
            ),
            None => (String::new(), String::new(), Vec::new()),
        };
        Self {
            machine_id: machine_id.into(),
            hostname,
            os,
            users,
            policy: assessment
                .policy
                .clone()
                .or_else(|| assessment.users.iter().find_map(|u| u.policy.clone())),
            last_report_at_ms: last_report.map(|(_, at)| at),
            status: assessment.status.clone(),
        }
    }

    /// The drifted settings as `key (user): required -> actual`, `; `-separated.
    pub fn drift_summary(&self) -> String {
        let ComplianceStatus::NonCompliant { drifts } = &self.status else {
            return String::new();
        };
        drifts
            .iter()
            .map(|d| {
                let user = d
                    .user
                    .as_ref()
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default();
                format!("{}{user}: {} -> {}", d.key, d.required, d.actual)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn os_label(r: &MachineReport) -> String {
    let os = &r.machine.os;
    match (&os.id, &os.version) {
        (Some(id), Some(v)) => format!("{id} {v}"),
        (Some(id), None) => id.clone(),
        _ => os.family.clone(),
    }
}

/// Which rows to keep; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetFilter {
    /// A status name (`non-compliant`).
    pub status: Option<String>,
    /// A policy name.
    pub policy: Option<String>,
    /// A user (e-mail or account), exact, case-insensitive.
    pub user: Option<String>,
    /// An OS label prefix (`ubuntu`, `macos`).
    pub os: Option<String>,
}

impl FleetFilter {
    /// Whether a row passes.
    pub fn matches(&self, row: &MachineRow) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| row.status.as_str() == s)
            && self
                .policy
                .as_deref()
                .is_none_or(|p| row.policy.as_ref().is_some_and(|x| x.name == p))
            && self
                .user
                .as_deref()
                .is_none_or(|u| row.users.iter().any(|x| x.eq_ignore_ascii_case(u)))
            && self.os.as_deref().is_none_or(|o| {
                row.os
                    .to_ascii_lowercase()
                    .starts_with(&o.to_ascii_lowercase())
            })
    }
}

impl FleetReport {
    /// Builds the report from rows: filters, sorts and counts.
    pub fn new(
        mut rows: Vec<MachineRow>,
        filter: &FleetFilter,
        generated_at_ms: i64,
        stale_after_ms: i64,
    ) -> Self {
        rows.retain(|r| filter.matches(r));
        rows.sort_by(|a, b| {
            a.hostname
                .cmp(&b.hostname)
                .then(a.machine_id.cmp(&b.machine_id))
        });
        Self {
            generated_at_ms,
            stale_after_ms,
            summary: Summary::of(rows.iter().map(|r| r.status.as_str())),
            machines: rows,
        }
    }

    /// CSV: a header and one line per machine.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "machine_id",
            "hostname",
            "os",
            "users",
            "policy",
            "policy_version",
            "status",
            "drifted_settings",
            "last_report_at",
        ];
        w.write_record(header).expect("writing to memory");
        for r in &self.machines {
            w.write_record([
                r.machine_id.as_str(),
                &r.hostname,
                &r.os,
                &r.users.join(" "),
                r.policy.as_ref().map_or("", |p| p.name.as_str()),
                &r.policy
                    .as_ref()
                    .map(|p| p.version.number.to_string())
                    .unwrap_or_default(),
                r.status.as_str(),
                &r.drift_summary(),
                &r.last_report_at_ms.map(rfc3339).unwrap_or_default(),
            ])
            .expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    /// An aligned text table with a summary line.
    pub fn to_table(&self) -> String {
        let mut rows = vec![[
            "HOST".to_string(),
            "MACHINE".into(),
            "OS".into(),
            "POLICY".into(),
            "STATUS".into(),
            "LAST REPORT".into(),
            "DRIFTED".into(),
        ]];
        for r in &self.machines {
            rows.push([
                r.hostname.clone(),
                r.machine_id.clone(),
                r.os.clone(),
                r.policy
                    .as_ref()
                    .map(|p| format!("{} v{}", p.name, p.version.number))
                    .unwrap_or_else(|| "-".into()),
                r.status.as_str().into(),
                r.last_report_at_ms
                    .map(rfc3339)
                    .unwrap_or_else(|| "never".into()),
                r.drift_summary(),
            ]);
        }
        let mut widths = [0usize; 7];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        let s = &self.summary;
        out.push_str(&format!(
            "\n{} machines: {} compliant, {} non-compliant, {} outdated, {} no policy, {} unknown\n",
            s.total, s.compliant, s.non_compliant, s.outdated, s.no_policy, s.unknown
        ));
        out
    }
}

/// `2026-11-25T12:00:00Z` for ms since the epoch.
pub fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::assign::Scope;
    use crate::settings::compliance::Drift;
    use crate::settings::policy::PolicyVersion;
    use serde_json::json;

    fn row(host: &str, id: &str, status: ComplianceStatus) -> MachineRow {
        MachineRow {
            machine_id: id.into(),
            hostname: host.into(),
            os: "ubuntu 24.04".into(),
            users: vec!["alice@corp.example".into()],
            policy: Some(PolicyRef {
                name: "baseline".into(),
                version: PolicyVersion {
                    number: 3,
                    hash: "ab".into(),
                },
                scope: Scope::Org,
            }),
            last_report_at_ms: Some(1_764_072_000_000),
            status,
        }
    }

    fn sample() -> FleetReport {
        let drifted = ComplianceStatus::NonCompliant {
            drifts: vec![Drift {
                key: "analyticsEnabled".into(),
                required: json!(false),
                actual: json!(true),
                locked: true,
                user: Some("alice".into()),
                source: "home/alice/.docker/desktop/settings.json".into(),
            }],
        };
        let mut silent = row(
            "old-box",
            "m-3",
            ComplianceStatus::Unknown {
                last_report_at_ms: None,
            },
        );
        silent.last_report_at_ms = None;
        silent.policy = None;
        FleetReport::new(
            vec![
                row("dev-2", "m-2", drifted),
                row("dev-1", "m-1", ComplianceStatus::Compliant),
                silent,
                row(
                    "dev-4",
                    "m-4",
                    ComplianceStatus::Outdated {
                        applied_version: Some(2),
                        current_version: 3,
                    },
                ),
            ],
            &FleetFilter::default(),
            1_764_072_060_000,
            86_400_000,
        )
    }

    #[test]
    fn rows_are_sorted_counted_and_serialized_with_their_status() {
        let r = sample();
        let hosts: Vec<_> = r.machines.iter().map(|m| m.hostname.as_str()).collect();
        assert_eq!(hosts, ["dev-1", "dev-2", "dev-4", "old-box"]);
        assert_eq!(r.summary.total, 4);
        assert_eq!(r.summary.non_compliant, 1);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["machines"][0]["status"], "compliant");
        assert_eq!(json["machines"][1]["status"], "non-compliant");
        assert_eq!(json["machines"][1]["drifts"][0]["key"], "analyticsEnabled");
        let back: FleetReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn filters_combine() {
        let all = sample().machines;
        let only = |f: FleetFilter| FleetReport::new(all.clone(), &f, 0, 0).machines.len();
        assert_eq!(
            only(FleetFilter {
                status: Some("non-compliant".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            only(FleetFilter {
                policy: Some("baseline".into()),
                ..Default::default()
            }),
            3
        );
        assert_eq!(
            only(FleetFilter {
                user: Some("ALICE@corp.example".into()),
                ..Default::default()
            }),
            4
        );
        assert_eq!(
            only(FleetFilter {
                os: Some("macos".into()),
                ..Default::default()
            }),
            0
        );
        assert_eq!(
            only(FleetFilter {
                os: Some("Ubuntu".into()),
                status: Some("compliant".into()),
                ..Default::default()
            }),
            1
        );
    }

    #[test]
    fn a_row_is_built_from_the_last_report_and_its_assessment() {
        use crate::clock::FixedClock;
        use crate::settings::compliance::{DEFAULT_STALE_AFTER_MS, assess};
        use crate::settings::report::UserSettings;
        let mut report = crate::settings::report::tests::sample();
        report.users.push(UserSettings {
            account: "alice".into(),
            uid: Some(1000),
            email: Some("alice@corp.example".into()),
            files: vec![],
        });
        report.users.push(UserSettings {
            account: "bob".into(),
            uid: None,
            email: None,
            files: vec![],
        });
        let a = assess(
            Some((&report, 5)),
            |_| None,
            &FixedClock(10),
            DEFAULT_STALE_AFTER_MS,
        );
        let row = MachineRow::new("m-9", Some((&report, 5)), &a);
        assert_eq!(row.hostname, "dev-42");
        assert_eq!(row.os, "ubuntu 24.04");
        assert_eq!(row.users, ["alice@corp.example", "bob"]);
        assert_eq!(row.status.as_str(), "no-policy");
        assert_eq!(row.last_report_at_ms, Some(5));
        let never = MachineRow::new("m-0", None, &assess(None, |_| None, &FixedClock(10), 1));
        assert_eq!(never.status.as_str(), "unknown");
    }

    /// Golden files: `testdata/golden/fleet-report.{csv,txt}`; `UPDATE_GOLDEN=1` rewrites them.
    #[test]
    fn csv_and_table_match_their_golden_files() {
        let r = sample();
        for (name, text) in [
            ("fleet-report.csv", r.to_csv()),
            ("fleet-report.txt", r.to_table()),
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata/golden")
                .join(name);
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(text, want, "{name} differs from {}", path.display());
        }
    }
}
