//! Organization access tokens (owner only); the token views shared with personal tokens.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::{Role, Scope};
use dockwatch_store::tokens::AccessToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A token as listed (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// Id (used to revoke it).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// `personal` or `organization`.
    pub kind: String,
    /// `read`, `write`, `admin`.
    pub scopes: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Expiry (RFC 3339), if any.
    pub expires_at: Option<String>,
}

impl From<AccessToken> for TokenView {
    fn from(t: AccessToken) -> Self {
        Self {
            kind: if t.org_id.is_some() {
                "organization"
            } else {
                "personal"
            }
            .into(),
            scopes: t.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: time(t.created_ms),
            expires_at: t.expires_ms.map(time),
            id: t.id,
            name: t.name,
        }
    }
}

/// A new token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What it is for.
    pub name: String,
    /// Any of `read`, `write`, `admin` (default `read`).
    #[serde(default = "default_scopes")]
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// Expiry as an RFC 3339 time.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Expiry in days from now (instead of `expires_at`).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

fn default_scopes() -> Vec<Scope> {
    vec![Scope::Read]
}

impl CreateToken {
    /// The expiry in ms, from either field.
    pub fn expires_ms(&self) -> ApiResult<Option<i64>> {
        match (&self.expires_at, self.expires_in_days) {
            (Some(_), Some(_)) => Err(ApiError::field(
                "expires_at",
                "give expires_at or expires_in_days, not both",
            )),
            (Some(t), None) => super::parse_time("expires_at", t).map(Some),
            (None, Some(0)) => Err(ApiError::field("expires_in_days", "must be at least 1")),
            (None, Some(days)) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                Ok(Some(now + i64::from(days) * 86_400_000))
            }
            (None, None) => Ok(None),
        }
    }
}

/// A token just created: its only appearance with the secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: TokenView,
    /// The secret to send as `Authorization: Bearer <secret>`; shown this once.
    pub secret: String,
}

/// Lists the organization's tokens.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/tokens", tag = "tokens", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<TokenView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    Ok(Json(
        state
            .store
            .org_tokens(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates an organization token; the secret is in the answer only.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/tokens", tag = "tokens", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: CreateToken = raw.parse()?;
    let expires = body.expires_ms()?;
    let (token, secret) = state
        .store
        .create_org_token(&who.actor, &a.org, &body.name, &body.scopes, expires)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret,
        }),
    ))
}

/// Revokes an organization token.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/tokens/{token_id}", tag = "tokens", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("token_id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: Principal,
    Path((org, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state
        .store
        .revoke_org_token(&who.actor, &a.org, &token_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization token routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}
