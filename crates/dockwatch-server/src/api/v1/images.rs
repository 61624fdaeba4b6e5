//! Stored SBOMs per organization and their current findings. Editors index and delete; members
//! read. The findings change on their own when the advisory database does
//! (`image.vulnerability.new` / `image.vulnerability.resolved` events).

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::vuln::index;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::Role;
use dockwatch_store::images::{ImageRecord, StoredFinding};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Largest SBOM upload (SBOMs of large images are a few tens of MB).
pub const MAX_SBOM_BODY_BYTES: usize = 128 * 1024 * 1024;

/// A stored image.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImageView {
    /// The image digest (`sha256:...`), unique in the organization.
    pub digest: String,
    /// The name it was indexed under.
    pub reference: String,
    /// The SBOM format that was sent.
    pub sbom_kind: String,
    /// The OS (`debian 12`), when the SBOM names one.
    pub distro: Option<String>,
    /// Packages in the SBOM.
    pub packages: i64,
    /// Current findings.
    pub findings: i64,
    /// First indexed (RFC 3339).
    pub created_at: String,
    /// Last indexed (RFC 3339).
    pub updated_at: String,
    /// Last time its findings were computed or changed (RFC 3339).
    pub evaluated_at: String,
}

impl From<ImageRecord> for ImageView {
    fn from(r: ImageRecord) -> Self {
        let distro = serde_json::from_str::<dockwatch_core::Distro>(&r.distro)
            .ok()
            .map(|d| match d.version_id {
                Some(v) => format!("{} {v}", d.id),
                None => d.id,
            });
        Self {
            digest: r.digest,
            reference: r.reference,
            sbom_kind: r.sbom_kind,
            distro,
            packages: r.package_count,
            findings: r.finding_count,
            created_at: time(r.created_ms),
            updated_at: time(r.updated_ms),
            evaluated_at: time(r.evaluated_ms),
        }
    }
}

/// The package a finding is about.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FindingPackage {
    /// Name.
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Package type (`deb`, `npm`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Package URL.
    pub purl: String,
}

/// One current finding of an image.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FindingView {
    /// The advisory id.
    pub advisory: String,
    /// Its aliases (CVE ids).
    pub aliases: Vec<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// `unknown`, `negligible`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// CVSS base score, when given.
    pub score: Option<f64>,
    /// The package.
    pub package: FindingPackage,
    /// The OSV ecosystem matched in.
    pub ecosystem: String,
    /// Versions that fix it (empty: no fix yet).
    pub fixed_versions: Vec<String>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    pub kev: bool,
    /// EPSS score (probability of exploitation in 30 days).
    pub epss_score: Option<f64>,
    /// EPSS percentile.
    pub epss_percentile: Option<f64>,
    /// When the server first saw this finding (RFC 3339).
    pub first_seen_at: String,
}

fn finding_view(s: StoredFinding) -> Option<FindingView> {
    let f: dockwatch_image::finding::Finding = serde_json::from_str(&s.finding).ok()?;
    Some(FindingView {
        advisory: f.advisory_id,
        aliases: f.aliases,
        summary: f.summary,
        severity: s.severity,
        score: f.severity.score,
        package: FindingPackage {
            name: f.package.name.clone(),
            version: f.package.version.clone(),
            kind: f.package.kind.to_string(),
            purl: f.package.purl.clone(),
        },
        ecosystem: f.ecosystem,
        fixed_versions: f.fixed_versions,
        kev: f.kev.is_some(),
        epss_score: f.epss.as_ref().map(|e| e.score),
        epss_percentile: f.epss.as_ref().map(|e| e.percentile),
        first_seen_at: time(s.first_seen_ms),
    })
}

/// An image with its findings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImageDetail {
    /// The image.
    #[serde(flatten)]
    pub image: ImageView,
    /// Findings by rating.
    pub by_severity: BTreeMap<String, usize>,
    /// The findings, by package then advisory.
    pub vulnerabilities: Vec<FindingView>,
}

