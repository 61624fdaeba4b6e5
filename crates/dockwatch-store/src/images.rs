//! Stored SBOMs (images) per organization, their packages indexed by advisory lookup key
//! (ecosystem, name), and their current findings.
//!
//! The store does not match: the server computes keys and findings (with `dockwatch-image`) and
//! hands them here as plain rows. A re-evaluation reads only the packages named by the changed
//! advisories ([`Store::packages_named`]) and writes each new or resolved finding together with
//! its activity-log event ([`Store::apply_finding_changes`]).

use crate::error::{Result, StoreError};
use crate::orgs::Org;
use crate::write::{Change, system_actor, target};
use crate::{Actor, Store, new_id, now_ms};
use std::collections::HashMap;

/// Action recorded when an SBOM is indexed (or re-indexed) for an image.
pub const IMAGE_INDEXED: &str = "image.indexed";
/// Action recorded when a stored image is deleted.
pub const IMAGE_DELETED: &str = "image.deleted";
/// Action recorded for each new (image, advisory, package) finding after an advisory change.
pub const VULNERABILITY_NEW: &str = "image.vulnerability.new";
/// Action recorded when a finding no longer holds (advisory withdrawn or changed).
pub const VULNERABILITY_RESOLVED: &str = "image.vulnerability.resolved";

/// Rows bound per statement when filtering by a list (well under both backends' limits).
const CHUNK: usize = 400;

/// A stored image (its SBOM is read separately: it may be large).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// Stable id.
    pub id: String,
    /// The organization.
    pub org_id: String,
    /// The image's digest (`sha256:...`), unique in the organization.
    pub digest: String,
    /// The name it was indexed under (`registry.example/app:1.2`).
    pub reference: String,
    /// What kind of SBOM was sent (`CycloneDX 1.6 JSON`...).
    pub sbom_kind: String,
    /// The distro as JSON (`""` when unknown).
    pub distro: String,
    /// How many packages the SBOM lists.
    pub package_count: i64,
    /// First indexed.
    pub created_ms: i64,
    /// Last indexed.
    pub updated_ms: i64,
    /// Last time its findings were computed (indexing) or changed (re-evaluation).
    pub evaluated_ms: i64,
    /// Current findings.
    pub finding_count: i64,
}

/// One package row: a package under one of its lookup keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedPackage {
    /// OSV ecosystem of the lookup key (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    /// Normalized name of the lookup key.
    pub name: String,
    /// Identifies the package within its image (its purl, or `type/name@version`).
    pub package_ref: String,
    /// The package, as JSON.
    pub package: String,
}

/// One stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    /// The advisory.
    pub advisory_id: String,
    /// The package ([`IndexedPackage::package_ref`]).
    pub package_ref: String,
    /// The rating (`critical`...), for filters and counts.
    pub severity: String,
    /// The finding, as JSON.
    pub finding: String,
    /// When it was first seen.
    pub first_seen_ms: i64,
}

/// What indexing an SBOM stores.
#[derive(Debug, Clone)]
pub struct NewImage {
    /// Digest (unique per organization; indexing it again replaces it).
    pub digest: String,
    /// Display reference.
    pub reference: String,
    /// The kind of SBOM sent.
    pub sbom_kind: String,
    /// The distro as JSON, `""` when unknown.
    pub distro: String,
    /// The SBOM (Dockwatch native JSON).
    pub sbom: String,
    /// How many packages it lists.
    pub package_count: i64,
    /// Package rows, one per lookup key.
    pub packages: Vec<IndexedPackage>,
    /// Findings at indexing time.
    pub findings: Vec<StoredFinding>,
    /// Event details (counts by severity...).
    pub details: serde_json::Value,
}

/// A package named by a changed advisory, with what matching it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageHit {
    /// The image.
    pub image_id: String,
    /// The image's organization.
    pub org_id: String,
    /// The image's digest.
    pub digest: String,
    /// The image's reference.
    pub reference: String,
    /// The image's distro as JSON.
    pub distro: String,
    /// The package's ref within the image.
    pub package_ref: String,
    /// The package as JSON.
    pub package: String,
}

/// A finding that appeared or went away, with its event.
#[derive(Debug, Clone)]
pub struct FindingChange {
    /// The finding (for a resolved one, only `advisory_id` and `package_ref` matter).
    pub finding: StoredFinding,
    /// The event's sentence (without the actor).
    pub sentence: String,
    /// The event's details.
    pub details: serde_json::Value,
}

