//! Fleet settings compliance for people: policies (versioned, assigned, exported), enrollment
//! tokens, machines and the fleet report.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dockwatch_core::org::Role;
use dockwatch_core::settings::{FleetFilter, Policy};
use dockwatch_store::fleet::{EnrollToken, PolicyInfo, parse_scope};
use dockwatch_store::fleet_machines::StatusChange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A policy's latest version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyView {
    /// Name.
    pub name: String,
    /// Latest version number.
    pub version: u64,
    /// SHA-256 of the latest version's canonical document.
    pub hash: String,
    /// Scopes it is assigned to.
    pub assigned: Vec<String>,
    /// When the latest version was set (RFC 3339).
    pub updated_at: String,
}

impl From<PolicyInfo> for PolicyView {
    fn from(p: PolicyInfo) -> Self {
        Self {
            name: p.name,
            version: p.version.number,
            hash: p.version.hash,
            assigned: p.assigned,
            updated_at: time(p.updated_ms),
        }
    }
}

/// A new version of a policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPolicy {
    /// The admin-settings.json document (configurationFileVersion 2, optional `x-dockwatch`).
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// Scopes to assign it to: `org`, `team:NAME`, `user:EMAIL`, `machine:ID`.
    #[serde(default)]
    pub assign: Vec<String>,
}

/// One version of a policy with its document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyVersionView {
    /// Name.
    pub name: String,
    /// Version number.
    pub version: u64,
    /// SHA-256 of the canonical document.
    pub hash: String,
    /// Who set it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// The document.
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

/// Which version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A version number; the latest when absent.
    pub version: Option<u64>,
}

/// An enrollment token (its secret only at creation).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollTokenView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Revocation time, if revoked.
    pub revoked_at: Option<String>,
    /// The secret, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<EnrollToken> for EnrollTokenView {
    fn from(t: EnrollToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: time(t.created_ms),
            revoked_at: t.revoked_ms.map(time),
            token: None,
        }
    }
}

/// A new enrollment token.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnrollToken {
    /// What it is for.
    #[serde(default)]
    pub name: Option<String>,
}

/// Report filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// A status: compliant, non-compliant, outdated, no-policy, unknown.
    pub status: Option<String>,
    /// A policy name.
    pub policy: Option<String>,
    /// A user (e-mail or account).
    pub user: Option<String>,
    /// A team name.
    pub team: Option<String>,
    /// An OS prefix.
    pub os: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// Seconds without a report before a machine is `unknown` (default: the server's
    /// `--fleet-stale-after`, 24 h).
    pub stale_after: Option<i64>,
    /// `machine` (default): one row per machine; `user`: one row per user.
    pub by: Option<String>,
}

/// Summary filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Seconds without a report before a machine is `unknown`.
    pub stale_after: Option<i64>,
}

/// Counts of machines by status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SummaryView {
    /// When it was computed (ms since the epoch).
    pub generated_at_ms: i64,
    /// The silence threshold used (ms).
    pub stale_after_ms: i64,
    /// The counts.
    #[schema(value_type = Object)]
    pub summary: dockwatch_core::settings::Summary,
}

fn stale_after_ms(state: &AppState, secs: Option<i64>) -> ApiResult<i64> {
    match secs {
        None => Ok(i64::try_from(state.config.fleet_stale_after.as_millis()).unwrap_or(i64::MAX)),
        Some(s) if s > 0 => Ok(s.saturating_mul(1000)),
        Some(_) => Err(ApiError::field(
            "stale_after",
            "must be a positive number of seconds",
        )),
    }
}

const STATUSES: &[&str] = &[
    "compliant",
    "non-compliant",
    "outdated",
    "no-policy",
    "unknown",
];

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> ApiResult<T> {
    q.map(|Query(q)| q).map_err(|e| ApiError::BadRequest {
        field: None,
        message: format!("query: {}", e.body_text()),
    })
}

/// Lists the policies.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/policies", tag = "fleet", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<PolicyView>)))]
pub async fn list_policies(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<PolicyView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let list = state.store.policies(&a.org.id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Sets the next version of a policy (creating it) and assigns it.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/fleet/policies/{name}", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("name" = String, Path, description = "Policy name")),
    request_body = SetPolicy, responses((status = 200, body = PolicyView), (status = 400, body = crate::error::ErrorBody)))]