/// An SBOM to index.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexImage {
    /// The SBOM document: CycloneDX JSON, SPDX JSON, Syft JSON or Dockwatch JSON.
    #[schema(value_type = Object)]
    pub sbom: serde_json::Value,
    /// The image digest (`sha256:` + 64 hex) [default: the one the SBOM names, else the
    /// SHA-256 of the stored SBOM].
    #[serde(default)]
    pub digest: Option<String>,
    /// The name to show [default: the SBOM's source name].
    #[serde(default)]
    pub reference: Option<String>,
}

async fn detail(state: &AppState, record: ImageRecord) -> ApiResult<ImageDetail> {
    let findings = state.store.image_findings(&record.id).await?;
    let vulnerabilities: Vec<FindingView> = findings.into_iter().filter_map(finding_view).collect();
    let by_severity = index::counts_by_rating(vulnerabilities.iter().map(|f| f.severity.as_str()));
    Ok(ImageDetail {
        image: record.into(),
        by_severity,
        vulnerabilities,
    })
}

/// Lists the stored images.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/images", tag = "images", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<ImageView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<ImageView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(
        state
            .store
            .images(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Indexes an SBOM (re-indexing a digest replaces it) and matches it at once.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/images", tag = "images", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name")), request_body = IndexImage,
    responses((status = 201, body = ImageDetail), (status = 200, body = ImageDetail), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ImageDetail>)> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let body = body.map_err(|_| ApiError::BadRequest {
        field: Some("body".into()),
        message: format!("request body: unreadable or larger than {MAX_SBOM_BODY_BYTES} bytes"),
    })?;
    let req: IndexImage = parse_json(&body)?;
    let bad = |e: index::IndexError| ApiError::BadRequest {
        field: Some(e.field.into()),
        message: e.to_string(),
    };
    if let Some(d) = &req.digest {
        index::check_digest(d).map_err(bad)?;
    }
    let document = serde_json::to_vec(&req.sbom).expect("JSON values serialize");
    let advisories = state.advisories.clone();
    let now = dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock);
    // Decoding and matching are CPU work: off the async workers.
    let prepared = tokio::task::spawn_blocking(move || {
        let (sbom, kind) = index::decode(&document)?;
        match &advisories {
            Some(adv) => {
                adv.read(|db| index::prepare(Some(db), &sbom, kind, req.digest, req.reference, now))
            }
            None => index::prepare(None, &sbom, kind, req.digest, req.reference, now),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (new, _) = prepared.map_err(bad)?;
    let (record, created) = state.store.index_image(&who.actor, &a.org, new).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(detail(&state, record).await?)))
}

/// An image with its current findings.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/images/{digest}", tag = "images", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("digest" = String, Path, description = "Image digest")),
    responses((status = 200, body = ImageDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((org, digest)): Path<(String, String)>,
) -> ApiResult<Json<ImageDetail>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let record = state.store.image(&a.org.id, &digest).await?;
    Ok(Json(detail(&state, record).await?))
}

/// Deletes a stored image and its findings.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/images/{digest}", tag = "images", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("digest" = String, Path, description = "Image digest")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path((org, digest)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let record = state.store.image(&a.org.id, &digest).await?;
    state
        .store
        .delete_image(&who.actor, &a.org, &record)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An image's current findings.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/images/{digest}/vulnerabilities", tag = "images", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("digest" = String, Path, description = "Image digest")),
    responses((status = 200, body = Vec<FindingView>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn vulnerabilities(
    State(state): State<AppState>,
    who: Principal,
    Path((org, digest)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FindingView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let record = state.store.image(&a.org.id, &digest).await?;
    let findings = state.store.image_findings(&record.id).await?;
    Ok(Json(
        findings.into_iter().filter_map(finding_view).collect(),
    ))
}

/// The stored SBOM, as Dockwatch JSON.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/images/{digest}/sbom", tag = "images", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("digest" = String, Path, description = "Image digest")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn sbom(
    State(state): State<AppState>,
    who: Principal,
    Path((org, digest)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let record = state.store.image(&a.org.id, &digest).await?;
    let text = state.store.image_sbom(&record.id).await?;
    let value = serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(value))
}

/// The image routes (uploads get their own body limit).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, delete))
        .routes(routes!(vulnerabilities))
        .routes(routes!(sbom))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_SBOM_BODY_BYTES))
}
