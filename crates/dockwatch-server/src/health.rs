//! `/healthz` (the process answers) and `/readyz` (the database answers and migrations are
//! current), both without credentials.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

/// Health and readiness status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` or what is wrong.
    pub status: String,
    /// Applied schema version (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
        schema_version: None,
    })
}

/// Readiness: the database is reachable and its migrations are current.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, body = Status), (status = 503, body = Status)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    match state.store.readiness().await {
        Ok(r) if r.is_current() => (
            StatusCode::OK,
            Json(Status {
                status: "ok".into(),
                schema_version: Some(r.applied),
            }),
        ),
        Ok(r) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: format!(
                    "schema version {} but this build expects {}",
                    r.applied, r.expected
                ),
                schema_version: Some(r.applied),
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "Readiness check failed.");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Status {
                    status: "database unreachable".into(),
                    schema_version: None,
                }),
            )
        }
    }
}

/// The health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}
