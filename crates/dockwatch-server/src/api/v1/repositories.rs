//! Repositories: create, update (description, visibility), delete. Editors and owners write.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::{Role, Visibility};
use dockwatch_store::repos::Repository;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A repository.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RepositoryView {
    /// Id.
    pub id: String,
    /// Unique name in the organization.
    pub name: String,
    /// Free text.
    pub description: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<Repository> for RepositoryView {
    fn from(r: Repository) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            visibility: r.visibility.as_str().into(),
            created_at: time(r.created_ms),
            updated_at: time(r.updated_ms),
        }
    }
}

/// A new repository.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepository {
    /// Name: 1 to 64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// `public` or `private` (default: the organization's setting).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub visibility: Option<Visibility>,
}

/// Changes to a repository.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepository {
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New visibility.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub visibility: Option<Visibility>,
}

/// Lists the repositories.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/repositories", tag = "repositories", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<RepositoryView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<RepositoryView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(
        state
            .store
            .repositories(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Creates a repository.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/repositories", tag = "repositories", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name")), request_body = CreateRepository,
    responses((status = 201, body = RepositoryView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<RepositoryView>)> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let body: CreateRepository = raw.parse()?;
    let visibility = body
        .visibility
        .unwrap_or(a.org.settings.default_repository_visibility);
    let r = state
        .store
        .create_repository(
            &who.actor,
            &a.org,
            &body.name,
            &body.description,
            visibility,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// A repository.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/repositories/{repo}", tag = "repositories", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("repo" = String, Path, description = "Repository name")),
    responses((status = 200, body = RepositoryView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((org, repo)): Path<(String, String)>,
) -> ApiResult<Json<RepositoryView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(state.store.repository(&a.org.id, &repo).await?.into()))
}

/// Changes a repository's description or visibility.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/repositories/{repo}", tag = "repositories", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("repo" = String, Path, description = "Repository name")),
    request_body = UpdateRepository, responses((status = 200, body = RepositoryView)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    Path((org, repo)): Path<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<RepositoryView>> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let body: UpdateRepository = raw.parse()?;
    if body.description.is_none() && body.visibility.is_none() {
        return Err(ApiError::field(
            "visibility",
            "give description and/or visibility to change",
        ));
    }
    let r = state.store.repository(&a.org.id, &repo).await?;
    let updated = state
        .store
        .update_repository(
            &who.actor,
            &a.org,
            &r,
            body.description.as_deref(),
            body.visibility,
        )
        .await?;
    Ok(Json(updated.into()))
}

/// Deletes a repository.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/repositories/{repo}", tag = "repositories", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("repo" = String, Path, description = "Repository name")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    Path((org, repo)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let r = state.store.repository(&a.org.id, &repo).await?;
    state
        .store
        .delete_repository(&who.actor, &a.org, &r)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The repository routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}
