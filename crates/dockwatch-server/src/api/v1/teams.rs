//! Teams: create, rename, delete, and their members.

use super::members::MemberView;
use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::Role;
use dockwatch_store::teams::Team;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A team.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeamView {
    /// Id.
    pub id: String,
    /// Unique name in the organization.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Number of members.
    pub member_count: i64,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self {
            id: t.id,
            name: t.name,
            description: t.description,
            member_count: t.member_count,
            created_at: time(t.created_ms),
        }
    }
}

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Name: 1 to 64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Changes to a team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A member to add to a team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTeamMember {
    /// The organization member's user id or email.
    pub member: String,
}

/// Lists the teams.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/teams", tag = "teams", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<TeamView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<TeamView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(
        state
            .store
            .teams(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates a team.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/teams", tag = "teams", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = CreateTeam,
    responses((status = 201, body = TeamView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: CreateTeam = raw.parse()?;
    let t = state
        .store
        .create_team(&who.actor, &a.org, &body.name, &body.description)
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A team.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/teams/{team}", tag = "teams", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("team" = String, Path, description = "Team name")),
    responses((status = 200, body = TeamView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((org, team)): Path<(String, String)>,
) -> ApiResult<Json<TeamView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(state.store.team(&a.org.id, &team).await?.into()))
}

/// Renames a team or changes its description.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/teams/{team}", tag = "teams", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("team" = String, Path, description = "Team name")),
    request_body = UpdateTeam, responses((status = 200, body = TeamView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    Path((org, team)): Path<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<TeamView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: UpdateTeam = raw.parse()?;
    if body.name.is_none() && body.description.is_none() {
        return Err(ApiError::field(
            "name",
            "give name and/or description to change",
        ));
    }
    let t = state.store.team(&a.org.id, &team).await?;
    let updated = state
        .store
        .update_team(
            &who.actor,
            &a.org,
            &t,
            body.name.as_deref(),
            body.description.as_deref(),
        )
        .await?;
    Ok(Json(updated.into()))
}

/// Deletes a team (its members stay in the organization).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/teams/{team}", tag = "teams", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("team" = String, Path, description = "Team name")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path((org, team)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let t = state.store.team(&a.org.id, &team).await?;
    state.store.delete_team(&who.actor, &a.org, &t).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists a team's members.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/teams/{team}/members", tag = "teams", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("team" = String, Path, description = "Team name")),
    responses((status = 200, body = Vec<MemberView>)))]
pub async fn list_members(
    State(state): State<AppState>,
    who: Principal,
    Path((org, team)): Path<(String, String)>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let t = state.store.team(&a.org.id, &team).await?;
    Ok(Json(
        state
            .store
            .team_members(&a.org.id, &t.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Adds an organization member to a team.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/teams/{team}/members", tag = "teams", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("team" = String, Path, description = "Team name")),
    request_body = AddTeamMember, responses((status = 201, body = MemberView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    who: Principal,
    Path((org, team)): Path<(String, String)>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: AddTeamMember = raw.parse()?;
    let t = state.store.team(&a.org.id, &team).await?;
    let m = state.store.member(&a.org.id, body.member.trim()).await?;
    state
        .store
        .add_team_member(&who.actor, &a.org, &t, &m)
        .await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// Removes a member from a team.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/teams/{team}/members/{member}", tag = "teams", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("team" = String, Path, description = "Team name"), ("member" = String, Path, description = "User id or email")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    who: Principal,
    Path((org, team, member)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let t = state.store.team(&a.org.id, &team).await?;
    let m = state.store.member(&a.org.id, &member).await?;
    state
        .store
        .remove_team_member(&who.actor, &a.org, &t, &m)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
}
