//! Compliance transitions as activity-log actions (so alert rules can match them), and the
//! fleet summary's counts by status.

use super::compliance::ComplianceStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A machine went non-compliant (from any other status).
pub const DRIFTED: &str = "fleet.compliance.drifted";
/// A non-compliant machine's set of drifted settings changed.
pub const DRIFT_CHANGED: &str = "fleet.compliance.drift_changed";
/// A non-compliant machine is compliant again.
pub const RESTORED: &str = "fleet.compliance.restored";
/// A machine became compliant from outdated, unknown, no-policy or its first report.
pub const COMPLIANT: &str = "fleet.compliance.compliant";
/// A machine's installed policy fell behind the current version.
pub const OUTDATED: &str = "fleet.compliance.outdated";
/// A machine stopped reporting within the threshold.
pub const SILENT: &str = "fleet.compliance.silent";
/// A machine no longer has a policy assigned.
pub const UNASSIGNED: &str = "fleet.compliance.unassigned";

/// Every transition action, for docs and alert-rule completion.
pub const ACTIONS: &[&str] = &[
    DRIFTED,
    DRIFT_CHANGED,
    RESTORED,
    COMPLIANT,
    OUTDATED,
    SILENT,
    UNASSIGNED,
];

/// Activity-log actions of the fleet's other changes, so every writer uses the same names.
pub mod actions {
    /// A policy was created (its version 1).
    pub const POLICY_CREATED: &str = "fleet.policy.created";
    /// A policy got a new version.
    pub const POLICY_VERSIONED: &str = "fleet.policy.versioned";
    /// A policy was deleted.
    pub const POLICY_DELETED: &str = "fleet.policy.deleted";
    /// A policy was assigned to a scope.
    pub const POLICY_ASSIGNED: &str = "fleet.policy.assigned";
    /// An assignment was removed.
    pub const POLICY_UNASSIGNED: &str = "fleet.policy.unassigned";
    /// An enrollment token was created.
    pub const ENROLL_TOKEN_CREATED: &str = "fleet.enroll_token.created";
    /// An enrollment token was revoked.
    pub const ENROLL_TOKEN_REVOKED: &str = "fleet.enroll_token.revoked";
    /// A machine enrolled.
    pub const MACHINE_ENROLLED: &str = "fleet.machine.enrolled";
    /// A machine's credential was revoked.
    pub const MACHINE_REVOKED: &str = "fleet.machine.revoked";
}

/// The activity-log action for a status change, or `None` when nothing worth logging changed.
/// `previous` is `None` for a machine's first assessment.
pub fn transition(
    previous: Option<&ComplianceStatus>,
    next: &ComplianceStatus,
) -> Option<&'static str> {
    use ComplianceStatus as S;
    match (previous, next) {
        (Some(S::NonCompliant { drifts: a }), S::NonCompliant { drifts: b }) => {
            (drift_keys(a) != drift_keys(b)).then_some(DRIFT_CHANGED)
        }
        (_, S::NonCompliant { .. }) => Some(DRIFTED),
        (Some(S::NonCompliant { .. }), S::Compliant) => Some(RESTORED),
        (Some(S::Compliant), S::Compliant) => None,
        (_, S::Compliant) => Some(COMPLIANT),
        (Some(S::Outdated { .. }), S::Outdated { .. }) => None,
        (_, S::Outdated { .. }) => Some(OUTDATED),
        (Some(S::Unknown { .. }), S::Unknown { .. }) => None,
        (_, S::Unknown { .. }) => Some(SILENT),
        (Some(S::NoPolicy) | None, S::NoPolicy) => None,
        (_, S::NoPolicy) => Some(UNASSIGNED),
    }
}

fn drift_keys(drifts: &[super::compliance::Drift]) -> BTreeSet<(String, Option<String>)> {
    drifts
        .iter()
        .map(|d| (d.key.clone(), d.user.clone()))
        .collect()
}

/// Counts of machines by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// All machines counted.
    pub total: u64,
    /// `compliant`.
    pub compliant: u64,
    /// `non-compliant`.
    pub non_compliant: u64,
    /// `outdated`.
    pub outdated: u64,
    /// `no-policy`.
    pub no_policy: u64,
    /// `unknown`.
    pub unknown: u64,
}

impl Summary {
    /// Adds one machine with this status name (`compliant`, `non-compliant`...); unknown
    /// names count as `unknown`.
    pub fn add(&mut self, status: &str) {
        self.add_n(status, 1);
    }

    /// Adds `n` machines with this status name (a `GROUP BY` row).
    pub fn add_n(&mut self, status: &str, n: u64) {
        self.total += n;
        match status {
            "compliant" => self.compliant += n,
            "non-compliant" => self.non_compliant += n,
            "outdated" => self.outdated += n,
            "no-policy" => self.no_policy += n,
            _ => self.unknown += n,
        }
    }

    /// Counts a list of status names.
    pub fn of<'a>(statuses: impl IntoIterator<Item = &'a str>) -> Self {
        let mut s = Self::default();
        for status in statuses {
            s.add(status);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::compliance::Drift;
    use serde_json::json;

    fn drift(key: &str) -> ComplianceStatus {
        ComplianceStatus::NonCompliant {
            drifts: vec![Drift {
                key: key.into(),
                required: json!(false),
                actual: json!(true),
                locked: true,
                user: Some("alice".into()),
                source: "home/alice/.docker/desktop/settings.json".into(),
            }],
        }
    }

    const OUT: ComplianceStatus = ComplianceStatus::Outdated {
        applied_version: Some(1),
        current_version: 2,
    };
    const SILENT_: ComplianceStatus = ComplianceStatus::Unknown {
        last_report_at_ms: Some(1),
    };

    #[test]
    fn each_change_has_one_action_and_steady_states_none() {
        use ComplianceStatus::{Compliant, NoPolicy};
        let a = drift("analyticsEnabled");
        let cases: &[(Option<&ComplianceStatus>, &ComplianceStatus, Option<&str>)] = &[
            (None, &a, Some(DRIFTED)),
            (Some(&Compliant), &a, Some(DRIFTED)),
            (Some(&a), &a, None),
            (Some(&a), &drift("disableUpdate"), Some(DRIFT_CHANGED)),
            (Some(&a), &Compliant, Some(RESTORED)),
            (None, &Compliant, Some(COMPLIANT)),
            (Some(&OUT), &Compliant, Some(COMPLIANT)),
            (Some(&Compliant), &Compliant, None),
            (Some(&Compliant), &OUT, Some(OUTDATED)),
            (Some(&OUT), &OUT, None),
            (Some(&Compliant), &SILENT_, Some(SILENT)),
            (Some(&SILENT_), &SILENT_, None),
            (Some(&Compliant), &NoPolicy, Some(UNASSIGNED)),
            (None, &NoPolicy, None),
        ];
        for (prev, next, want) in cases {
            assert_eq!(transition(*prev, next), *want, "{prev:?} -> {next:?}");
        }
        assert!(ACTIONS.iter().all(|a| a.contains("complian")));
    }

    #[test]
    fn the_summary_counts_by_status() {
        let s = Summary::of([
            "compliant",
            "non-compliant",
            "compliant",
            "outdated",
            "no-policy",
            "unknown",
            "odd",
        ]);
        assert_eq!(
            s,
            Summary {
                total: 7,
                compliant: 2,
                non_compliant: 1,
                outdated: 1,
                no_policy: 1,
                unknown: 2
            }
        );
    }
}
