//! OSV range evaluation, written once, and matching an SBOM's packages against the advisory database.
//!
//! A package is looked up by (OSV ecosystem, name) only (see [`crate::advisory::ecosystem`]), so a
//! PyPI advisory never meets an npm package and an upstream advisory never meets a Debian package.
//! Versions are ordered by the ecosystem's scheme ([`crate::version`]); ECOSYSTEM ranges use the
//! ecosystem's scheme, SEMVER ranges SemVer.

use crate::advisory::DbError;
use crate::advisory::ecosystem::lookup_keys;
use crate::advisory::osv::Advisory;
use crate::advisory::osv::{Affected, Event, RangeKind};
use crate::advisory::store::AdvisoryDb;
use crate::finding::{CvssScore, Finding, Severity, severity_of};
use crate::version::{Scheme, VersionError};
use dockwatch_core::{Distro, Package};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How two versions of a scheme compare; [`crate::version::compare`] in production.
pub type Compare<'a> = &'a dyn Fn(Scheme, &str, &str) -> Result<Ordering, VersionError>;

/// Whether `version` lies in the range given by `events` (OSV semantics: events sorted by
/// version, `introduced` opens, `fixed` closes before, `last_affected` closes after, and the
/// version must lie below some `limit` if any is given).
pub fn range_affects(
    events: &[Event],
    version: &str,
    cmp: &dyn Fn(&str, &str) -> Result<Ordering, VersionError>,
) -> Result<bool, VersionError> {
    let mut error = None;
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| {
        event_order(a, b, cmp).unwrap_or_else(|e| {
            error.get_or_insert(e);
            Ordering::Equal
        })
    });
    if let Some(e) = error {
        return Err(e);
    }
    let limits: Vec<&str> = sorted
        .iter()
        .filter_map(|e| match e {
            Event::Limit(v) => Some(v.as_str()),
            _ => None,
        })
        .collect();
    if !limits.is_empty() {
        let mut below_a_limit = false;
        for limit in limits {
            if limit == "*" || cmp(version, limit)? == Ordering::Less {
                below_a_limit = true;
            }
        }
        if !below_a_limit {
            return Ok(false);
        }
    }
    let mut affected = false;
    for event in sorted {
        match event {
            Event::Introduced(v) => {
                if v == "0" || cmp(version, v)? != Ordering::Less {
                    affected = true;
                }
            }
            Event::Fixed(v) => {
                if cmp(version, v)? != Ordering::Less {
                    affected = false;
                }
            }
            Event::LastAffected(v) => {
                if cmp(version, v)? == Ordering::Greater {
                    affected = false;
                }
            }
            Event::Limit(_) => {}
        }
    }
    Ok(affected)
}

/// Orders events by version: `introduced: 0` first, `limit: *` last, and at equal versions
/// `introduced` before the others (so `introduced: X, fixed: X` is an empty range).
fn event_order(
    a: &Event,
    b: &Event,
    cmp: &dyn Fn(&str, &str) -> Result<Ordering, VersionError>,
) -> Result<Ordering, VersionError> {
    let rank = |e: &Event| match e {
        Event::Introduced(v) if v == "0" => 0,
        Event::Limit(v) if v == "*" => 2,
        _ => 1,
    };
    let by_rank = rank(a).cmp(&rank(b));
    if by_rank != Ordering::Equal || rank(a) != 1 {
        return Ok(by_rank);
    }
    let kind = |e: &Event| u8::from(!matches!(e, Event::Introduced(_)));
    Ok(cmp(a.version(), b.version())?.then(kind(a).cmp(&kind(b))))
}

