//! The compliance diff: a machine's last report against its effective policy, per user and for
//! the machine, giving one status each and, for drift, each setting's required and actual value.
//!
//! Order of judgement (first match wins): no report within the threshold → `unknown`; no policy
//! → `no-policy`; a locked setting or a required engine check differs → `non-compliant`; the
//! policy on the machine is not the current version → `outdated`; else `compliant`.

use super::assign::Scope;
use super::catalog::{self, ValueKind};
use super::engine::{self, EngineFinding};
use super::policy::{Policy, PolicyVersion, Requirement, requirements_in};
use super::report::{MachineReport, SettingsFileKind, UserSettings};
use crate::Clock;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::OnceCell;
use std::collections::HashMap;

/// A report older than this (24 h) makes the status `unknown`.
pub const DEFAULT_STALE_AFTER_MS: i64 = 24 * 60 * 60 * 1000;

/// The policy in force for a subject, with its version and the assignment that chose it.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectivePolicy {
    /// The policy's name.
    pub name: String,
    /// Its current version.
    pub version: PolicyVersion,
    /// Its content at that version.
    pub policy: Policy,
    /// The assignment's scope that made it win.
    pub scope: Scope,
}

/// Names the effective policy in an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy's name.
    pub name: String,
    /// The version judged against.
    pub version: PolicyVersion,
    /// Through which assignment.
    pub scope: Scope,
}

/// One setting that differs from the policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The requirement (`analyticsEnabled`, `kubernetes.enabled`, `engine.cis-2.2`).
    pub key: String,
    /// What the policy sets.
    pub required: Value,
    /// What the machine has (`null` when unset).
    pub actual: Value,
    /// Whether the policy locks it (unlocked settings are defaults users may change).
    pub locked: bool,
    /// The user account whose settings differ (none for machine-wide settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The file the actual value was read from, relative to the agent's root.
    pub source: String,
}

/// A compliance status. Serialized as `{"status": "compliant" | "non-compliant" | "outdated" |
/// "no-policy" | "unknown", ...details}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ComplianceStatus {
    /// Every locked setting and required engine check matches, on the current version.
    Compliant,
    /// At least one locked setting or required engine check differs.
    NonCompliant {
        /// What differs (locked settings and required engine checks).
        drifts: Vec<Drift>,
    },
    /// The settings match, but the policy installed on the machine is not the current version.
    Outdated {
        /// The version the agent applied, if any.
        applied_version: Option<u64>,
        /// The version in force.
        current_version: u64,
    },
    /// No policy is assigned.
    NoPolicy,
    /// No report within the threshold.
    Unknown {
        /// When the last report arrived, if ever (ms since the epoch).
        last_report_at_ms: Option<i64>,
    },
}

impl ComplianceStatus {
    /// The serialized name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NonCompliant { .. } => "non-compliant",
            Self::Outdated { .. } => "outdated",
            Self::NoPolicy => "no-policy",
            Self::Unknown { .. } => "unknown",
        }
    }

    /// How bad it is, for folding users into a machine: unknown 4, non-compliant 3, outdated 2,
    /// compliant 1, no-policy 0 (a machine where only some users have a policy is judged by them).
    pub fn severity(&self) -> u8 {
        match self {
            Self::Unknown { .. } => 4,
            Self::NonCompliant { .. } => 3,
            Self::Outdated { .. } => 2,
            Self::Compliant => 1,
            Self::NoPolicy => 0,
        }
    }
}

/// One user's assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserAssessment {
    /// The account name.
    pub account: String,
    /// The e-mail address, when known.
    #[serde(default)]
    pub email: Option<String>,
    /// The policy judged against.
    #[serde(default)]
    pub policy: Option<PolicyRef>,
    /// The user's status.
    #[serde(flatten)]
    pub status: ComplianceStatus,
}

