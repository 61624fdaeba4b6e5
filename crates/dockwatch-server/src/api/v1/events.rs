//! A minimal listing of the organization's activity log, newest first (search, export and
//! verification come with the activity-log work).

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use dockwatch_core::event::Event;
use dockwatch_core::org::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// An event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Sortable unique id.
    pub id: String,
    /// Position in the organization's chain.
    pub seq: i64,
    /// When (RFC 3339).
    pub time: String,
    /// Dotted action name.
    pub action: String,
    /// Who: `{kind, id, name, ip, user_agent}`.
    #[schema(value_type = Object)]
    pub actor: serde_json::Value,
    /// What: `{kind, id, name}`.
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    /// One human sentence.
    pub sentence: String,
    /// Before/after and more.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The previous event's hash.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            time: time(e.time_ms),
            actor: serde_json::to_value(&e.actor).unwrap_or_default(),
            target: serde_json::to_value(&e.target).unwrap_or_default(),
            details: serde_json::from_str(&e.details)
                .unwrap_or(serde_json::Value::String(e.details)),
            id: e.id,
            seq: e.seq,
            action: e.action,
            sentence: e.sentence,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Paging.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<i64>,
    /// Only events before this `seq` (the last `seq` of the previous page).
    pub before: Option<i64>,
}

/// The organization's events, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/events", tag = "events", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"),
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 1000, default 100)"),
        ("before" = Option<i64>, Query, description = "Only events before this seq")), responses((status = 200, body = Vec<EventView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<EventView>>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let Query(page) = page.map_err(|e| ApiError::BadRequest {
        field: None,
        message: format!("query: {}", e.body_text()),
    })?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be 1 to 1000"));
    }
    let events = state.store.events(&a.org.id, limit, page.before).await?;
    Ok(Json(events.into_iter().map(Into::into).collect()))
}

/// The event routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}
