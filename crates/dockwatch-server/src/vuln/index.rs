//! An uploaded SBOM → what the store keeps: the native JSON, one package row per lookup key,
//! and the findings of a first match.

use dockwatch_core::{Distro, Package};
use dockwatch_image::advisory::AdvisoryDb;
use dockwatch_image::advisory::ecosystem::lookup_keys;
use dockwatch_image::finding::{Finding, Rating};
use dockwatch_image::sbom::{self, Sbom, SbomFormat};
use dockwatch_store::images::{IndexedPackage, NewImage, StoredFinding};
use std::collections::{BTreeMap, BTreeSet};

/// How a package is told apart within its image: its purl, or `type/name@version` without one.
pub fn package_ref(p: &Package) -> String {
    if p.purl.is_empty() {
        format!("{}/{}@{}", p.kind, p.name, p.version)
    } else {
        p.purl.clone()
    }
}

/// The package rows of an SBOM: each package once per (ecosystem, name) it is looked up by.
pub fn package_rows(distro: Option<&Distro>, packages: &[Package]) -> Vec<IndexedPackage> {
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    for p in packages {
        let reference = package_ref(p);
        let mut json = None;
        for key in lookup_keys(distro, p) {
            for ecosystem in &key.ecosystems {
                if !seen.insert((ecosystem.clone(), key.name.clone(), reference.clone())) {
                    continue;
                }
                let package = json
                    .get_or_insert_with(|| serde_json::to_string(p).expect("packages serialize"))
                    .clone();
                rows.push(IndexedPackage {
                    ecosystem: ecosystem.clone(),
                    name: key.name.clone(),
                    package_ref: reference.clone(),
                    package,
                });
            }
        }
    }
    rows
}

/// The alert severity of a rating: what alert rules' `min_severity` compares.
pub fn alert_severity(rating: Rating) -> &'static str {
    match rating {
        Rating::Unknown | Rating::Negligible => "info",
        Rating::Low => "low",
        Rating::Medium => "medium",
        Rating::High => "high",
        Rating::Critical => "critical",
    }
}

/// The rating's own word (`unknown`, `negligible`, ... `critical`).
pub fn rating_word(rating: Rating) -> String {
    serde_json::to_value(rating)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// A finding as the store keeps it.
pub fn stored_finding(f: &Finding, now_ms: i64) -> StoredFinding {
    StoredFinding {
        advisory_id: f.advisory_id.clone(),
        package_ref: package_ref(&f.package),
        severity: rating_word(f.severity.rating),
        finding: serde_json::to_string(f).expect("findings serialize"),
        first_seen_ms: now_ms,
    }
}

/// What an event about a finding carries: everything an alert needs without another lookup.
pub fn finding_details(f: &Finding, digest: &str, reference: &str) -> serde_json::Value {
    serde_json::json!({
        "severity": alert_severity(f.severity.rating),
        "rating": f.severity.rating,
        "score": f.severity.score,
        "advisory": f.advisory_id,
        "aliases": f.aliases,
        "summary": f.summary,
        "package": {
            "name": f.package.name,
            "version": f.package.version,
            "type": f.package.kind,
            "purl": f.package.purl,
        },
        "ecosystem": f.ecosystem,
        "fixed_versions": f.fixed_versions,
        "fixed_version": f.fixed_versions.first(),
        "kev": f.kev.is_some(),
        "kev_date_added": f.kev.as_ref().map(|k| k.date_added.clone()),
        "epss": f.epss.as_ref().map(|e| serde_json::json!({ "score": e.score, "percentile": e.percentile })),
        "image": { "digest": digest, "reference": reference },
    })
}

/// Counts by rating word.
pub fn counts_by_rating<'a>(ratings: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in ratings {
        *counts.entry(r.to_owned()).or_default() += 1;
    }
    counts
}

/// Why an SBOM cannot be indexed (a 400 naming the parameter).
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct IndexError {
    /// The request parameter at fault.
    pub field: &'static str,
    /// What was wrong.
    pub message: String,
}

/// Reads an uploaded SBOM document (CycloneDX, SPDX, Syft or Dockwatch JSON).
pub fn decode(document: &[u8]) -> Result<(Sbom, String), IndexError> {
    let decoded = sbom::decode::decode(document, "sbom").map_err(|e| IndexError {
        field: "sbom",
        message: e.to_string(),
    })?;
    Ok((decoded.sbom, decoded.kind.to_string()))
}

