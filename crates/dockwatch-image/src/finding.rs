//! A finding: one package affected by one advisory, with its severity, fixes and exploit signals.

use crate::advisory::epss::EpssScore;
use crate::advisory::kev::KevEntry;
use crate::advisory::osv::{Advisory, Affected, SeverityScore};
use dockwatch_core::Package;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::Arc;

/// One package affected by one advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The advisory id (`DSA-5532-1`, `GHSA-...`, `PYSEC-...`, `GO-...`).
    pub advisory_id: String,
    /// Its aliases (CVE and GHSA ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A one-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The severity shown and gated on.
    pub severity: Severity,
    /// Every CVSS vector the advisory gives, scored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<CvssScore>,
    /// Versions that fix it (empty: no fix yet). RUSTSEC advisories give requirements (`>= 1.2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    /// The CISA KEV entry, when the vulnerability is known to be exploited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevEntry>,
    /// The EPSS score (the highest among the advisory's CVEs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<EpssScore>,
    /// The OSV ecosystem the package was matched in (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// The package (shared by all of its findings).
    pub package: Arc<Package>,
}

impl Finding {
    /// Whether a fixed version is known.
    pub fn is_fixed(&self) -> bool {
        !self.fixed_versions.is_empty()
    }

    /// Whether CISA lists it as exploited.
    pub fn known_exploited(&self) -> bool {
        self.kev.is_some()
    }
}

/// A qualitative severity, ordered so `--fail-on` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// No severity given.
    Unknown,
    /// Negligible (Debian's `unimportant`, CVSS `None`).
    Negligible,
    /// Low.
    Low,
    /// Medium (GHSA `MODERATE`).
    Medium,
    /// High (Red Hat `Important`).
    High,
    /// Critical.
    Critical,
}

impl Rating {
    /// A vendor's word (`HIGH`, `moderate`, `Important`, `unimportant`...), if known.
    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::Critical,
            "high" | "important" => Self::High,
            "medium" | "moderate" => Self::Medium,
            "low" => Self::Low,
            "negligible" | "unimportant" | "none" | "info" | "informational" => Self::Negligible,
            _ => return None,
        })
    }

    fn from_cvss(severity: cvss::Severity) -> Self {
        match severity {
            cvss::Severity::None => Self::Negligible,
            cvss::Severity::Low => Self::Low,
            cvss::Severity::Medium => Self::Medium,
            cvss::Severity::High => Self::High,
            cvss::Severity::Critical => Self::Critical,
        }
    }
}

/// The severity of a finding and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    /// The rating.
    pub rating: Rating,
    /// The CVSS base score, when a vector was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Where the rating came from: `vendor` (the advisory's ecosystem or database) or the CVSS
    /// version (`CVSS:4.0`, `CVSS:3.1`...).
    pub source: String,
}

/// One CVSS vector, scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    /// The vector as written.
    pub vector: String,
    /// The base score (CVSS-B for v4).
    pub score: f64,
    /// The rating the score falls in.
    pub rating: Rating,
}

/// Scores a CVSS vector of any version; `None` if it does not parse.
pub fn score_cvss(vector: &str) -> Option<CvssScore> {
    let vector = vector.trim();
    let (version, score, severity) = if vector.starts_with("CVSS:4.0/") {
        let v = cvss::v4::Vector::from_str(vector).ok()?;
        let s = v.score();
        ("4.0", v.score().value(), s.severity())
    } else if let Some(rest) = vector.strip_prefix("CVSS:3.") {
        let v = cvss::v3::Vector::from_str(vector).ok()?;
        let s = v.score();
        (
            if rest.starts_with('0') { "3.0" } else { "3.1" },
            s.value(),
            s.severity(),
        )
    } else {
        let v = cvss::v2::Vector::from_str(vector).ok()?;
        let s = v.score();
        ("2.0", s.value(), s.severity())
    };
    Some(CvssScore {
        version: version.into(),
        vector: vector.into(),
        score,
        rating: Rating::from_cvss(severity),
    })
}