/// The findings of one image to write after a re-evaluation.
#[derive(Debug, Clone)]
pub struct ImageFindingChanges {
    /// The image.
    pub image_id: String,
    /// Its organization.
    pub org_id: String,
    /// Its digest (the event target's id).
    pub digest: String,
    /// Its reference (the event target's name).
    pub reference: String,
    /// New findings.
    pub new: Vec<FindingChange>,
    /// Findings that no longer hold.
    pub resolved: Vec<FindingChange>,
}

type ImageRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
);

fn image(r: ImageRow) -> ImageRecord {
    ImageRecord {
        id: r.0,
        org_id: r.1,
        digest: r.2,
        reference: r.3,
        sbom_kind: r.4,
        distro: r.5,
        package_count: r.6,
        created_ms: r.7,
        updated_ms: r.8,
        evaluated_ms: r.9,
        finding_count: r.10,
    }
}

const IMAGE_SQL: &str = "SELECT i.id, i.org_id, i.digest, i.reference, i.sbom_kind, i.distro, \
     i.package_count, i.created_ms, i.updated_ms, i.evaluated_ms, \
     (SELECT COUNT(*) FROM image_findings f WHERE f.image_id = i.id) \
     FROM images i WHERE i.org_id = $1";

type FindingRow = (String, String, String, String, i64);

fn finding(r: FindingRow) -> StoredFinding {
    StoredFinding {
        advisory_id: r.0,
        package_ref: r.1,
        severity: r.2,
        finding: r.3,
        first_seen_ms: r.4,
    }
}