/// A machine's assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The machine's status: the worst of its users' (or of the machine-level subject when no
    /// user has Desktop settings).
    #[serde(flatten)]
    pub status: ComplianceStatus,
    /// The machine-level policy (the one for no particular user).
    #[serde(default)]
    pub policy: Option<PolicyRef>,
    /// Per user.
    pub users: Vec<UserAssessment>,
    /// Every engine check's outcome.
    pub engine: Vec<EngineFinding>,
    /// Unlocked settings that differ: allowed, shown for information.
    pub unlocked_deviations: Vec<Drift>,
    /// Requirements no probe could observe on this machine.
    pub unobserved: Vec<String>,
}

/// Assesses a machine.
///
/// `last_report` is the last report and when it arrived (server time, ms); `policy_for` gives
/// the effective policy for one user of the machine, or for the machine itself when given
/// `None` (the server resolves it with [`super::assign::resolve`]).
pub fn assess<'p>(
    last_report: Option<(&MachineReport, i64)>,
    policy_for: impl Fn(Option<&UserSettings>) -> Option<&'p EffectivePolicy>,
    clock: &dyn Clock,
    stale_after_ms: i64,
) -> Assessment {
    let machine_policy = policy_for(None);
    let mut out = Assessment {
        status: ComplianceStatus::NoPolicy,
        policy: machine_policy.map(policy_ref),
        users: Vec::new(),
        engine: Vec::new(),
        unlocked_deviations: Vec::new(),
        unobserved: Vec::new(),
    };
    let Some((report, received_at)) = last_report else {
        out.status = ComplianceStatus::Unknown {
            last_report_at_ms: None,
        };
        return out;
    };
    if clock.now_millis() - received_at > stale_after_ms {
        out.status = ComplianceStatus::Unknown {
            last_report_at_ms: Some(received_at),
        };
        return out;
    }
    let engine_policy = machine_policy.map(|p| &p.policy.engine);
    let findings = engine::evaluate(
        report.engine.daemon_json.as_ref(),
        report.engine.info.as_ref(),
        engine_policy.unwrap_or(&Default::default()),
    );

    let installed = Installed::of(report);
    let mut statuses = Vec::new();
    if report.users.is_empty() {
        let status = judge(
            report,
            &installed,
            None,
            machine_policy,
            &findings,
            &mut out,
        );
        statuses.push(status);
    }
    for user in &report.users {
        let policy = policy_for(Some(user));
        let status = judge(report, &installed, Some(user), policy, &findings, &mut out);
        out.users.push(UserAssessment {
            account: user.account.clone(),
            email: user.email.clone(),
            policy: policy.map(policy_ref),
            status: status.clone(),
        });
        statuses.push(status);
    }
    out.status = fold(statuses);
    out.engine = findings;
    out.unobserved.sort();
    out.unobserved.dedup();
    out
}

fn policy_ref(p: &EffectivePolicy) -> PolicyRef {
    PolicyRef {
        name: p.name.clone(),
        version: p.version.clone(),
        scope: p.scope.clone(),
    }
}

