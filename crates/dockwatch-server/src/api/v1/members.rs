//! Organization members: list, show, change role, remove.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::Role;
use dockwatch_store::members::Member;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// `owner`, `editor` or `member`.
    pub role: String,
    /// When they joined (RFC 3339).
    pub joined_at: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role.as_str().into(),
            joined_at: time(m.joined_ms),
        }
    }
}

/// A role change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// `owner`, `editor` or `member`.
    #[schema(value_type = String)]
    pub role: Role,
}

/// Lists the members.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members", tag = "members", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<MemberView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(
        state
            .store
            .members(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A member, by user id or email.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{member}", tag = "members", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("member" = String, Path, description = "User id or email")),
    responses((status = 200, body = MemberView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Json<MemberView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(state.store.member(&a.org.id, &member).await?.into()))
}

/// Changes a member's role. The last owner cannot be demoted.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/members/{member}", tag = "members", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("member" = String, Path, description = "User id or email")),
    request_body = ChangeRole, responses((status = 200, body = MemberView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    who: Principal,
    Path((org, member)): Path<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<MemberView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: ChangeRole = raw.parse()?;
    let m = state.store.member(&a.org.id, &member).await?;
    Ok(Json(
        state
            .store
            .change_role(&who.actor, &a.org, &m, body.role)
            .await?
            .into(),
    ))
}

/// Removes a member (owners remove anyone; anyone may leave). The last owner cannot leave.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/members/{member}", tag = "members", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("member" = String, Path, description = "User id or email")),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    who: Principal,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let leaving = who
        .user
        .as_ref()
        .is_some_and(|u| u.id == member || u.email == member);
    let a = org_access(
        &state,
        &who,
        &org,
        if leaving { Role::Member } else { Role::Owner },
    )
    .await?;
    let m = state.store.member(&a.org.id, &member).await?;
    state.store.remove_member(&who.actor, &a.org, &m).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get, change_role, remove))
}
