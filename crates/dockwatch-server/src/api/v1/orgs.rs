//! Organizations and their settings.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::{OrgSettings, Role, Scope};
use dockwatch_store::orgs::Org;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// An organization as the caller sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgView {
    /// Id.
    pub id: String,
    /// Unique name (used in paths).
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// The caller's role.
    pub role: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

fn view(o: Org, role: Role) -> OrgView {
    OrgView {
        id: o.id,
        name: o.name,
        display_name: o.display_name,
        role: role.as_str().into(),
        created_at: time(o.created_ms),
    }
}

/// A new organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    /// Unique name: 1 to 64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// Human name (default: the name).
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Changes to an organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    /// New human name.
    pub display_name: String,
}

/// Organization settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsView {
    /// `public` or `private`: visibility of new repositories.
    pub default_repository_visibility: String,
    /// Days of activity log to keep; null keeps it forever.
    pub event_retention_days: Option<u32>,
    /// Whether editors may invite members.
    pub editors_can_invite: bool,
}

impl From<&OrgSettings> for SettingsView {
    fn from(s: &OrgSettings) -> Self {
        Self {
            default_repository_visibility: s.default_repository_visibility.as_str().into(),
            event_retention_days: s.event_retention_days,
            editors_can_invite: s.editors_can_invite,
        }
    }
}

/// The organizations the caller can see, with the role it acts with in each.
pub async fn visible_orgs(state: &AppState, who: &Principal) -> ApiResult<Vec<(Org, Role)>> {
    match (&who.user, &who.token) {
        (Some(user), _) => Ok(state.store.orgs_of_user(&user.id).await?),
        (None, Some(token)) => {
            let Some(org_id) = &token.org_id else {
                return Ok(Vec::new());
            };
            let role = token.max_scope().max_role();
            let all = state.store.orgs_by_id(org_id).await?;
            Ok(all.into_iter().map(|o| (o, role)).collect())
        }
        (None, None) => Err(ApiError::Unauthorized(
            "sign in or send a bearer token".into(),
        )),
    }
}

/// Lists the caller's organizations.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organizations", security(("token" = ["member"])), responses((status = 200, body = Vec<OrgView>)))]
pub async fn list(State(state): State<AppState>, who: Principal) -> ApiResult<Json<Vec<OrgView>>> {
    Ok(Json(
        visible_orgs(&state, &who)
            .await?
            .into_iter()
            .map(|(o, r)| view(o, r))
            .collect(),
    ))
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "organizations", security(("token" = ["user"])), request_body = CreateOrg,
    responses((status = 201, body = OrgView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    let user = who.require_user()?;
    let body: CreateOrg = raw.parse()?;
    who.require_scope(Scope::Admin)?;
    let display = body.display_name.as_deref().unwrap_or(&body.name);
    let org = state
        .store
        .create_org(&who.actor, user, &body.name, display)
        .await?;
    Ok((StatusCode::CREATED, Json(view(org, Role::Owner))))
}

/// An organization.
#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "organizations", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = OrgView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<OrgView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(view(a.org, a.role)))
}

/// Renames an organization (its display name; the name is its identity).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}", tag = "organizations", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = UpdateOrg, responses((status = 200, body = OrgView)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<Json<OrgView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: UpdateOrg = raw.parse()?;
    let updated = state
        .store
        .rename_org(&who.actor, &a.org, &body.display_name)
        .await?;
    Ok(Json(view(updated, a.role)))
}

/// Deletes an organization and everything in it (its activity log is kept).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}", tag = "organizations", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 204)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state.store.delete_org(&who.actor, &a.org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization's settings.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/settings", tag = "organizations", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = SettingsView)))]
pub async fn get_settings(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<SettingsView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json((&a.org.settings).into()))
}

/// Replaces the organization's settings (every field; missing ones take their defaults).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/settings", tag = "organizations", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = SettingsView,
    responses((status = 200, body = SettingsView), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<Json<SettingsView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let settings: OrgSettings = raw.parse()?;
    if settings.event_retention_days == Some(0) {
        return Err(ApiError::field(
            "event_retention_days",
            "must be at least 1, or null to keep forever",
        ));
    }
    let updated = state
        .store
        .update_org_settings(&who.actor, &a.org, &settings)
        .await?;
    Ok(Json((&updated.settings).into()))
}

/// The organization routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(get_settings, put_settings))
}