/// The machine's status from its subjects': the worst; the drifts of all non-compliant users.
fn fold(statuses: Vec<ComplianceStatus>) -> ComplianceStatus {
    let mut drifts: Vec<Drift> = statuses
        .iter()
        .filter_map(|s| match s {
            ComplianceStatus::NonCompliant { drifts } => Some(drifts.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    // Machine-wide drifts (engine checks) are found once per user; keep one.
    let mut seen = std::collections::HashSet::new();
    drifts.retain(|d| seen.insert((d.key.clone(), d.user.clone())));
    if !drifts.is_empty() {
        return ComplianceStatus::NonCompliant { drifts };
    }
    statuses
        .into_iter()
        .max_by_key(ComplianceStatus::severity)
        .unwrap_or(ComplianceStatus::NoPolicy)
}

fn judge(
    report: &MachineReport,
    installed: &Installed<'_>,
    user: Option<&UserSettings>,
    policy: Option<&EffectivePolicy>,
    findings: &[EngineFinding],
    out: &mut Assessment,
) -> ComplianceStatus {
    let Some(policy) = policy else {
        return ComplianceStatus::NoPolicy;
    };
    let mut drifts = Vec::new();
    for r in policy.policy.requirements() {
        let Some((actual, source)) = observe(r, user, installed) else {
            out.unobserved.push(r.key.clone());
            continue;
        };
        if same(r, &actual) {
            continue;
        }
        let drift = Drift {
            key: r.key.clone(),
            required: r.value.clone(),
            actual,
            locked: r.locked,
            user: user.map(|u| u.account.clone()),
            source,
        };
        if r.locked {
            drifts.push(drift);
        } else {
            out.unlocked_deviations.push(drift);
        }
    }
    let engine_observed = report.engine.daemon_json.is_some() || report.engine.info.is_some();
    for f in findings.iter().filter(|f| !f.passed) {
        if !policy.policy.engine.require.contains(&f.id) {
            continue;
        }
        if !engine_observed {
            out.unobserved.push(format!("engine.{}", f.id));
            continue;
        }
        drifts.push(Drift {
            key: format!("engine.{}", f.id),
            required: Value::String(f.required.clone()),
            actual: f.actual.clone(),
            locked: true,
            user: None,
            source: report
                .engine
                .daemon_json_path
                .clone()
                .unwrap_or_else(|| "docker info".into()),
        });
    }
    if !drifts.is_empty() {
        return ComplianceStatus::NonCompliant { drifts };
    }
    let current = &policy.version;
    let applied_current = report
        .applied_policy
        .as_ref()
        .is_some_and(|a| a.hash == current.hash);
    let installed_current = || {
        report
            .admin_settings
            .as_ref()
            .is_some_and(|i| i.content == policy.policy.to_admin_settings())
    };
    if applied_current || installed_current() {
        ComplianceStatus::Compliant
    } else {
        ComplianceStatus::Outdated {
            applied_version: report.applied_policy.as_ref().map(|a| a.number),
            current_version: current.number,
        }
    }
}

/// The installed admin-settings.json's values by requirement key, read at most once per
/// assessment and only when a setting is not in the users' own files.
struct Installed<'r> {
    report: &'r MachineReport,
    values: OnceCell<HashMap<String, Value>>,
}

impl<'r> Installed<'r> {
    fn of(report: &'r MachineReport) -> Self {
        Self {
            report,
            values: OnceCell::new(),
        }
    }

    fn get(&self, key: &str) -> Option<(Value, String)> {
        let installed = self.report.admin_settings.as_ref()?;
        let values = self.values.get_or_init(|| match &installed.content {
            Value::Object(doc) => requirements_in(doc)
                .into_iter()
                .map(|r| (r.key, r.value))
                .collect(),
            _ => HashMap::new(),
        });
        values.get(key).map(|v| (v.clone(), installed.path.clone()))
    }
}

/// Where a requirement's actual value is: the user's settings-store.json, then settings.json,
/// then the installed admin-settings.json (what Desktop falls back to).
fn observe(
    r: &Requirement,
    user: Option<&UserSettings>,
    installed: &Installed<'_>,
) -> Option<(Value, String)> {
    if let (Some(user), Some(dk)) = (user, catalog::desktop_key(&r.key)) {
        let leaf = r.key.rsplit('.').next().unwrap_or(&r.key);
        for file in &user.files {
            let exact = match file.kind {
                SettingsFileKind::SettingsStore => dk.store,
                SettingsFileKind::Settings => dk.legacy,
            };
            let found = file.values.get(exact).or_else(|| {
                // Key casing has changed between Desktop releases: accept any casing of the
                // documented names.
                file.values.iter().find_map(|(k, v)| {
                    (k.eq_ignore_ascii_case(dk.store)
                        || k.eq_ignore_ascii_case(dk.legacy)
                        || (!r.key.contains('.') && k.eq_ignore_ascii_case(leaf)))
                    .then_some(v)
                })
            });
            if let Some(v) = found {
                return Some((v.clone(), file.path.clone()));
            }
        }
    }
    installed.get(&r.key)
}

/// Whether an actual value satisfies a requirement (numbers by value; proxy exclusion lists as
/// sets, whether written as a list or a comma-separated string).
fn same(r: &Requirement, actual: &Value) -> bool {
    if let (Some(a), Some(b)) = (r.value.as_f64(), actual.as_f64()) {
        return a == b;
    }
    let is_list = catalog::kind_of(&r.key) == Some(ValueKind::StringOrList);
    if is_list {
        return as_set(&r.value) == as_set(actual);
    }
    &r.value == actual
}

fn as_set(v: &Value) -> Option<std::collections::BTreeSet<String>> {
    let items: Vec<String> = match v {
        Value::String(s) => s.split(',').map(|x| x.trim().to_string()).collect(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(|s| s.trim().to_string()))
            .collect::<Option<_>>()?,
        Value::Null => Vec::new(),
        _ => return None,
    };
    Some(items.into_iter().filter(|s| !s.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::settings::report::tests::sample;
    use crate::settings::report::{EngineState, InstalledAdminSettings, SettingsFile};
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;

    fn policy(doc: Value, number: u64) -> EffectivePolicy {
        let policy = Policy::from_value(doc).unwrap();
        EffectivePolicy {
            name: "baseline".into(),
            version: policy.version(number),
            policy,
            scope: Scope::Org,
        }
    }

    fn baseline() -> EffectivePolicy {
        policy(
            json!({"configurationFileVersion": 2,
                "analyticsEnabled": {"locked": true, "value": false},
                "disableUpdate": {"locked": true, "value": true},
                "exposeDockerAPIOnTCP2375": {"locked": true, "value": false},
                "extensionsEnabled": {"locked": false, "value": false}}),
            3,
        )
    }

    /// A Linux machine with alice's Desktop 4.34 settings.json, as Desktop writes it.
    fn machine(settings: Value, applied: Option<&EffectivePolicy>) -> MachineReport {
        let mut r = sample();
        r.users.push(UserSettings {
            account: "alice".into(),
            uid: Some(1000),
            email: None,
            files: vec![SettingsFile {
                path: "home/alice/.docker/desktop/settings.json".into(),
                kind: SettingsFileKind::Settings,
                values: settings.as_object().unwrap().clone(),
            }],
        });
        r.applied_policy = applied.map(|p| p.version.clone());
        r
    }

    fn run(report: Option<&MachineReport>, p: Option<&EffectivePolicy>, age_ms: i64) -> Assessment {
        assess(
            report.map(|r| (r, NOW - age_ms)),
            |_| p,
            &FixedClock(NOW),
            DEFAULT_STALE_AFTER_MS,
        )
    }

    #[test]
    fn in_line_settings_on_the_applied_version_are_compliant() {
        let p = baseline();
        let r = machine(
            json!({"analyticsEnabled": false, "disableUpdate": true, "exposeDockerAPIOnTCP2375": false,
                   "extensionsEnabled": true, "autoStart": false}),
            Some(&p),
        );
        let a = run(Some(&r), Some(&p), 1000);
        assert_eq!(a.status, ComplianceStatus::Compliant);
        assert_eq!(a.users[0].status, ComplianceStatus::Compliant);
        // The unlocked default the user changed is shown but allowed.
        assert_eq!(a.unlocked_deviations.len(), 1);
        assert_eq!(a.unlocked_deviations[0].key, "extensionsEnabled");
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["status"], "compliant");
    }

    #[test]
    fn a_locked_setting_that_differs_is_named_with_both_values() {
        let p = baseline();
        let r = machine(
            json!({"analyticsEnabled": true, "disableUpdate": true, "exposeDockerAPIOnTCP2375": false}),
            Some(&p),
        );
        let a = run(Some(&r), Some(&p), 0);
        let ComplianceStatus::NonCompliant { drifts } = &a.status else {
            panic!("{:?}", a.status)
        };
        assert_eq!(
            drifts,
            &[Drift {
                key: "analyticsEnabled".into(),
                required: json!(false),
                actual: json!(true),
                locked: true,
                user: Some("alice".into()),
                source: "home/alice/.docker/desktop/settings.json".into(),
            }]
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["status"], "non-compliant");
        assert_eq!(json["drifts"][0]["key"], "analyticsEnabled");
    }

    #[test]
    fn settings_store_keys_are_read_in_their_own_casing() {
        let p = baseline();
        let mut r = machine(json!({}), Some(&p));
        r.users[0].files = vec![SettingsFile {
            path: "home/alice/.docker/desktop/settings-store.json".into(),
            kind: SettingsFileKind::SettingsStore,
            values: json!({"AnalyticsEnabled": true, "DisableUpdate": true, "ExposeDockerAPIOnTCP2375": false})
                .as_object()
                .unwrap()
                .clone(),
        }];
        let a = run(Some(&r), Some(&p), 0);
        assert_eq!(a.status.as_str(), "non-compliant");
    }

    #[test]
    fn an_older_applied_version_is_outdated() {
        let old = policy(
            json!({"configurationFileVersion": 2, "analyticsEnabled": {"locked": true, "value": false}}),
            2,
        );
        let p = baseline();
        let r = machine(
            json!({"analyticsEnabled": false, "disableUpdate": true, "exposeDockerAPIOnTCP2375": false}),
            Some(&old),
        );
        let a = run(Some(&r), Some(&p), 0);
        assert_eq!(
            a.status,
            ComplianceStatus::Outdated {
                applied_version: Some(2),
                current_version: 3
            }
        );
        assert_eq!(serde_json::to_value(&a).unwrap()["status"], "outdated");
    }

    #[test]
    fn a_policy_installed_by_other_means_counts_as_current() {
        let p = baseline();
        let mut r = machine(
            json!({"analyticsEnabled": false, "disableUpdate": true, "exposeDockerAPIOnTCP2375": false}),
            None,
        );
        assert_eq!(run(Some(&r), Some(&p), 0).status.as_str(), "outdated");
        r.admin_settings = Some(InstalledAdminSettings {
            path: "usr/share/docker-desktop/admin-settings.json".into(),
            sha256: "x".into(),
            content: p.policy.to_admin_settings(),
        });
        assert_eq!(
            run(Some(&r), Some(&p), 0).status,
            ComplianceStatus::Compliant
        );
    }

    #[test]
    fn settings_only_in_admin_settings_are_observed_there() {
        let p = policy(
            json!({"configurationFileVersion": 2, "blockDockerLoad": {"locked": true, "value": true}}),
            1,
        );
        let mut r = machine(json!({}), None);
        let mut other = p.policy.to_admin_settings();
        other["blockDockerLoad"]["value"] = json!(false);
        r.admin_settings = Some(InstalledAdminSettings {
            path: "usr/share/docker-desktop/admin-settings.json".into(),
            sha256: "x".into(),
            content: other,
        });
        let a = run(Some(&r), Some(&p), 0);
        let ComplianceStatus::NonCompliant { drifts } = a.status else {
            panic!()
        };
        assert_eq!(
            drifts[0].source,
            "usr/share/docker-desktop/admin-settings.json"
        );
        // Without any admin-settings.json the setting can't be seen at all.
        r.admin_settings = None;
        let a = run(Some(&r), Some(&p), 0);
        assert_eq!(a.unobserved, ["blockDockerLoad"]);
        assert_eq!(a.status.as_str(), "outdated");
    }

    #[test]
    fn no_policy_and_silence_have_their_own_statuses() {
        let r = machine(json!({"analyticsEnabled": true}), None);
        assert_eq!(run(Some(&r), None, 0).status, ComplianceStatus::NoPolicy);
        let p = baseline();
        assert_eq!(
            run(Some(&r), Some(&p), DEFAULT_STALE_AFTER_MS + 1).status,
            ComplianceStatus::Unknown {
                last_report_at_ms: Some(NOW - DEFAULT_STALE_AFTER_MS - 1)
            }
        );
        assert_eq!(
            run(None, Some(&p), 0).status,
            ComplianceStatus::Unknown {
                last_report_at_ms: None
            }
        );
        assert_eq!(
            serde_json::to_value(run(None, None, 0)).unwrap()["status"],
            "unknown"
        );
        assert_eq!(
            serde_json::to_value(run(Some(&r), None, 0)).unwrap()["status"],
            "no-policy"
        );
    }

    #[test]
    fn required_engine_checks_drift_and_others_are_findings_only() {
        let mut p = baseline();
        p.policy = Policy::from_value(json!({"configurationFileVersion": 2,
            "x-dockwatch": {"engine": {"require": ["cis-2.2", "cis-2.15"]}}}))
        .unwrap();
        p.version = p.policy.version(4);
        let mut r = machine(json!({}), Some(&p));
        r.engine = EngineState {
            daemon_json: Some(json!({"live-restore": true}).as_object().unwrap().clone()),
            daemon_json_path: Some("etc/docker/daemon.json".into()),
            info: None,
        };
        let a = run(Some(&r), Some(&p), 0);
        let ComplianceStatus::NonCompliant { drifts } = &a.status else {
            panic!("{:?}", a.status)
        };
        assert_eq!(drifts.len(), 1);
        assert_eq!(drifts[0].key, "engine.cis-2.2");
        assert_eq!(drifts[0].source, "etc/docker/daemon.json");
        assert!(
            a.engine
                .iter()
                .any(|f| f.id == "cis-2.16" && !f.passed && !f.required_by_policy)
        );
        // No engine seen at all: nothing to judge, said so.
        r.engine = EngineState::default();
        let a = run(Some(&r), Some(&p), 0);
        assert_eq!(a.status, ComplianceStatus::Compliant);
        assert_eq!(a.unobserved, ["engine.cis-2.15", "engine.cis-2.2"]);
    }

    #[test]
    fn users_are_judged_by_their_own_policy_and_the_machine_by_the_worst() {
        let strict = baseline();
        let mut r = machine(json!({"analyticsEnabled": true}), Some(&strict));
        r.users.push(UserSettings {
            account: "bob".into(),
            uid: Some(1001),
            email: Some("bob@corp.example".into()),
            files: vec![],
        });
        let a = assess(
            Some((&r, NOW)),
            |u| match u {
                Some(u) if u.account == "alice" => Some(&strict),
                _ => None,
            },
            &FixedClock(NOW),
            DEFAULT_STALE_AFTER_MS,
        );
        assert_eq!(a.users[0].status.as_str(), "non-compliant");
        assert_eq!(a.users[1].status, ComplianceStatus::NoPolicy);
        assert_eq!(a.status.as_str(), "non-compliant");
    }

    #[test]
    fn a_machine_wide_drift_is_listed_once_for_several_users() {
        let mut p = baseline();
        p.policy = Policy::from_value(json!({"configurationFileVersion": 2,
            "x-dockwatch": {"engine": {"require": ["cis-2.2"]}}}))
        .unwrap();
        p.version = p.policy.version(1);
        let mut r = machine(json!({}), Some(&p));
        let mut bob = r.users[0].clone();
        bob.account = "bob".into();
        r.users.push(bob);
        r.engine.daemon_json = Some(serde_json::Map::new());
        let a = run(Some(&r), Some(&p), 0);
        let ComplianceStatus::NonCompliant { drifts } = &a.status else {
            panic!("{:?}", a.status)
        };
        assert_eq!(drifts.len(), 1, "{drifts:?}");
        assert_eq!(a.users.len(), 2);
    }

    #[test]
    fn proxy_exclusions_compare_as_sets() {
        let p = policy(
            json!({"configurationFileVersion": 2,
                   "proxy": {"locked": true, "mode": "manual", "exclude": ["a.example", "b.example"]}}),
            1,
        );
        let r = machine(
            json!({"proxyHttpMode": "manual", "overrideProxyExclude": "b.example, a.example"}),
            Some(&p),
        );
        assert_eq!(
            run(Some(&r), Some(&p), 0).status,
            ComplianceStatus::Compliant
        );
    }
}