/// Whether `version` is affected by one `affected[]` entry, and the fixed versions of the ranges
/// that affect it.
pub fn affected_by(
    affected: &Affected,
    version: &str,
    cmp: Compare<'_>,
) -> Result<Option<Vec<String>>, VersionError> {
    // `versions` is sorted as text when validated.
    let mut hit = affected
        .versions
        .binary_search_by(|v| v.as_str().cmp(version))
        .is_ok();
    let mut fixed = Vec::new();
    for range in &affected.ranges {
        let scheme = match range.kind {
            RangeKind::Semver => Scheme::Semver,
            RangeKind::Ecosystem => {
                Scheme::for_osv_ecosystem(&affected.ecosystem).ok_or_else(|| VersionError {
                    scheme: Scheme::Semver,
                    version: version.to_owned(),
                    reason: format!("no version scheme for ecosystem {:?}", affected.ecosystem),
                })?
            }
        };
        if range_affects(&range.events, version, &|a, b| cmp(scheme, a, b))? {
            hit = true;
            fixed.extend(range.events.iter().filter_map(|e| match e {
                Event::Fixed(v) => Some(v.clone()),
                _ => None,
            }));
        }
    }
    if !affected.unaffected_requirements.is_empty() {
        let parsed = semver::Version::parse(version).map_err(|e| VersionError {
            scheme: Scheme::Semver,
            version: version.to_owned(),
            reason: e.to_string(),
        })?;
        let safe = affected
            .unaffected_requirements
            .iter()
            .filter_map(|r| semver::VersionReq::parse(r).ok())
            .any(|r| r.matches(&parsed));
        if !safe {
            hit = true;
            fixed.extend(
                affected
                    .unaffected_requirements
                    .iter()
                    .filter(|r| *r != "<0.0.0")
                    .cloned(),
            );
        }
    }
    if !hit {
        return Ok(None);
    }
    if fixed.is_empty() {
        // Matched by the `versions` list alone: the fixes are those of every range.
        fixed.extend(
            affected
                .ranges
                .iter()
                .flat_map(|r| &r.events)
                .filter_map(|e| match e {
                    Event::Fixed(v) => Some(v.clone()),
                    _ => None,
                }),
        );
    }
    fixed.sort();
    fixed.dedup();
    Ok(Some(fixed))
}

/// Something that kept a package from being compared with an advisory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchWarning {
    /// The package's purl.
    pub purl: String,
    /// The advisory whose data could not be compared; `None` when the package's own version
    /// is unreadable under its scheme (one warning for the package, not one per advisory).
    pub advisory_id: Option<String>,
    /// Why.
    pub reason: String,
}

/// The result of matching: findings sorted by package then advisory, and what could not be compared.
#[derive(Debug, Clone, Default)]
pub struct MatchReport {
    /// The findings.
    pub findings: Vec<Finding>,
    /// Comparisons that failed (an unparsable version).
    pub warnings: Vec<MatchWarning>,
    /// How many packages had an OSV ecosystem to look in.
    pub packages_looked_up: usize,
}

/// Matches packages with the real version schemes.
pub fn match_packages(
    db: &AdvisoryDb,
    distro: Option<&Distro>,
    packages: &[Package],
) -> Result<MatchReport, DbError> {
    match_packages_with(db, distro, packages, &crate::version::compare)
}

/// Matches an SBOM's packages.
pub fn match_sbom(db: &AdvisoryDb, sbom: &crate::sbom::Sbom) -> Result<MatchReport, DbError> {
    match_packages(db, sbom.distro.as_ref(), &sbom.packages)
}

/// Matches packages, comparing versions with `cmp`.
pub fn match_packages_with(
    db: &AdvisoryDb,
    distro: Option<&Distro>,
    packages: &[Package],
    cmp: Compare<'_>,
) -> Result<MatchReport, DbError> {
    let mut report = MatchReport::default();
    // Severity depends on the advisory entry only: scored once per entry, not per package.
    let mut severity_cache: HashMap<(*const Advisory, usize), (Severity, Vec<CvssScore>)> =
        HashMap::new();
    for package in packages {
        let keys = lookup_keys(distro, package);
        if keys.is_empty() {
            continue;
        }
        report.packages_looked_up += 1;
        let mut shared_package: Option<Arc<Package>> = None;
        // One finding per advisory, even if it names the package in two ecosystems or entries,
        // or by both its source and binary names.
        let mut found: BTreeMap<String, Finding> = BTreeMap::new();
        let lookups = keys
            .iter()
            .flat_map(|key| key.ecosystems.iter().map(move |ecosystem| (key, ecosystem)));
        'keys: for (key, ecosystem) in lookups {
            for candidate in db.candidates(ecosystem, &key.name) {
                let advisory = &candidate.advisory;
                let affected = &advisory.affected[candidate.affected];
                let fixed = match affected_by(affected, &key.version, cmp) {
                    Ok(Some(fixed)) => fixed,
                    Ok(None) => continue,
                    Err(e) => {
                        let package_version_unreadable = e.version == key.version;
                        report.warnings.push(MatchWarning {
                            purl: package.purl.clone(),
                            advisory_id: (!package_version_unreadable).then(|| advisory.id.clone()),
                            reason: e.to_string(),
                        });
                        if package_version_unreadable {
                            continue 'keys;
                        }
                        continue;
                    }
                };
                if let Some(existing) = found.get_mut(&advisory.id) {
                    existing.fixed_versions.extend(fixed);
                    existing.fixed_versions.sort();
                    existing.fixed_versions.dedup();
                    continue;
                }
                let (severity, cvss) = severity_cache
                    .entry((Arc::as_ptr(advisory), candidate.affected))
                    .or_insert_with(|| severity_of(advisory, affected))
                    .clone();
                let kev = advisory.cves().find_map(|cve| db.kev(cve)).cloned();
                found.insert(
                    advisory.id.clone(),
                    Finding {
                        advisory_id: advisory.id.clone(),
                        aliases: advisory.aliases.clone(),
                        summary: advisory.summary.clone(),
                        severity,
                        cvss,
                        fixed_versions: fixed,
                        kev,
                        epss: None,
                        ecosystem: ecosystem.to_string(),
                        package: Arc::clone(
                            shared_package.get_or_insert_with(|| Arc::new(package.clone())),
                        ),
                    },
                );
            }
        }
        report.findings.extend(found.into_values());
    }
    add_epss(db, &mut report.findings)?;
    report.findings.sort_by(|a, b| {
        a.package
            .sort_key()
            .cmp(&b.package.sort_key())
            .then_with(|| a.advisory_id.cmp(&b.advisory_id))
    });
    report
        .warnings
        .sort_by(|a, b| (&a.purl, &a.advisory_id).cmp(&(&b.purl, &b.advisory_id)));
    report.warnings.dedup();
    Ok(report)
}

