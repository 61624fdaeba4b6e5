//! API v1: one module per resource, each with its `routes()`; the OpenAPI document is collected
//! from the same calls, so it cannot drift from the router.

pub mod advisories;
pub mod alerts;
pub mod domains;
pub mod events;
pub mod events_actions;
pub mod events_export;
pub mod events_filter;
pub mod events_verify;
pub mod fleet;
pub mod images;
pub mod invitations;
pub mod members;
pub mod orgs;
pub mod repositories;
pub mod session;
pub mod sso;
pub mod teams;
pub mod tokens;
pub mod user;

use crate::AppState;
use crate::openapi::ApiDoc;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Routes that answer without credentials: sign-in, sign-up, accepting an invitation.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::routes())
        .merge(invitations::public_routes())
        .merge(crate::api::agent::routes())
}

/// Everything else; wrapped in the authentication middleware.
fn protected_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(user::routes())
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(invitations::routes())
        .merge(teams::routes())
        .merge(repositories::routes())
        .merge(tokens::routes())
        .merge(sso::routes())
        .merge(domains::routes())
        .merge(events::routes())
        .merge(fleet::routes())
        .merge(events_verify::routes())
        .merge(events_actions::routes())
        .merge(events_export::routes())
        .merge(alerts::routes())
        .merge(images::routes())
        .merge(advisories::routes())
}

/// The v1 router, with authentication checked before any handler or extractor runs.
pub fn router(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let protected = protected_routes().layer(axum::middleware::from_fn_with_state(
        state,
        crate::auth::require_auth,
    ));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public_routes())
        .merge(protected)
        .split_for_parts()
}

/// The v1 OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(public_routes())
        .merge(protected_routes())
        .into_openapi()
}

/// RFC 3339 UTC time with milliseconds from ms since the epoch.
pub fn time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// Parses an RFC 3339 time into ms since the epoch, naming `field` on error.
pub fn parse_time(field: &str, text: &str) -> crate::error::ApiResult<i64> {
    let t = humantime::parse_rfc3339_weak(text).map_err(|e| {
        crate::error::ApiError::field(field, format!("{text:?} is not an RFC 3339 time: {e}"))
    })?;
    Ok(t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0))
}
