//! Searching the organization's activity log, newest first, with cursor paging.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
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

/// Search filters and paging (every parameter optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// An exact action, or a prefix pattern such as `team.*`.
    pub action: Option<String>,
    /// The actor's id or name (email, token name).
    pub actor: Option<String>,
    /// The target's id or name.
    pub target: Option<String>,
    /// RFC 3339 time, or a duration back from now (`24h`, `7d`).
    pub since: Option<String>,
    /// RFC 3339 time, or a duration back from now.
    pub until: Option<String>,
    /// Free text in the sentence, target name or details.
    pub q: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<String>,
    /// The `x-next-cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The response header carrying the cursor of the next page (absent on the last page).
pub const NEXT_CURSOR: &str = "x-next-cursor";

/// The organization's events matching the filters, newest first; the next page's cursor is in
/// the `x-next-cursor` header.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/events", tag = "events", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"),
        ("action" = Option<String>, Query, description = "Exact action or prefix pattern (team.*)"),
        ("actor" = Option<String>, Query, description = "Actor id or name"),
        ("target" = Option<String>, Query, description = "Target id or name"),
        ("since" = Option<String>, Query, description = "RFC 3339 or relative (24h, 7d)"),
        ("until" = Option<String>, Query, description = "RFC 3339 or relative (24h, 7d)"),
        ("q" = Option<String>, Query, description = "Free text"),
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 1000, default 100)"),
        ("cursor" = Option<String>, Query, description = "x-next-cursor of the previous page")),
    responses((status = 200, body = Vec<EventView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let Query(params) = params.map_err(super::events_filter::query_rejection)?;
    let limit = super::events_filter::limit(params.limit.as_deref())?;
    let filter = super::events_filter::filter(&params)?;
    let cursor = params
        .cursor
        .as_deref()
        .map(super::events_filter::decode_cursor)
        .transpose()?;
    let events = state
        .store
        .search_events(&a.org.id, &filter, cursor.as_ref(), limit)
        .await?;
    let next = (events.len() as i64 == limit)
        .then(|| events.last().map(super::events_filter::encode_cursor))
        .flatten();
    let views: Vec<EventView> = events.into_iter().map(Into::into).collect();
    let mut response = Json(views).into_response();
    if let Some(next) = next
        && let Ok(value) = axum::http::HeaderValue::from_str(&next)
    {
        response.headers_mut().insert(NEXT_CURSOR, value);
    }
    Ok(response)
}

/// The event routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}
