//! The policy pass after matching: exceptions (`--ignore-unfixed`, VEX) and the `--fail-on` gate.
//!
//! Matching first, then exceptions as a separate pass: the matcher never sees the policy, and a
//! suppressed finding is kept, marked with why, so reports can still show it.

pub mod vex;

use crate::finding::{Finding, Rating};
use serde::Serialize;
use vex::{VexStatement, VexStatus};

/// What the policy pass does.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Suppress findings without a fixed version.
    pub ignore_unfixed: bool,
    /// VEX statements, from every `--vex` file, in file order.
    pub vex: Vec<VexStatement>,
    /// The gate: fail if an active finding is at or above this rating.
    pub fail_on: Option<Rating>,
}

/// Why a finding is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Suppression {
    /// `--ignore-unfixed` and no fixed version is known.
    Unfixed,
    /// A VEX statement with status `not_affected` or `fixed`.
    Vex {
        /// The status.
        status: VexStatus,
        /// Its justification, if given.
        #[serde(skip_serializing_if = "Option::is_none")]
        justification: Option<String>,
        /// Its free text, if given.
        #[serde(skip_serializing_if = "Option::is_none")]
        statement: Option<String>,
        /// The file and statement it came from.
        source: String,
    },
}

impl Suppression {
    /// A short reason for people (`vex: not_affected (code_not_reachable)`).
    pub fn reason(&self) -> String {
        match self {
            Self::Unfixed => "ignore-unfixed: no fixed version".into(),
            Self::Vex {
                status,
                justification,
                ..
            } => match justification {
                Some(j) => format!("vex: {} ({j})", status.as_str()),
                None => format!("vex: {}", status.as_str()),
            },
        }
    }
}

/// A finding after the policy pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    /// The finding as matched.
    #[serde(flatten)]
    pub finding: Finding,
    /// Why it is suppressed; `None` for an active finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

impl Evaluated {
    /// Whether the finding counts (is not suppressed).
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

/// The `--fail-on` verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gate {
    /// The threshold, if one was set.
    pub fail_on: Option<Rating>,
    /// How many active findings are at or above it.
    pub failing: usize,
    /// Whether the gate failed.
    pub failed: bool,
}

/// The outcome of the pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Every finding, suppressed ones included, in the input order.
    pub findings: Vec<Evaluated>,
    /// The gate.
    pub gate: Gate,
    /// VEX statements that matched no finding (stale exceptions are worth knowing about).
    pub unused_vex: Vec<String>,
}

/// Applies `policy` to `findings`: VEX first (its statement is the more specific reason), then
/// `--ignore-unfixed`, then the gate on what is left.
pub fn apply(policy: &Policy, findings: Vec<Finding>) -> Outcome {
    let mut used = vec![false; policy.vex.len()];
    let findings: Vec<Evaluated> = findings
        .into_iter()
        .map(|finding| {
            let vex = policy.vex.iter().enumerate().find(|(_, s)| {
                s.applies_to(
                    &finding.advisory_id,
                    &finding.aliases,
                    &finding.package.purl,
                )
            });
            let mut suppressed = None;
            if let Some((i, statement)) = vex {
                used[i] = true;
                if statement.status.suppresses() {
                    suppressed = Some(Suppression::Vex {
                        status: statement.status,
                        justification: statement.justification.clone(),
                        statement: statement.statement.clone(),
                        source: statement.source.clone(),
                    });
                }
            }
            if suppressed.is_none() && policy.ignore_unfixed && !finding.is_fixed() {
                suppressed = Some(Suppression::Unfixed);
            }
            Evaluated {
                finding,
                suppressed,
            }
        })
        .collect();
    let failing = policy.fail_on.map_or(0, |threshold| {
        findings
            .iter()
            .filter(|f| f.is_active() && f.finding.severity.rating >= threshold)
            .count()
    });
    let unused_vex = policy
        .vex
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(s, _)| s.source.clone())
        .collect();
    Outcome {
        findings,
        gate: Gate {
            fail_on: policy.fail_on,
            failing,
            failed: failing > 0,
        },
        unused_vex,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use dockwatch_core::{Package, PackageType};

    fn finding(id: &str, rating: Rating, fixed: &[&str]) -> Finding {
        Finding {
            advisory_id: id.into(),
            aliases: vec![format!("CVE-{id}")],
            summary: None,
            severity: Severity {
                rating,
                score: None,
                source: "vendor".into(),
            },
            cvss: vec![],
            fixed_versions: fixed.iter().map(|s| (*s).into()).collect(),
            kev: None,
            epss: None,
            ecosystem: "PyPI".into(),
            package: std::sync::Arc::new(Package {
                name: "flask".into(),
                version: "1.0".into(),
                kind: PackageType::Pypi,
                arch: None,
                source_name: None,
                source_version: None,
                licenses: vec![],
                purl: "pkg:pypi/flask@1.0".into(),
                cpes: vec![],
                locations: vec![],
                found_by: "test".into(),
                metadata: Default::default(),
            }),
        }
    }

    fn vex(id: &str, status: VexStatus) -> VexStatement {
        VexStatement {
            vulnerability: vec![id.into()],
            purls: vec!["pkg:pypi/flask".into()],
            status,
            justification: Some("component_not_present".into()),
            statement: None,
            source: format!("vex.json#{id}"),
        }
    }

    #[test]
    fn gate_counts_only_active_findings_at_or_above_the_threshold() {
        let findings = vec![
            finding("1", Rating::Critical, &[]),
            finding("2", Rating::High, &["2.0"]),
            finding("3", Rating::Medium, &["2.0"]),
        ];
        let policy = Policy {
            fail_on: Some(Rating::High),
            ..Policy::default()
        };
        let out = apply(&policy, findings.clone());
        assert_eq!((out.gate.failing, out.gate.failed), (2, true));

        let policy = Policy {
            fail_on: Some(Rating::High),
            ignore_unfixed: true,
            vex: vec![
                vex("CVE-2", VexStatus::NotAffected),
                vex("CVE-3", VexStatus::UnderInvestigation),
                vex("CVE-9", VexStatus::Fixed),
            ],
        };
        let out = apply(&policy, findings);
        assert_eq!(out.findings.len(), 3, "suppressed findings are kept");
        assert_eq!(out.findings[0].suppressed, Some(Suppression::Unfixed));
        assert!(matches!(
            &out.findings[1].suppressed,
            Some(Suppression::Vex { status: VexStatus::NotAffected, source, .. }) if source == "vex.json#CVE-2"
        ));
        assert!(
            out.findings[2].is_active(),
            "under_investigation does not suppress"
        );
        assert_eq!((out.gate.failing, out.gate.failed), (0, false));
        assert_eq!(out.unused_vex, ["vex.json#CVE-9"]);
    }

    #[test]
    fn the_first_statement_that_applies_wins() {
        let policy = Policy {
            vex: vec![
                vex("CVE-1", VexStatus::Affected),
                vex("CVE-1", VexStatus::NotAffected),
            ],
            ..Policy::default()
        };
        let out = apply(&policy, vec![finding("1", Rating::Low, &[])]);
        assert!(out.findings[0].is_active(), "`affected` came first");
        assert_eq!(
            out.unused_vex,
            ["vex.json#CVE-1"],
            "the second never applied"
        );
    }

    #[test]
    fn no_threshold_never_fails() {
        let out = apply(
            &Policy::default(),
            vec![finding("1", Rating::Critical, &[])],
        );
        assert!(!out.gate.failed);
        assert_eq!(
            out.findings[0].suppressed, None,
            "nothing is suppressed without exceptions"
        );
    }
}