/// `$start, $start+1, ...` as `(…), (…)` groups of `width` placeholders.
fn placeholders(groups: usize, width: usize, start: usize) -> String {
    (0..groups)
        .map(|g| {
            let inner: Vec<String> = (0..width)
                .map(|i| format!("${}", start + g * width + i))
                .collect();
            format!("({})", inner.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The organization's images, by reference then digest.
    pub async fn images(&self, org_id: &str) -> Result<Vec<ImageRecord>> {
        let sql = format!("{IMAGE_SQL} ORDER BY i.reference, i.digest");
        let rows: Vec<ImageRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(image).collect())
    }

    /// An image by digest.
    pub async fn image(&self, org_id: &str, digest: &str) -> Result<ImageRecord> {
        let sql = format!("{IMAGE_SQL} AND i.digest = $2");
        let row: Option<ImageRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(digest)
            .fetch_optional(self.pool())
            .await?;
        row.map(image)
            .ok_or_else(|| StoreError::not_found("image", digest))
    }

    /// An image's stored SBOM (native JSON).
    pub async fn image_sbom(&self, image_id: &str) -> Result<String> {
        let sbom: Option<String> = sqlx::query_scalar("SELECT sbom FROM images WHERE id = $1")
            .bind(image_id)
            .fetch_optional(self.pool())
            .await?;
        sbom.ok_or_else(|| StoreError::not_found("image", image_id))
    }

    /// An image's current findings, by package then advisory.
    pub async fn image_findings(&self, image_id: &str) -> Result<Vec<StoredFinding>> {
        let rows: Vec<FindingRow> = sqlx::query_as(
            "SELECT advisory_id, package_ref, severity, finding, first_seen_ms FROM image_findings \
             WHERE image_id = $1 ORDER BY package_ref, advisory_id",
        )
        .bind(image_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(finding).collect())
    }

    /// The current findings of several images, by image id.
    pub async fn findings_of_images(
        &self,
        image_ids: &[String],
    ) -> Result<HashMap<String, Vec<StoredFinding>>> {
        let mut out: HashMap<String, Vec<StoredFinding>> = HashMap::new();
        for chunk in image_ids.chunks(CHUNK) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT image_id, advisory_id, package_ref, severity, finding, first_seen_ms \
                 FROM image_findings WHERE image_id IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, String, String, String, String, i64)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.entry(r.0)
                    .or_default()
                    .push(finding((r.1, r.2, r.3, r.4, r.5)));
            }
        }
        Ok(out)
    }

    /// Every stored package, in any organization, under one of the (ecosystem, name) `keys`.
    /// A package named by several keys comes once per key.
    pub async fn packages_named(&self, keys: &[(String, String)]) -> Result<Vec<PackageHit>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let sql = format!(
                "SELECT p.image_id, i.org_id, i.digest, i.reference, i.distro, p.package_ref, p.package \
                 FROM image_packages p JOIN images i ON i.id = p.image_id \
                 WHERE (p.ecosystem, p.name) IN (VALUES {})",
                placeholders(chunk.len(), 2, 1)
            );
            let mut q =
                sqlx::query_as::<_, (String, String, String, String, String, String, String)>(&sql);
            for (ecosystem, name) in chunk {
                q = q.bind(ecosystem).bind(name);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(PackageHit {
                    image_id: r.0,
                    org_id: r.1,
                    digest: r.2,
                    reference: r.3,
                    distro: r.4,
                    package_ref: r.5,
                    package: r.6,
                });
            }
        }
        Ok(out)
    }

    /// Stores an SBOM and its findings, replacing what was stored for the same digest; records
    /// `image.indexed`. Returns the record and whether the image is new.
    pub async fn index_image(
        &self,
        actor: &Actor,
        org: &Org,
        new: NewImage,
    ) -> Result<(ImageRecord, bool)> {
        let now = now_ms();
        let mut w = self.write(actor).await?;
        let existing: Option<(String, i64)> =
            sqlx::query_as("SELECT id, created_ms FROM images WHERE org_id = $1 AND digest = $2")
                .bind(&org.id)
                .bind(&new.digest)
                .fetch_optional(w.conn())
                .await?;
        let created = existing.is_none();
        let (id, created_ms) = match existing {
            Some((id, created_ms)) => {
                sqlx::query("DELETE FROM image_packages WHERE image_id = $1")
                    .bind(&id)
                    .execute(w.conn())
                    .await?;
                sqlx::query("DELETE FROM image_findings WHERE image_id = $1")
                    .bind(&id)
                    .execute(w.conn())
                    .await?;
                sqlx::query(
                    "UPDATE images SET reference = $1, sbom_kind = $2, distro = $3, sbom = $4, \
                     package_count = $5, updated_ms = $6, evaluated_ms = $6 WHERE id = $7",
                )
                .bind(&new.reference)
                .bind(&new.sbom_kind)
                .bind(&new.distro)
                .bind(&new.sbom)
                .bind(new.package_count)
                .bind(now)
                .bind(&id)
                .execute(w.conn())
                .await?;
                (id, created_ms)
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO images (id, org_id, digest, reference, sbom_kind, distro, sbom, \
                     package_count, created_ms, updated_ms, evaluated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)",
                )
                .bind(&id)
                .bind(&org.id)
                .bind(&new.digest)
                .bind(&new.reference)
                .bind(&new.sbom_kind)
                .bind(&new.distro)
                .bind(&new.sbom)
                .bind(new.package_count)
                .bind(now)
                .execute(w.conn())
                .await?;
                (id, now)
            }
        };
        insert_packages(w.conn(), &id, &new.packages).await?;
        for f in &new.findings {
            insert_finding(w.conn(), &id, f).await?;
        }
        let verb = if created { "indexed" } else { "re-indexed" };
        w.record(
            Change::new(
                &org.id,
                IMAGE_INDEXED,
                target("image", &new.digest, &new.reference),
                format!(
                    "{verb} image {} ({} packages, {} findings)",
                    new.reference,
                    new.package_count,
                    new.findings.len()
                ),
            )
            .details(new.details.clone()),
        );
        w.commit().await?;
        let record = ImageRecord {
            id,
            org_id: org.id.clone(),
            digest: new.digest,
            reference: new.reference,
            sbom_kind: new.sbom_kind,
            distro: new.distro,
            package_count: new.package_count,
            created_ms,
            updated_ms: now,
            evaluated_ms: now,
            finding_count: new.findings.len() as i64,
        };
        Ok((record, created))
    }

    /// Deletes a stored image with its packages and findings; records `image.deleted`.
    pub async fn delete_image(
        &self,
        actor: &Actor,
        org: &Org,
        current: &ImageRecord,
    ) -> Result<()> {
        let mut w = self.write(actor).await?;
        for table in ["image_findings", "image_packages"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE image_id = $1"))
                .bind(&current.id)
                .execute(w.conn())
                .await?;
        }
        let done = sqlx::query("DELETE FROM images WHERE id = $1")
            .bind(&current.id)
            .execute(w.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("image", &current.digest));
        }
        w.record(
            Change::new(
                &org.id,
                IMAGE_DELETED,
                target("image", &current.digest, &current.reference),
                format!("deleted image {}", current.reference),
            )
            .details(serde_json::json!({ "before": { "digest": current.digest, "reference": current.reference, "packages": current.package_count } })),
        );
        w.commit().await?;
        Ok(())
    }

    /// Writes the outcome of a re-evaluation: per organization one transaction inserting new
    /// findings and deleting resolved ones, each with its event, by the system actor, and
    /// setting the changed images' `evaluated_ms`. Returns how many events were appended.
    pub async fn apply_finding_changes(&self, changes: Vec<ImageFindingChanges>) -> Result<usize> {
        let mut by_org: HashMap<String, Vec<ImageFindingChanges>> = HashMap::new();
        for c in changes {
            if !c.new.is_empty() || !c.resolved.is_empty() {
                by_org.entry(c.org_id.clone()).or_default().push(c);
            }
        }
        let mut orgs: Vec<_> = by_org.into_iter().collect();
        orgs.sort_by(|a, b| a.0.cmp(&b.0));
        let actor = system_actor();
        let now = now_ms();
        let mut events = 0;
        for (org_id, images) in orgs {
            let mut w = self.write(&actor).await?;
            for image in images {
                let t = || target("image", &image.digest, &image.reference);
                for r in image.resolved {
                    sqlx::query(
                        "DELETE FROM image_findings WHERE image_id = $1 AND advisory_id = $2 AND package_ref = $3",
                    )
                    .bind(&image.image_id)
                    .bind(&r.finding.advisory_id)
                    .bind(&r.finding.package_ref)
                    .execute(w.conn())
                    .await?;
                    w.record(
                        Change::new(&org_id, VULNERABILITY_RESOLVED, t(), r.sentence)
                            .details(r.details),
                    );
                    events += 1;
                }
                // Multi-row inserts; a finding already stored (by a concurrent index) is not
                // returned, so it is not announced again.
                let inserted = insert_new_findings(w.conn(), &image.image_id, &image.new).await?;
                for n in image.new {
                    let key = (n.finding.advisory_id.clone(), n.finding.package_ref.clone());
                    if inserted.contains(&key) {
                        w.record(
                            Change::new(&org_id, VULNERABILITY_NEW, t(), n.sentence)
                                .details(n.details),
                        );
                        events += 1;
                    }
                }
                sqlx::query("UPDATE images SET evaluated_ms = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&image.image_id)
                    .execute(w.conn())
                    .await?;
            }
            if w.has_changes() {
                w.commit().await?;
            }
        }
        Ok(events)
    }
}