/// Checks an image digest: `sha256:` and 64 lowercase hex digits.
pub fn check_digest(digest: &str) -> Result<(), IndexError> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if ok {
        Ok(())
    } else {
        Err(IndexError {
            field: "digest",
            message: format!("{digest:?} is not sha256: followed by 64 lowercase hex digits"),
        })
    }
}

/// Builds what the store keeps for `sbom`, matched against `db` when there is one.
/// `digest` defaults to the SBOM's own (the image digest it names), else the SHA-256 of the
/// stored document; `reference` to the SBOM's source name, else the digest.
pub fn prepare(
    db: Option<&AdvisoryDb>,
    sbom: &Sbom,
    sbom_kind: String,
    digest: Option<String>,
    reference: Option<String>,
    now_ms: i64,
) -> Result<(NewImage, Vec<Finding>), IndexError> {
    use sha2::Digest as _;
    let mut native = Vec::new();
    sbom::json::NativeJson::new(sbom::RenderOptions::default())
        .render(sbom, &mut native)
        .expect("writing to memory");
    let digest = match digest.or_else(|| sbom.source.digest.clone()) {
        Some(d) => d,
        None => format!("sha256:{}", hex::encode(sha2::Sha256::digest(&native))),
    };
    check_digest(&digest)?;
    let reference = reference
        .filter(|r| !r.trim().is_empty())
        .or_else(|| (!sbom.source.name.is_empty()).then(|| sbom.source.name.clone()))
        .unwrap_or_else(|| digest.clone());
    if reference.len() > 512 {
        return Err(IndexError {
            field: "reference",
            message: "longer than 512 characters".into(),
        });
    }
    let findings = match db {
        Some(db) => {
            dockwatch_image::matcher::match_packages(db, sbom.distro.as_ref(), &sbom.packages)
                .map_err(|e| IndexError {
                    field: "sbom",
                    message: format!("matching failed: {e}"),
                })?
                .findings
        }
        None => Vec::new(),
    };
    let stored: Vec<StoredFinding> = findings.iter().map(|f| stored_finding(f, now_ms)).collect();
    let details = serde_json::json!({
        "digest": digest,
        "reference": reference,
        "sbom_kind": sbom_kind,
        "packages": sbom.packages.len(),
        "findings": stored.len(),
        "by_rating": counts_by_rating(stored.iter().map(|f| f.severity.as_str())),
    });
    let new = NewImage {
        digest,
        reference,
        sbom_kind,
        distro: sbom
            .distro
            .as_ref()
            .map(|d| serde_json::to_string(d).expect("distros serialize"))
            .unwrap_or_default(),
        sbom: String::from_utf8(native).expect("JSON is UTF-8"),
        package_count: sbom.packages.len() as i64,
        packages: package_rows(sbom.distro.as_ref(), &sbom.packages),
        findings: stored,
        details,
    };
    Ok((new, findings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_core::PackageType;

    fn deb(name: &str, source: &str) -> Package {
        Package {
            name: name.into(),
            version: "1.0-1".into(),
            kind: PackageType::Deb,
            arch: None,
            source_name: Some(source.into()),
            source_version: None,
            licenses: vec![],
            purl: format!("pkg:deb/debian/{name}@1.0-1"),
            cpes: vec![],
            locations: vec![],
            found_by: "test".into(),
            metadata: Default::default(),
        }
    }

    #[test]
    fn packages_are_indexed_by_their_lookup_keys() {
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Default::default()
        };
        let rows = package_rows(
            Some(&distro),
            &[deb("libssl3", "openssl"), deb("openssl", "openssl")],
        );
        let keys: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.ecosystem.as_str(),
                    r.name.as_str(),
                    r.package_ref.as_str(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("Debian:12", "openssl", "pkg:deb/debian/libssl3@1.0-1"),
                ("Debian:12", "openssl", "pkg:deb/debian/openssl@1.0-1"),
            ]
        );
        assert!(
            package_rows(None, &[deb("bash", "bash")]).is_empty(),
            "no release, no key"
        );
    }

    #[test]
    fn digests_are_checked() {
        assert!(check_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert_eq!(check_digest("sha256:XYZ").unwrap_err().field, "digest");
        assert!(check_digest(&format!("sha512:{}", "a".repeat(64))).is_err());
    }
}
