//! The organization's SSO connection settings and SSO enforcement (owners only).

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::{Role, check_text};
use dockwatch_store::sso::SsoConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// SSO connection settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SsoView {
    /// `saml` or `oidc`.
    pub protocol: String,
    /// Identity provider issuer / entity id.
    pub issuer: String,
    /// Where users sign in.
    pub sso_url: String,
    /// OIDC client id.
    pub client_id: String,
    /// SAML signing certificate (PEM).
    pub certificate: String,
    /// Whether members must sign in through SSO.
    pub enforced: bool,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<SsoConnection> for SsoView {
    fn from(c: SsoConnection) -> Self {
        Self {
            protocol: c.protocol,
            issuer: c.issuer,
            sso_url: c.sso_url,
            client_id: c.client_id,
            certificate: c.certificate,
            enforced: c.enforced,
            updated_at: time(c.updated_ms),
        }
    }
}

/// The connection to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSso {
    /// `saml` or `oidc`.
    pub protocol: String,
    /// Identity provider issuer / entity id.
    pub issuer: String,
    /// Where users sign in (https URL).
    pub sso_url: String,
    /// OIDC client id (required for OIDC).
    #[serde(default)]
    pub client_id: String,
    /// SAML signing certificate, PEM (required for SAML).
    #[serde(default)]
    pub certificate: String,
}

/// SSO enforcement on or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enforcement {
    /// Whether members must sign in through SSO.
    pub enforced: bool,
}

fn validate(body: &PutSso) -> ApiResult<()> {
    match body.protocol.as_str() {
        "saml" if !body.certificate.contains("BEGIN CERTIFICATE") => {
            return Err(ApiError::field(
                "certificate",
                "a SAML connection needs the IdP's PEM signing certificate",
            ));
        }
        "oidc" if body.client_id.trim().is_empty() => {
            return Err(ApiError::field(
                "client_id",
                "an OIDC connection needs a client id",
            ));
        }
        "saml" | "oidc" => {}
        _ => return Err(ApiError::field("protocol", "must be saml or oidc")),
    }
    if !body.sso_url.starts_with("https://") || body.sso_url.len() > 2000 {
        return Err(ApiError::field("sso_url", "must be an https:// URL"));
    }
    if body.issuer.trim().is_empty() {
        return Err(ApiError::field("issuer", "must not be empty"));
    }
    check_text("issuer", &body.issuer, 2000)?;
    check_text("client_id", &body.client_id, 500)?;
    check_text("certificate", &body.certificate, 20_000)?;
    Ok(())
}

impl From<dockwatch_core::org::Invalid> for ApiError {
    fn from(e: dockwatch_core::org::Invalid) -> Self {
        Self::BadRequest {
            message: e.to_string(),
            field: Some(e.field),
        }
    }
}

/// The SSO connection.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/sso", tag = "sso", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = SsoView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<SsoView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let conn =
        state.store.sso(&a.org.id).await?.ok_or_else(|| {
            ApiError::NotFound(format!("organization {org} has no SSO connection"))
        })?;
    Ok(Json(conn.into()))
}

/// Creates or replaces the SSO connection (enforcement is unchanged).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/sso", tag = "sso", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = PutSso,
    responses((status = 200, body = SsoView), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<Json<SsoView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: PutSso = raw.parse()?;
    validate(&body)?;
    let conn = SsoConnection {
        protocol: body.protocol,
        issuer: body.issuer,
        sso_url: body.sso_url,
        client_id: body.client_id,
        certificate: body.certificate,
        enforced: false,
        updated_ms: 0,
    };
    Ok(Json(
        state.store.put_sso(&who.actor, &a.org, &conn).await?.into(),
    ))
}

/// Removes the SSO connection (and its enforcement).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/sso", tag = "sso", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state.store.delete_sso(&who.actor, &a.org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns SSO enforcement on or off (needs a connection).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/sso/enforcement", tag = "sso", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = Enforcement,
    responses((status = 200, body = SsoView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn enforce(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<Json<SsoView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: Enforcement = raw.parse()?;
    Ok(Json(
        state
            .store
            .set_sso_enforced(&who.actor, &a.org, body.enforced)
            .await?
            .into(),
    ))
}

/// The SSO routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get, put, delete))
        .routes(routes!(enforce))
}
