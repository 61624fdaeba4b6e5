//! Compliance per user (`dockwatch fleet report --by user`, `GET .../fleet/report?by=user`):
//! each user's status on every machine they use, their worst status, and counts by status.
//! A user is their e-mail address when the agent found one, else their account name.

use super::compliance::{Assessment, ComplianceStatus, PolicyRef};
use super::fleet_report::{FleetFilter, rfc3339};
use super::report::MachineReport;
use super::transition::Summary;
use serde::{Deserialize, Serialize};

/// One user on one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMachine {
    /// The server's id for the machine.
    pub machine_id: String,
    /// Its host name.
    pub hostname: String,
    /// `ubuntu 24.04`, `macos`...
    pub os: String,
    /// Whether this user is the machine's signed-in user (whose policy the machine gets).
    pub signed_in: bool,
    /// The user's effective policy on this machine.
    #[serde(default)]
    pub policy: Option<PolicyRef>,
    /// When the machine's last report arrived.
    #[serde(default)]
    pub last_report_at_ms: Option<i64>,
    /// The user's status there, with drifts or versions.
    #[serde(flatten)]
    pub status: ComplianceStatus,
}

/// One user's judgement on one machine, before grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct UserEntry {
    /// E-mail, else account name.
    pub user: String,
    /// The machine.
    pub machine: UserMachine,
}

/// One user across their machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    /// E-mail, else account name.
    pub user: String,
    /// The worst of the user's statuses on their machines (`non-compliant`...).
    pub status: String,
    /// The user's machines, sorted by host name.
    pub machines: Vec<UserMachine>,
}

/// The report by user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserReport {
    /// When it was computed (ms since the epoch).
    pub generated_at_ms: i64,
    /// The silence threshold used (ms).
    pub stale_after_ms: i64,
    /// Users counted by their worst status (after filtering).
    pub summary: Summary,
    /// One row per user, sorted by name.
    pub users: Vec<UserRow>,
}

/// The entries of one machine: one per user in its last report, with that user's status (the
/// machine's `unknown` for all when the report is too old to judge).
pub fn user_entries(
    machine_id: &str,
    hostname: &str,
    last_report: Option<(&MachineReport, i64)>,
    assessment: &Assessment,
) -> Vec<UserEntry> {
    let Some((report, at)) = last_report else {
        return Vec::new();
    };
    let signed_in = report.signed_in_email();
    let os = {
        let os = &report.machine.os;
        match (&os.id, &os.version) {
            (Some(id), Some(v)) => format!("{id} {v}"),
            (Some(id), None) => id.clone(),
            _ => os.family.clone(),
        }
    };
    report
        .users
        .iter()
        .map(|u| {
            let judged = assessment.users.iter().find(|a| a.account == u.account);
            let user = u.email.clone().unwrap_or_else(|| u.account.clone());
            UserEntry {
                machine: UserMachine {
                    machine_id: machine_id.into(),
                    hostname: hostname.into(),
                    os: os.clone(),
                    signed_in: signed_in.is_some_and(|s| s.eq_ignore_ascii_case(&user))
                        || (report.users.len() == 1 && report.signed_in_user.is_some()),
                    policy: judged.and_then(|a| a.policy.clone()),
                    last_report_at_ms: Some(at),
                    status: judged.map_or_else(|| assessment.status.clone(), |a| a.status.clone()),
                },
                user,
            }
        })
        .collect()
}

impl UserReport {
    /// Groups entries by user (case-insensitively), keeps the rows passing `filter` (status:
    /// the user's worst; policy, OS: any of their machines; user: exact) and counts them.
    pub fn new(
        entries: Vec<UserEntry>,
        filter: &FleetFilter,
        generated_at_ms: i64,
        stale_after_ms: i64,
    ) -> Self {
        let mut by_user: std::collections::BTreeMap<String, UserRow> = Default::default();
        for e in entries {
            let row = by_user
                .entry(e.user.to_ascii_lowercase())
                .or_insert_with(|| UserRow {
                    user: e.user.clone(),
                    status: String::new(),
                    machines: Vec::new(),
                });
            row.machines.push(e.machine);
        }
        let mut users: Vec<UserRow> = by_user
            .into_values()
            .map(|mut row| {
                row.machines.sort_by(|a, b| {
                    a.hostname
                        .cmp(&b.hostname)
                        .then(a.machine_id.cmp(&b.machine_id))
                });
                row.status = row
                    .machines
                    .iter()
                    .map(|m| &m.status)
                    .max_by_key(|s| s.severity())
                    .map_or("no-policy", ComplianceStatus::as_str)
                    .to_owned();
                row
            })
            .collect();
        users.retain(|row| {
            filter.status.as_deref().is_none_or(|s| row.status == s)
                && filter
                    .user
                    .as_deref()
                    .is_none_or(|u| row.user.eq_ignore_ascii_case(u))
                && filter.policy.as_deref().is_none_or(|p| {
                    row.machines
                        .iter()
                        .any(|m| m.policy.as_ref().is_some_and(|x| x.name == p))
                })
                && filter.os.as_deref().is_none_or(|o| {
                    let o = o.to_ascii_lowercase();
                    row.machines
                        .iter()
                        .any(|m| m.os.to_ascii_lowercase().starts_with(&o))
                })
        });
        Self {
            generated_at_ms,
            stale_after_ms,
            summary: Summary::of(users.iter().map(|r| r.status.as_str())),
            users,
        }
    }

