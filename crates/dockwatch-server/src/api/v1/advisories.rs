//! The server's advisory database: its status (any signed-in caller) and imports (owners of the
//! admin organization). An import re-evaluates the stored images whose packages the changed
//! advisories name, before answering.

use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::vuln::reevaluate::{Reevaluation, reevaluate};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use dockwatch_core::org::Role;
use dockwatch_image::advisory::{ImportBatch, ImportWarning, osv};
use dockwatch_store::write::{Change, target};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Largest advisory upload.
pub const MAX_ADVISORY_BODY_BYTES: usize = 256 * 1024 * 1024;

/// Action recorded in the admin organization's log for each import through the API.
pub const ADVISORIES_IMPORTED: &str = "advisories.imported";

/// What the advisory database holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryStatus {
    /// Advisories that can match.
    pub advisories: usize,
    /// Withdrawn advisories.
    pub withdrawn: usize,
    /// Advisories per OSV ecosystem.
    pub ecosystems: std::collections::BTreeMap<String, usize>,
    /// When the last import finished (RFC 3339).
    pub last_import: Option<String>,
}

/// A record skipped by an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedRecord {
    /// Where it was: `body[3]` (the fourth member of the array), or `body`.
    pub record: String,
    /// Its id, when readable.
    pub id: Option<String>,
    /// The field at fault (`affected[0].ranges[0].events[1]`).
    pub field: String,
    /// What was wrong.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Advisories not seen before.
    pub added: usize,
    /// Advisories replaced by a newer version.
    pub updated: usize,
    /// Advisories identical to (or older than) the stored ones.
    pub unchanged: usize,
    /// Advisories now withdrawn.
    pub withdrawn: usize,
    /// Malformed records skipped (listed in `skipped_records`).
    pub skipped: usize,
    /// Why each was skipped.
    pub skipped_records: Vec<SkippedRecord>,
    /// What the re-evaluation of stored images found.
    pub reevaluation: Reevaluation,
}

fn unavailable() -> ApiError {
    ApiError::Conflict(
        "this server has no advisory database: start it with --db DIR (DOCKWATCH_DB)".into(),
    )
}

/// The advisory database's status.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "advisories", security(("token" = ["member"])),
    responses((status = 200, body = AdvisoryStatus), (status = 409, body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    _who: Principal,
) -> ApiResult<Json<AdvisoryStatus>> {
    let advisories = state.advisories.clone().ok_or_else(unavailable)?;
    let status = tokio::task::spawn_blocking(move || advisories.read(|db| db.status()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(AdvisoryStatus {
        advisories: status.advisories,
        withdrawn: status.withdrawn,
        ecosystems: status.ecosystems.into_iter().collect(),
        last_import: status.last_import,
    }))
}

/// Reads the body: one OSV record (JSON object) or an array of them. A malformed record is
/// skipped with a warning naming its position and field; the others are imported.
pub fn read_body(bytes: &[u8]) -> ApiResult<ImportBatch> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
            field: Some("body".into()),
            message: format!("request body: not JSON: {e}"),
        })?;
    let records: Vec<(String, serde_json::Value)> = match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("body[{i}]"), v))
            .collect(),
        v @ serde_json::Value::Object(_) => vec![("body".to_owned(), v)],
        _ => {
            return Err(ApiError::BadRequest {
                field: Some("body".into()),
                message: "request body: expected an OSV record (object) or an array of them".into(),
            });
        }
    };
    let mut batch = ImportBatch::default();
    for (record, value) in records {
        let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        match osv::parse_value(value) {
            Ok(advisory) => batch.advisories.push((advisory, format!("api:{record}"))),
            Err(e) => batch.warnings.push(ImportWarning {
                file: record,
                id: e.id.or(id),
                field: e.field,
                reason: e.reason,
            }),
        }
        batch.files_read += 1;
    }
    Ok(batch)
}

/// Imports OSV advisories, then re-evaluates the stored images they concern. Needs the owner
/// role in the admin organization (`--advisory-admin-org`, default: the first organization).
#[utoipa::path(post, path = "/api/v1/advisories/import", tag = "advisories", security(("token" = ["owner"])),
    request_body(content = Object, description = "An OSV record or an array of OSV records"),
    responses((status = 200, body = ImportResult), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    who: Principal,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportResult>> {
    let admin_org = state.config.advisory_admin_org.clone();
    let access = org_access(&state, &who, &admin_org, Role::Owner)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) | ApiError::Forbidden(_) => ApiError::Forbidden(format!(
                "importing advisories needs the owner role in the admin organization {admin_org}"
            )),
            e => e,
        })?;
    let advisories = state.advisories.clone().ok_or_else(unavailable)?;
    let body = body.map_err(|_| ApiError::BadRequest {
        field: Some("body".into()),
        message: format!("request body: unreadable or larger than {MAX_ADVISORY_BODY_BYTES} bytes"),
    })?;
    let batch = read_body(&body)?;
    let skipped_records: Vec<SkippedRecord> = batch
        .warnings
        .iter()
        .map(|w| SkippedRecord {
            record: w.file.clone(),
            id: w.id.clone(),
            field: w.field.clone(),
            reason: w.reason.clone(),
        })
        .collect();
    let shared = Arc::clone(&advisories);
    let summary = tokio::task::spawn_blocking(move || shared.import(batch))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let reevaluation = reevaluate(&state.store, &advisories, &summary.changed_packages)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut w = state.store.write(&who.actor).await?;
    w.record(
        Change::new(
            &access.org.id,
            ADVISORIES_IMPORTED,
            target("advisory-db", "", "advisory database"),
            format!(
                "imported advisories ({} added, {} updated, {} withdrawn, {} skipped)",
                summary.added, summary.updated, summary.withdrawn, summary.skipped
            ),
        )
        .details(serde_json::json!({
            "added": summary.added,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "withdrawn": summary.withdrawn,
            "skipped": summary.skipped,
            "reevaluation": reevaluation,
        })),
    );
    w.commit().await?;
    Ok(Json(ImportResult {
        added: summary.added,
        updated: summary.updated,
        unchanged: summary.unchanged,
        withdrawn: summary.withdrawn,
        skipped: summary.skipped,
        skipped_records,
        reevaluation,
    }))
}

/// The advisory routes (imports get their own body limit).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(import))
        .layer(axum::extract::DefaultBodyLimit::max(
            MAX_ADVISORY_BODY_BYTES,
        ))
}