/// The severity of `advisory` for the package of `affected`, vendor first as Docker Scout does:
/// the package's vendor word, then the advisory database's word, then the newest CVSS version.
pub fn severity_of(advisory: &Advisory, affected: &Affected) -> (Severity, Vec<CvssScore>) {
    let all_scores: Vec<&SeverityScore> =
        affected.severity.iter().chain(&advisory.severity).collect();
    let mut cvss: Vec<CvssScore> = all_scores
        .iter()
        .filter(|s| s.kind.starts_with("CVSS"))
        .filter_map(|s| score_cvss(&s.score))
        .collect();
    cvss.sort_by(|a, b| b.version.cmp(&a.version).then(a.vector.cmp(&b.vector)));
    cvss.dedup_by(|a, b| a.vector == b.vector);
    let best = cvss.first();
    let vendor_word = affected
        .vendor_severity
        .iter()
        .chain(
            all_scores
                .iter()
                .filter(|s| !s.kind.starts_with("CVSS"))
                .map(|s| &s.score),
        )
        .chain(advisory.database_severity.iter())
        .find_map(|w| Rating::from_word(w));
    let severity = match (vendor_word, best) {
        (Some(rating), best) => Severity {
            rating,
            score: best.map(|b| b.score),
            source: "vendor".into(),
        },
        (None, Some(best)) => Severity {
            rating: best.rating,
            score: Some(best.score),
            source: format!("CVSS:{}", best.version),
        },
        (None, None) => Severity {
            rating: Rating::Unknown,
            score: None,
            source: "none".into(),
        },
    };
    (severity, cvss)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(vendor: Option<&str>, scores: &[(&str, &str)]) -> Affected {
        Affected {
            ecosystem: "PyPI".into(),
            name: "x".into(),
            ranges: vec![],
            versions: vec![],
            severity: scores
                .iter()
                .map(|(k, s)| SeverityScore {
                    kind: (*k).into(),
                    score: (*s).into(),
                })
                .collect(),
            vendor_severity: vendor.map(str::to_owned),
            unaffected_requirements: vec![],
        }
    }

    fn advisory(database: Option<&str>) -> Advisory {
        Advisory {
            id: "A".into(),
            modified: "2024-01-01T00:00:00Z".into(),
            published: None,
            withdrawn: None,
            aliases: vec![],
            summary: None,
            severity: vec![],
            database_severity: database.map(str::to_owned),
            affected: vec![],
        }
    }

    const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    const V40: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

    #[test]
    fn cvss_vectors_of_each_version_score() {
        let v3 = score_cvss(V31).unwrap();
        assert_eq!(
            (v3.version.as_str(), v3.score, v3.rating),
            ("3.1", 9.8, Rating::Critical)
        );
        let v4 = score_cvss(V40).unwrap();
        assert_eq!(
            (v4.version.as_str(), v4.score, v4.rating),
            ("4.0", 9.3, Rating::Critical)
        );
        let v2 = score_cvss("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert_eq!((v2.version.as_str(), v2.score), ("2.0", 7.5));
        assert_eq!(score_cvss("CVSS:3.1/AV:X"), None);
    }

    #[test]
    fn vendor_word_wins_over_cvss() {
        let (s, cvss) = severity_of(&advisory(None), &affected(Some("low"), &[("CVSS_V3", V31)]));
        assert_eq!(
            (s.rating, s.score, s.source.as_str()),
            (Rating::Low, Some(9.8), "vendor")
        );
        assert_eq!(cvss.len(), 1);
        let (s, _) = severity_of(
            &advisory(Some("MODERATE")),
            &affected(None, &[("CVSS_V3", V31)]),
        );
        assert_eq!(s.rating, Rating::Medium);
        let (s, _) = severity_of(&advisory(None), &affected(None, &[("Ubuntu", "medium")]));
        assert_eq!(s.rating, Rating::Medium);
    }

    #[test]
    fn newest_cvss_version_rates_without_vendor_word() {
        let (s, cvss) = severity_of(
            &advisory(None),
            &affected(None, &[("CVSS_V3", V31), ("CVSS_V4", V40)]),
        );
        assert_eq!(
            (s.rating, s.score, s.source.as_str()),
            (Rating::Critical, Some(9.3), "CVSS:4.0")
        );
        assert_eq!(cvss.len(), 2);
        let (s, _) = severity_of(&advisory(None), &affected(None, &[]));
        assert_eq!(s.rating, Rating::Unknown);
    }
}
