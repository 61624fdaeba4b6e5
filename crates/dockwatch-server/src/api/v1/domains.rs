//! Domains: add (get a verification token), verify by a DNS TXT record, remove.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::Role;
use dockwatch_store::domains::Domain;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A domain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DomainView {
    /// Id.
    pub id: String,
    /// The domain name.
    pub name: String,
    /// Publish this as a TXT record at the domain, then verify.
    pub txt_record: String,
    /// Whether it is verified.
    pub verified: bool,
    /// When it was verified (RFC 3339).
    pub verified_at: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<Domain> for DomainView {
    fn from(d: Domain) -> Self {
        Self {
            id: d.id,
            name: d.name,
            txt_record: d.verification_token,
            verified: d.verified_ms.is_some(),
            verified_at: d.verified_ms.map(time),
            created_at: time(d.created_ms),
        }
    }
}

/// A domain to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDomain {
    /// The domain name (lowercase).
    pub name: String,
}

/// Lists the domains.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/domains", tag = "domains", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<DomainView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<DomainView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(
        state
            .store
            .domains(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Adds a domain; the answer holds the TXT record to publish.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains", tag = "domains", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = AddDomain,
    responses((status = 201, body = DomainView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<DomainView>)> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: AddDomain = raw.parse()?;
    let d = state
        .store
        .add_domain(&who.actor, &a.org, body.name.trim())
        .await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// A domain.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/domains/{domain}", tag = "domains", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("domain" = String, Path, description = "Domain name")),
    responses((status = 200, body = DomainView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((org, domain)): Path<(String, String)>,
) -> ApiResult<Json<DomainView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(state.store.domain(&a.org.id, &domain).await?.into()))
}

/// Removes a domain.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/domains/{domain}", tag = "domains", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("domain" = String, Path, description = "Domain name")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    who: Principal,
    Path((org, domain)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let d = state.store.domain(&a.org.id, &domain).await?;
    state.store.remove_domain(&who.actor, &a.org, &d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Verifies a domain: looks up TXT records at the domain and expects the one it was given.
/// 409 when the record is not (yet) there, 502 when DNS fails.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains/{domain}/verify", tag = "domains", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("domain" = String, Path, description = "Domain name")),
    responses((status = 200, body = DomainView), (status = 409, body = crate::error::ErrorBody), (status = 502, body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    who: Principal,
    Path((org, domain)): Path<(String, String)>,
) -> ApiResult<Json<DomainView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let d = state.store.domain(&a.org.id, &domain).await?;
    if d.verified_ms.is_some() {
        return Ok(Json(d.into()));
    }
    let records = state
        .resolver
        .txt(&d.name)
        .await
        .map_err(|e| ApiError::BadGateway(format!("DNS lookup of TXT {}: {e}", d.name)))?;
    if !records.iter().any(|r| r.trim() == d.verification_token) {
        return Err(ApiError::Conflict(format!(
            "domain {:?}: no TXT record {:?} found (found {})",
            d.name,
            d.verification_token,
            if records.is_empty() {
                "none".to_owned()
            } else {
                records.len().to_string()
            }
        )));
    }
    Ok(Json(
        state
            .store
            .mark_domain_verified(&who.actor, &a.org, &d)
            .await?
            .into(),
    ))
}

/// The domain routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(get, remove))
        .routes(routes!(verify))
}