pub async fn set_policy(
    State(state): State<AppState>,
    who: Principal,
    Path((org, name)): Path<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<PolicyView>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: SetPolicy = raw.parse()?;
    let policy = Policy::from_value(body.document).map_err(|errors| {
        let key = errors
            .0
            .first()
            .map_or_else(|| "document".to_owned(), |e| e.key.clone());
        ApiError::BadRequest {
            field: Some(format!("document.{key}")),
            message: format!("policy: {errors}"),
        }
    })?;
    let scopes = body
        .assign
        .iter()
        .map(|s| parse_scope(s))
        .collect::<Result<Vec<_>, _>>()?;
    let p = state
        .store
        .set_policy(&who.actor, &a.org, &name, &policy, &scopes)
        .await?;
    Ok(Json(p.into()))
}

/// A version of a policy with its full document.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/policies/{name}", tag = "fleet", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("name" = String, Path, description = "Policy name"),
        ("version" = Option<u64>, Query, description = "Version (default: latest)")),
    responses((status = 200, body = PolicyVersionView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    who: Principal,
    Path((org, name)): Path<(String, String)>,
    q: Result<Query<VersionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PolicyVersionView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let q = query(q)?;
    let d = state
        .store
        .policy_document(&a.org.id, &name, q.version)
        .await?;
    Ok(Json(PolicyVersionView {
        name: d.name,
        version: d.version.number,
        hash: d.version.hash,
        created_by: d.created_by,
        created_at: time(d.created_ms),
        document: d.policy.to_document(),
    }))
}

/// A version of a policy as a Docker Desktop `admin-settings.json` file.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/policies/{name}/export", tag = "fleet", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("name" = String, Path, description = "Policy name"),
        ("version" = Option<u64>, Query, description = "Version (default: latest)")),
    responses((status = 200, description = "admin-settings.json"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn export_policy(
    State(state): State<AppState>,
    who: Principal,
    Path((org, name)): Path<(String, String)>,
    q: Result<Query<VersionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let q = query(q)?;
    let d = state
        .store
        .policy_document(&a.org.id, &name, q.version)
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        d.policy.admin_settings_bytes(),
    )
        .into_response())
}

/// Lists the enrollment tokens.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/enroll-tokens", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<EnrollTokenView>)))]
pub async fn list_enroll_tokens(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<EnrollTokenView>>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let list = state.store.enroll_tokens(&a.org.id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Creates an enrollment token; its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/fleet/enroll-tokens", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = CreateEnrollToken,
    responses((status = 201, body = EnrollTokenView)))]
pub async fn create_enroll_token(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<EnrollTokenView>)> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let body: CreateEnrollToken = raw.parse()?;
    let name = body.name.unwrap_or_else(|| "agents".to_owned());
    let (t, secret) = state
        .store
        .create_enroll_token(&who.actor, &a.org, &name)
        .await?;
    let mut view = EnrollTokenView::from(t);
    view.token = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revokes an enrollment token.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/fleet/enroll-tokens/{id}", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_enroll_token(
    State(state): State<AppState>,
    who: Principal,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state
        .store
        .revoke_enroll_token(&who.actor, &a.org, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The fleet report: counts by status and one row per machine, or per user with `by=user`
/// (JSON or CSV).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/report", tag = "fleet", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"),
        ("status" = Option<String>, Query, description = "compliant, non-compliant, outdated, no-policy, unknown"),
        ("policy" = Option<String>, Query, description = "Policy name"),
        ("user" = Option<String>, Query, description = "User e-mail or account"),
        ("team" = Option<String>, Query, description = "Team name"),
        ("os" = Option<String>, Query, description = "OS prefix"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
        ("by" = Option<String>, Query, description = "machine (default) or user"),
        ("stale_after" = Option<i64>, Query, description = "Seconds without a report before unknown (default 86400)")),
    responses((status = 200, description = "the fleet report"), (status = 400, body = crate::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let q = query(q)?;
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::field(
            "status",
            format!("{s:?} is not one of {}", STATUSES.join(", ")),
        ));
    }
    let stale_after_ms = stale_after_ms(&state, q.stale_after)?;
    let filter = FleetFilter {
        status: q.status,
        policy: q.policy,
        user: q.user,
        os: q.os,
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::field(
                "format",
                format!("{other:?} is not json or csv"),
            ));
        }
    };
    let (json, text) = match q.by.as_deref() {
        None | Some("machine") => {
            let r = state
                .store
                .fleet_report(&a.org.id, &filter, q.team.as_deref(), stale_after_ms)
                .await?;
            let text = csv.then(|| r.to_csv());
            (serde_json::to_value(r), text)
        }
        Some("user") => {
            let r = state
                .store
                .fleet_user_report(&a.org.id, &filter, q.team.as_deref(), stale_after_ms)
                .await?;
            let text = csv.then(|| r.to_csv());
            (serde_json::to_value(r), text)
        }
        Some(other) => {
            return Err(ApiError::field(
                "by",
                format!("{other:?} is not machine or user"),
            ));
        }
    };
    match text {
        Some(text) => Ok(([(header::CONTENT_TYPE, "text/csv")], text).into_response()),
        None => Ok(Json(json.map_err(|e| ApiError::Internal(e.to_string()))?).into_response()),
    }
}