    /// CSV: a header and one line per user and machine.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "user",
            "user_status",
            "machine_id",
            "hostname",
            "signed_in",
            "policy",
            "policy_version",
            "status",
            "drifted_settings",
            "last_report_at",
        ])
        .expect("writing to memory");
        for r in &self.users {
            for m in &r.machines {
                w.write_record([
                    r.user.as_str(),
                    &r.status,
                    &m.machine_id,
                    &m.hostname,
                    if m.signed_in { "yes" } else { "no" },
                    m.policy.as_ref().map_or("", |p| p.name.as_str()),
                    &m.policy
                        .as_ref()
                        .map(|p| p.version.number.to_string())
                        .unwrap_or_default(),
                    m.status.as_str(),
                    &drifts(&m.status),
                    &m.last_report_at_ms.map(rfc3339).unwrap_or_default(),
                ])
                .expect("writing to memory");
            }
        }
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    /// An aligned text table (one line per user and machine) with a summary line.
    pub fn to_table(&self) -> String {
        let mut rows = vec![[
            "USER".to_string(),
            "USER STATUS".into(),
            "HOST".into(),
            "POLICY".into(),
            "STATUS".into(),
            "DRIFTED".into(),
        ]];
        for r in &self.users {
            for m in &r.machines {
                let host = if m.signed_in {
                    format!("{} (signed in)", m.hostname)
                } else {
                    m.hostname.clone()
                };
                rows.push([
                    r.user.clone(),
                    r.status.clone(),
                    host,
                    m.policy
                        .as_ref()
                        .map(|p| format!("{} v{}", p.name, p.version.number))
                        .unwrap_or_else(|| "-".into()),
                    m.status.as_str().into(),
                    drifts(&m.status),
                ]);
            }
        }
        let mut widths = [0usize; 6];
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
            "\n{} users: {} compliant, {} non-compliant, {} outdated, {} no policy, {} unknown\n",
            s.total, s.compliant, s.non_compliant, s.outdated, s.no_policy, s.unknown
        ));
        out
    }
}

fn drifts(status: &ComplianceStatus) -> String {
    let ComplianceStatus::NonCompliant { drifts } = status else {
        return String::new();
    };
    drifts
        .iter()
        .map(|d| format!("{}: {} -> {}", d.key, d.required, d.actual))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::settings::assign::Scope;
    use crate::settings::compliance::{EffectivePolicy, assess};
    use crate::settings::policy::Policy;
    use crate::settings::report::{SettingsFile, SettingsFileKind, UserSettings};
    use serde_json::json;

    fn user(account: &str, email: Option<&str>, analytics: bool) -> UserSettings {
        UserSettings {
            account: account.into(),
            uid: None,
            email: email.map(Into::into),
            files: vec![SettingsFile {
                path: format!("home/{account}/.docker/desktop/settings.json"),
                kind: SettingsFileKind::Settings,
                values: json!({"analyticsEnabled": analytics})
                    .as_object()
                    .unwrap()
                    .clone(),
            }],
        }
    }

    #[test]
    fn users_are_grouped_across_machines_with_their_worst_status() {
        let policy = Policy::from_value(json!({"configurationFileVersion": 2,
            "analyticsEnabled": {"locked": true, "value": false}}))
        .unwrap();
        let p = EffectivePolicy {
            name: "baseline".into(),
            version: policy.version(1),
            policy,
            scope: Scope::Org,
        };
        let mut laptop = crate::settings::report::tests::sample();
        laptop.machine.hostname = "laptop".into();
        laptop.users = vec![
            user("alice", Some("alice@corp.example"), true),
            user("bob", Some("bob@corp.example"), false),
        ];
        laptop.signed_in_user = Some("alice@corp.example".into());
        let mut desk = crate::settings::report::tests::sample();
        desk.machine.hostname = "desk".into();
        desk.users = vec![user("alice", Some("Alice@corp.example"), false)];
        let mut entries = Vec::new();
        for (id, r) in [("m-1", &laptop), ("m-2", &desk)] {
            let a = assess(Some((r, 5)), |_| Some(&p), &FixedClock(10), 1000);
            entries.extend(user_entries(id, &r.machine.hostname, Some((r, 5)), &a));
        }
        let report = UserReport::new(entries.clone(), &FleetFilter::default(), 10, 1000);
        let names: Vec<_> = report.users.iter().map(|u| u.user.as_str()).collect();
        assert_eq!(names, ["alice@corp.example", "bob@corp.example"]);
        let alice = &report.users[0];
        assert_eq!(alice.status, "non-compliant");
        let hosts: Vec<_> = alice.machines.iter().map(|m| m.hostname.as_str()).collect();
        assert_eq!(hosts, ["desk", "laptop"]);
        assert!(alice.machines[1].signed_in && !report.users[1].machines[0].signed_in);
        assert_eq!(report.summary.non_compliant, 1);
        assert_eq!(report.summary.total, 2);
        // Outdated (nothing applied) is bob's worst on a machine where alice drifted.
        assert_eq!(report.users[1].status, "outdated");

        let only_drifted = UserReport::new(
            entries,
            &FleetFilter {
                status: Some("non-compliant".into()),
                ..Default::default()
            },
            10,
            1000,
        );
        assert_eq!(only_drifted.users.len(), 1);
        let csv = only_drifted.to_csv();
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.contains("analyticsEnabled: false -> true"), "{csv}");
        assert!(only_drifted.to_table().contains("laptop (signed in)"));
    }
}