async fn insert_packages(
    conn: &mut sqlx::AnyConnection,
    image_id: &str,
    packages: &[IndexedPackage],
) -> Result<()> {
    // Multi-row inserts: a 5,000-package SBOM is a dozen statements, not 5,000.
    for chunk in packages.chunks(CHUNK / 5 * 2) {
        let sql = format!(
            "INSERT INTO image_packages (image_id, ecosystem, name, package_ref, package) VALUES {}",
            placeholders(chunk.len(), 5, 1)
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(image_id)
                .bind(&p.ecosystem)
                .bind(&p.name)
                .bind(&p.package_ref)
                .bind(&p.package);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts findings, skipping those already stored; returns the (advisory, package ref) pairs
/// actually inserted.
async fn insert_new_findings(
    conn: &mut sqlx::AnyConnection,
    image_id: &str,
    findings: &[FindingChange],
) -> Result<std::collections::HashSet<(String, String)>> {
    let mut inserted = std::collections::HashSet::new();
    for chunk in findings.chunks(CHUNK / 6) {
        let sql = format!(
            "INSERT INTO image_findings (image_id, advisory_id, package_ref, severity, finding, first_seen_ms) \
             VALUES {} ON CONFLICT (image_id, advisory_id, package_ref) DO NOTHING \
             RETURNING advisory_id, package_ref",
            placeholders(chunk.len(), 6, 1)
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for n in chunk {
            let f = &n.finding;
            q = q
                .bind(image_id)
                .bind(&f.advisory_id)
                .bind(&f.package_ref)
                .bind(&f.severity)
                .bind(&f.finding)
                .bind(f.first_seen_ms);
        }
        inserted.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(inserted)
}

async fn insert_finding(
    conn: &mut sqlx::AnyConnection,
    image_id: &str,
    f: &StoredFinding,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO image_findings (image_id, advisory_id, package_ref, severity, finding, first_seen_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (image_id, advisory_id, package_ref) DO NOTHING",
    )
    .bind(image_id)
    .bind(&f.advisory_id)
    .bind(&f.package_ref)
    .bind(&f.severity)
    .bind(&f.finding)
    .bind(f.first_seen_ms)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_groups() {
        assert_eq!(super::placeholders(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(super::placeholders(1, 3, 5), "($5, $6, $7)");
    }
}