/// Sets each finding's EPSS score: that of its advisory's CVE with the highest score.
fn add_epss(db: &AdvisoryDb, findings: &mut [Finding]) -> Result<(), DbError> {
    let mut cves: Vec<&str> = findings
        .iter()
        .flat_map(|f| std::iter::once(&f.advisory_id).chain(&f.aliases))
        .map(String::as_str)
        .filter(|id| id.starts_with("CVE-"))
        .collect();
    cves.sort_unstable();
    cves.dedup();
    let scores = db.epss(&cves)?;
    if scores.is_empty() {
        return Ok(());
    }
    for finding in findings.iter_mut() {
        let best = std::iter::once(&finding.advisory_id)
            .chain(&finding.aliases)
            .filter_map(|id| scores.get(id))
            .max_by(|a, b| a.score.total_cmp(&b.score));
        finding.epss = best.cloned();
    }
    Ok(())
}

/// Test-only ordering of plain dotted numbers (`1.2.10` > `1.2.9`), so range logic is tested on
/// its own, whatever the real schemes do.
#[cfg(test)]
pub(crate) fn dotted(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let parse = |v: &str| -> Result<Vec<u64>, VersionError> {
        v.split('.')
            .map(|p| {
                p.parse::<u64>().map_err(|_| VersionError {
                    scheme,
                    version: v.to_owned(),
                    reason: "not dotted numbers".into(),
                })
            })
            .collect()
    };
    let (mut a, mut b) = (parse(a)?, parse(b)?);
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    Ok(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::osv::Range;

    fn intro(v: &str) -> Event {
        Event::Introduced(v.into())
    }
    fn fixed(v: &str) -> Event {
        Event::Fixed(v.into())
    }
    fn last(v: &str) -> Event {
        Event::LastAffected(v.into())
    }
    fn limit(v: &str) -> Event {
        Event::Limit(v.into())
    }

    /// Asserts which of `versions` the range affects.
    fn check(events: &[Event], affected: &[&str], not_affected: &[&str]) {
        let cmp = |a: &str, b: &str| dotted(Scheme::Semver, a, b);
        for v in affected {
            assert!(
                range_affects(events, v, &cmp).unwrap(),
                "{v} should be affected by {events:?}"
            );
        }
        for v in not_affected {
            assert!(
                !range_affects(events, v, &cmp).unwrap(),
                "{v} should not be affected by {events:?}"
            );
        }
    }

    #[test]
    fn introduced_zero_and_fixed() {
        check(
            &[intro("0"), fixed("1.2")],
            &["0.1", "1.1.9"],
            &["1.2", "1.10"],
        );
    }

    #[test]
    fn last_affected_includes_itself() {
        check(
            &[intro("1.0"), last("1.5")],
            &["1.0", "1.5"],
            &["0.9", "1.5.1"],
        );
    }

    #[test]
    fn unfixed_affects_everything_after() {
        check(&[intro("2.0")], &["2.0", "99"], &["1.9"]);
    }

    #[test]
    fn several_intervals_in_one_range_unsorted() {
        let events = [
            intro("2.0"),
            fixed("2.5"),
            intro("0"),
            fixed("1.0"),
            intro("3.0"),
        ];
        check(
            &events,
            &["0.5", "2.0", "2.4", "3.0", "4"],
            &["1.0", "1.9", "2.5", "2.9"],
        );
    }

    #[test]
    fn limit_bounds_the_range() {
        check(&[intro("0"), limit("2.0")], &["1.9"], &["2.0", "3"]);
        check(&[intro("0"), limit("*")], &["100"], &[]);
    }

    #[test]
    fn empty_range_at_one_version() {
        check(&[fixed("1.0"), intro("1.0")], &[], &["1.0", "2"]);
    }

    #[test]
    fn bad_event_version_is_an_error() {
        let cmp = |a: &str, b: &str| dotted(Scheme::Semver, a, b);
        assert!(range_affects(&[intro("0"), fixed("1.x")], "1.0", &cmp).is_err());
    }

    fn entry(ranges: Vec<Range>, versions: &[&str]) -> Affected {
        Affected {
            ecosystem: "PyPI".into(),
            name: "x".into(),
            ranges,
            versions: versions.iter().map(|v| (*v).to_owned()).collect(),
            severity: vec![],
            vendor_severity: None,
            unaffected_requirements: vec![],
        }
    }

    #[test]
    fn multiple_ranges_and_versions_lists() {
        let a = entry(
            vec![
                Range {
                    kind: RangeKind::Ecosystem,
                    events: vec![intro("0"), fixed("1.1")],
                },
                Range {
                    kind: RangeKind::Semver,
                    events: vec![intro("2.0"), fixed("2.3")],
                },
            ],
            &["1.5"],
        );
        assert_eq!(
            affected_by(&a, "1.0", &dotted).unwrap(),
            Some(vec!["1.1".into()])
        );
        assert_eq!(
            affected_by(&a, "2.2", &dotted).unwrap(),
            Some(vec!["2.3".into()])
        );
        assert_eq!(
            affected_by(&a, "1.5", &dotted).unwrap(),
            Some(vec!["1.1".into(), "2.3".into()])
        );
        assert_eq!(affected_by(&a, "1.6", &dotted).unwrap(), None);
    }

    #[test]
    fn unreadable_package_version_warns_once() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["A-1", "A-2", "A-3"] {
            let record = format!(
                r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"PyPI","name":"x"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2.0"}}]}}]}}]}}"#
            );
            std::fs::write(dir.path().join(format!("{id}.json")), record).unwrap();
        }
        let batch = crate::advisory::read_paths(&[dir.path().to_path_buf()]).unwrap();
        let mut db = AdvisoryDb::open_or_create(&dir.path().join("db")).unwrap();
        db.import(batch, "now").unwrap();
        let package = |version: &str| Package {
            name: "x".into(),
            version: version.into(),
            kind: dockwatch_core::PackageType::Pypi,
            arch: None,
            source_name: None,
            source_version: None,
            licenses: vec![],
            purl: format!("pkg:pypi/x@{version}"),
            cpes: vec![],
            locations: vec![],
            found_by: "test".into(),
            metadata: Default::default(),
        };
        let report =
            match_packages_with(&db, None, &[package("1.0"), package("dev")], &dotted).unwrap();
        let ids: Vec<_> = report
            .findings
            .iter()
            .map(|f| f.advisory_id.as_str())
            .collect();
        assert_eq!(ids, ["A-1", "A-2", "A-3"]);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert_eq!(report.warnings[0].advisory_id, None);
        assert!(report.warnings[0].reason.contains("dev"));
    }

    #[test]
    fn rustsec_requirements() {
        let mut a = entry(vec![], &[]);
        a.unaffected_requirements = vec![">= 1.2.0".into(), "< 0.5".into()];
        assert_eq!(
            affected_by(&a, "1.1.0", &dotted).unwrap(),
            Some(vec!["< 0.5".into(), ">= 1.2.0".into()])
        );
        assert_eq!(affected_by(&a, "1.2.0", &dotted).unwrap(), None);
        assert_eq!(affected_by(&a, "0.4.9", &dotted).unwrap(), None);
    }

    #[test]
    fn the_sbom_half_never_imports_the_vulnerability_half() {
        // ARCHITECTURE.md's invariant, checked on the source text.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        for part in ["source", "fs.rs", "catalog", "sbom"] {
            for entry in walkdir::WalkDir::new(src.join(part)) {
                let entry = entry.unwrap();
                if entry.path().extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(entry.path()).unwrap();
                    for forbidden in ["crate::advisory", "crate::matcher", "crate::finding"] {
                        if text.contains(forbidden) {
                            offenders.push(format!("{} uses {forbidden}", entry.path().display()));
                        }
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
