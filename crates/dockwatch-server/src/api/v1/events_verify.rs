//! Verifying an organization's activity-log chain server-side, and the SIEM pull feed in
//! ascending chain order.

use super::events::EventView;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use dockwatch_core::org::Role;
use dockwatch_store::events_query::VerifyMode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The outcome of walking the chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerifyView {
    /// The organization's name.
    pub org: String,
    /// Whether every event hashes correctly and links to the one before it.
    pub ok: bool,
    /// Events checked (up to the first bad one).
    pub events: i64,
    /// The newest event's hash, when the chain holds.
    pub head_hash: Option<String>,
    /// The signed checkpoint the walk started after, if any.
    pub checkpoint_seq: Option<i64>,
    /// The first bad event's id, when it does not.
    pub first_bad_id: Option<String>,
    /// The first bad event's sequence number.
    pub first_bad_seq: Option<i64>,
    /// What is wrong, in one sentence.
    pub message: String,
}

/// Verification options.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyParams {
    /// `true`: walk every retained event, ignoring periodic checkpoints.
    pub full: Option<String>,
}

/// Walks the organization's chain from its latest valid signed checkpoint (`full=true`: every
/// retained event), recomputing each hash; names the first bad event or forged checkpoint.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/events/verify", tag = "events", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"),
        ("full" = Option<bool>, Query, description = "Walk every retained event")),
    responses((status = 200, body = VerifyView)))]
pub async fn verify(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    params: Result<Query<VerifyParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<VerifyView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let Query(params) = params.map_err(super::events_filter::query_rejection)?;
    let mode = match params.full.as_deref() {
        None | Some("") | Some("false") => VerifyMode::FromCheckpoint,
        Some("true") => VerifyMode::Full,
        Some(other) => {
            return Err(ApiError::field("full", format!("{other:?}: true or false")));
        }
    };
    let view = match state.store.verify_events_mode(&a.org.id, mode).await? {
        Ok(chain) => VerifyView {
            org: a.org.name.clone(),
            ok: true,
            events: chain.events,
            message: match chain.from_checkpoint {
                Some(seq) => format!(
                    "{} events after the signed checkpoint at seq {seq}, the chain holds up to seq {}",
                    chain.events, chain.head_seq
                ),
                None => format!("{} events, the chain holds", chain.events),
            },
            head_hash: Some(chain.head_hash),
            checkpoint_seq: chain.from_checkpoint,
            first_bad_id: None,
            first_bad_seq: None,
        },
        Err(bad) => {
            let (id, seq) = bad.position();
            VerifyView {
                org: a.org.name.clone(),
                ok: false,
                events: 0,
                head_hash: None,
                checkpoint_seq: None,
                first_bad_id: Some(id),
                first_bad_seq: Some(seq),
                message: bad.to_string(),
            }
        }
    };
    Ok(Json(view))
}

/// Feed paging.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// The `next` of the previous answer (absent: from the first event).
    pub after: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<String>,
}

/// One feed page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedPage {
    /// Events in ascending chain order.
    pub events: Vec<EventView>,
    /// Pass as `after` next time; unchanged when nothing new arrived.
    pub next: String,
}

/// Events after a cursor in ascending, stable chain order: a poller storing `next` never misses
/// or repeats an event across restarts.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/events/feed", tag = "events", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"),
        ("after" = Option<String>, Query, description = "The next of the previous page"),
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 1000, default 100)")),
    responses((status = 200, body = FeedPage)))]
pub async fn feed(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    params: Result<Query<FeedParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<FeedPage>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let Query(params) = params.map_err(super::events_filter::query_rejection)?;
    let limit = super::events_filter::limit(params.limit.as_deref())?;
    // The feed cursor is the chain's sequence number: dense, per organization, never reused.
    let after = match params.after.as_deref() {
        None | Some("") => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::field("after", format!("{text:?} is not a feed cursor")))?,
    };
    let events = state
        .store
        .events_after_seq(&a.org.id, after, limit)
        .await?;
    let next = events.last().map_or(after, |e| e.seq).to_string();
    Ok(Json(FeedPage {
        events: events.into_iter().map(Into::into).collect(),
        next,
    }))
}

/// The verify and feed routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(feed))
}
