//! Re-evaluation: after an advisory change, re-match only the stored packages the changed
//! advisories name, and turn the difference with the stored findings into events.
//!
//! A package's findings are recomputed against every advisory naming it (not only the changed
//! ones), so an unchanged advisory's finding reappears identical and makes no event.

use super::Advisories;
use super::index::{finding_details, package_ref, stored_finding};
use dockwatch_core::{Distro, Package};
use dockwatch_image::advisory::AdvisoryDb;
use dockwatch_image::finding::Finding;
use dockwatch_store::images::{FindingChange, ImageFindingChanges, PackageHit, StoredFinding};
use dockwatch_store::{Store, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// What a re-evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Reevaluation {
    /// (ecosystem, name) keys the change concerned.
    pub keys: usize,
    /// Stored packages under those keys.
    pub packages: usize,
    /// Images those packages belong to.
    pub images: usize,
    /// New findings (one `image.vulnerability.new` event each).
    pub new_findings: usize,
    /// Findings that no longer hold (one `image.vulnerability.resolved` event each).
    pub resolved_findings: usize,
}

/// Why a re-evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReevaluateError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The advisory database failed.
    #[error(transparent)]
    Db(#[from] dockwatch_image::advisory::DbError),
}

/// One image's packages to re-match, and its stored findings on them.
#[derive(Debug, Default)]
pub struct ImageWork {
    org_id: String,
    digest: String,
    reference: String,
    distro: Option<Distro>,
    packages: BTreeMap<String, Package>,
    stored: Vec<StoredFinding>,
}

/// Groups package hits by image (a package named by two keys comes once).
pub fn group(hits: Vec<PackageHit>) -> BTreeMap<String, ImageWork> {
    let mut images: BTreeMap<String, ImageWork> = BTreeMap::new();
    for hit in hits {
        let work = images.entry(hit.image_id).or_insert_with(|| ImageWork {
            org_id: hit.org_id,
            digest: hit.digest,
            reference: hit.reference,
            distro: serde_json::from_str(&hit.distro).ok(),
            ..Default::default()
        });
        if work.packages.contains_key(&hit.package_ref) {
            continue;
        }
        // A row that no longer reads as a package is skipped, not fatal: the rest still count.
        match serde_json::from_str::<Package>(&hit.package) {
            Ok(p) => {
                work.packages.insert(hit.package_ref, p);
            }
            Err(e) => {
                tracing::warn!(package = %hit.package_ref, error = %e, "Unreadable stored package; skipped.")
            }
        }
    }
    images
}

/// Matches each image's packages and compares with its stored findings on them (pure but for
/// the database's EPSS reads).
pub fn diff(
    db: &AdvisoryDb,
    images: BTreeMap<String, ImageWork>,
    now_ms: i64,
) -> Result<(Vec<ImageFindingChanges>, Reevaluation), dockwatch_image::advisory::DbError> {
    let mut out = Vec::new();
    let mut stats = Reevaluation {
        images: images.len(),
        ..Default::default()
    };
    for (image_id, work) in images {
        stats.packages += work.packages.len();
        let packages: Vec<Package> = work.packages.values().cloned().collect();
        let report = dockwatch_image::matcher::match_packages(db, work.distro.as_ref(), &packages)?;
        let mut current: BTreeMap<(String, String), Finding> = BTreeMap::new();
        for f in report.findings {
            current
                .entry((f.advisory_id.clone(), package_ref(&f.package)))
                .or_insert(f);
        }
        let stored: BTreeMap<(String, String), &StoredFinding> = work
            .stored
            .iter()
            .filter(|s| work.packages.contains_key(&s.package_ref))
            .map(|s| ((s.advisory_id.clone(), s.package_ref.clone()), s))
            .collect();
        let mut change = ImageFindingChanges {
            image_id,
            org_id: work.org_id.clone(),
            digest: work.digest.clone(),
            reference: work.reference.clone(),
            new: Vec::new(),
            resolved: Vec::new(),
        };
        for (key, f) in &current {
            if stored.contains_key(key) {
                continue;
            }
            change.new.push(FindingChange {
                finding: stored_finding(f, now_ms),
                sentence: format!(
                    "found {} ({}) in {} {} of image {}",
                    f.advisory_id,
                    super::index::rating_word(f.severity.rating),
                    f.package.name,
                    f.package.version,
                    work.reference
                ),
                details: finding_details(f, &work.digest, &work.reference),
            });
        }
        for (key, s) in &stored {
            if current.contains_key(key) {
                continue;
            }
            let before: serde_json::Value =
                serde_json::from_str(&s.finding).unwrap_or(serde_json::Value::Null);
            let package = work.packages.get(&s.package_ref);
            change.resolved.push(FindingChange {
                finding: (*s).clone(),
                sentence: format!(
                    "resolved {} in {} {} of image {}",
                    s.advisory_id,
                    package.map_or(s.package_ref.as_str(), |p| p.name.as_str()),
                    package.map_or("", |p| p.version.as_str()),
                    work.reference
                ),
                details: serde_json::json!({
                    "severity": "info",
                    "advisory": s.advisory_id,
                    "rating": s.severity,
                    "package": {
                        "name": package.map(|p| p.name.clone()),
                        "version": package.map(|p| p.version.clone()),
                        "purl": package.map(|p| p.purl.clone()),
                    },
                    "reason": "the advisory was withdrawn or no longer affects this version",
                    "image": { "digest": work.digest, "reference": work.reference },
                    "before": before,
                }),
            });
        }
        stats.new_findings += change.new.len();
        stats.resolved_findings += change.resolved.len();
        if !change.new.is_empty() || !change.resolved.is_empty() {
            out.push(change);
        }
    }
    Ok((out, stats))
}

/// Re-evaluates the stored packages under `keys` and writes new and resolved findings with
/// their events.
pub async fn reevaluate(
    store: &Store,
    advisories: &Arc<Advisories>,
    keys: &BTreeSet<(String, String)>,
) -> Result<Reevaluation, ReevaluateError> {
    let _one_at_a_time = advisories.reevaluation.lock().await;
    let keys: Vec<(String, String)> = keys.iter().cloned().collect();
    let hits = store.packages_named(&keys).await?;
    let mut images = group(hits);
    let ids: Vec<String> = images.keys().cloned().collect();
    let mut stored: HashMap<String, Vec<StoredFinding>> = store.findings_of_images(&ids).await?;
    for (id, work) in &mut images {
        work.stored = stored.remove(id).unwrap_or_default();
    }
    let now = dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock);
    // Matching is CPU work: off the async workers.
    let shared = Arc::clone(advisories);
    let (changes, mut stats) =
        tokio::task::spawn_blocking(move || shared.read(|db| diff(db, images, now)))
            .await
            .expect("matching does not panic")?;
    stats.keys = keys.len();
    store.apply_finding_changes(changes).await?;
    tracing::info!(
        keys = stats.keys,
        images = stats.images,
        new = stats.new_findings,
        resolved = stats.resolved_findings,
        "Re-evaluated stored images after an advisory change."
    );
    Ok(stats)
}
