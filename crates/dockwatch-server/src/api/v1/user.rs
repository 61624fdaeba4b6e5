//! The calling user (`/user`) and their personal access tokens.

use super::tokens::{CreateToken, CreatedToken, TokenView};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Who the credentials belong to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// `user` or `organization-token`.
    pub kind: String,
    /// The user, for users.
    pub user: Option<UserView>,
    /// The organizations visible to these credentials, with the role used in each.
    pub organizations: Vec<OrgRole>,
}

/// A user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
}

/// An organization and a role in it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgRole {
    /// Organization name.
    pub name: String,
    /// `owner`, `editor` or `member`.
    pub role: String,
}

/// The caller and their organizations.
#[utoipa::path(get, path = "/api/v1/user", tag = "user", security(("token" = ["member"])), responses((status = 200, body = Me)))]
pub async fn me(State(state): State<AppState>, who: Principal) -> ApiResult<Json<Me>> {
    let orgs = super::orgs::visible_orgs(&state, &who).await?;
    let organizations = orgs
        .into_iter()
        .map(|(o, r)| OrgRole {
            name: o.name,
            role: r.as_str().into(),
        })
        .collect();
    Ok(Json(Me {
        kind: if who.user.is_some() {
            "user"
        } else {
            "organization-token"
        }
        .into(),
        user: who.user.map(|u| UserView {
            id: u.id,
            email: u.email,
            name: u.name,
        }),
        organizations,
    }))
}

/// The caller's personal tokens.
#[utoipa::path(get, path = "/api/v1/user/tokens", tag = "user", security(("token" = ["user"])), responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<TokenView>>> {
    let user = who.require_user()?;
    Ok(Json(
        state
            .store
            .personal_tokens(&user.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates a personal token acting as the caller (capped by its scopes); the secret is in the
/// answer only. A token can only create tokens with scopes it has itself.
#[utoipa::path(post, path = "/api/v1/user/tokens", tag = "user", security(("token" = ["user"])), request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = who.require_user()?;
    let body: CreateToken = raw.parse()?;
    who.require_scope(body.scopes.iter().copied().max().unwrap_or(Scope::Read))?;
    let expires = body.expires_ms()?;
    let (token, secret) = state
        .store
        .create_personal_token(&who.actor, user, &body.name, &body.scopes, expires)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret,
        }),
    ))
}

/// Revokes one of the caller's personal tokens.
#[utoipa::path(delete, path = "/api/v1/user/tokens/{token_id}", tag = "user", security(("token" = ["user"])),
    params(("token_id" = String, Path, description = "Token id")), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let user = who.require_user()?;
    state
        .store
        .revoke_personal_token(&who.actor, &user.id, &token_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// The current password (omit only if the account has none, as the bootstrap owner).
    #[serde(default)]
    pub current_password: Option<String>,
    /// The new password (at least 8 characters).
    pub password: String,
}

/// Sets the caller's password (ends their other sessions).
#[utoipa::path(put, path = "/api/v1/user/password", tag = "user", security(("token" = ["user"])), request_body = SetPassword,
    responses((status = 204), (status = 400, body = crate::error::ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    who: Principal,
    raw: JsonBody,
) -> ApiResult<StatusCode> {
    let user = who.require_user()?;
    who.require_scope(Scope::Admin)?;
    let body: SetPassword = raw.parse()?;
    state
        .store
        .set_password(
            &who.actor,
            user,
            body.current_password.as_deref(),
            &body.password,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(set_password))
}