/// Counts of machines by status, from each machine's stored status (one indexed query: for
/// dashboards and large fleets).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/report/summary", tag = "fleet", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"),
        ("stale_after" = Option<i64>, Query, description = "Seconds without a report before unknown")),
    responses((status = 200, body = SummaryView), (status = 400, body = crate::error::ErrorBody)))]
pub async fn report_summary(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    q: Result<Query<SummaryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<SummaryView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let q = query(q)?;
    let stale_after_ms = stale_after_ms(&state, q.stale_after)?;
    let summary = state.store.fleet_summary(&a.org.id, stale_after_ms).await?;
    Ok(Json(SummaryView {
        generated_at_ms: dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock),
        stale_after_ms,
        summary,
    }))
}

/// Deletes a policy with its versions and assignments; machines it applied to fall back to
/// their next assignment or to `no-policy`.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/fleet/policies/{name}", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("name" = String, Path, description = "Policy name")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_policy(
    State(state): State<AppState>,
    who: Principal,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state.store.delete_policy(&who.actor, &a.org, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a policy's assignment to one scope (`org`, `team:NAME`, `user:EMAIL`,
/// `machine:ID`).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/fleet/policies/{name}/assignments/{scope}", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("name" = String, Path, description = "Policy name"),
        ("scope" = String, Path, description = "org, team:NAME, user:EMAIL or machine:ID")),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unassign_policy(
    State(state): State<AppState>,
    who: Principal,
    Path((org, name, scope)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    let scope = scope
        .parse()
        .map_err(|e: dockwatch_core::settings::assign::ScopeError| {
            ApiError::field("scope", e.to_string())
        })?;
    state
        .store
        .unassign_policy(&who.actor, &a.org, &name, &[scope])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A machine's status history, oldest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/fleet/machines/{id}/history", tag = "fleet", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("id" = String, Path, description = "Machine id")),
    responses((status = 200, description = "status changes"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn machine_history(
    State(state): State<AppState>,
    who: Principal,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<StatusChange>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    Ok(Json(state.store.machine_history(&a.org.id, &id).await?))
}

/// Revokes a machine's credential; its later reports are refused.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/fleet/machines/{id}", tag = "fleet", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("id" = String, Path, description = "Machine id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_machine(
    State(state): State<AppState>,
    who: Principal,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state
        .store
        .revoke_machine(&who.actor, &a.org.id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The fleet routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies))
        .routes(routes!(set_policy, get_policy, delete_policy))
        .routes(routes!(unassign_policy))
        .routes(routes!(export_policy))
        .routes(routes!(list_enroll_tokens, create_enroll_token))
        .routes(routes!(revoke_enroll_token))
        .routes(routes!(report))
        .routes(routes!(report_summary))
        .routes(routes!(machine_history))
        .routes(routes!(revoke_machine))
}
