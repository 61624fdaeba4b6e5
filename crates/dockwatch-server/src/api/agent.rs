//! The agent endpoints (`/api/v1/agent/*`): enrollment with an organization's enrollment token,
//! then requests signed with the per-machine credential (`dockwatch_core::settings::wire`).
//! They never take user tokens; without their own credentials they answer 401.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientInfo, parse_json};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use dockwatch_core::settings::report::{MAX_REPORT_BYTES, is_email};
use dockwatch_core::settings::wire::{
    self, AssignedPolicy, EnrollRequest, EnrollResponse, MAX_CLOCK_SKEW_SECS, PolicyResponse,
    ReportResponse, SignatureError, SignedHeaders,
};
use dockwatch_core::settings::{MachineReport, ReportError};
use dockwatch_core::{Clock, SystemClock};
use dockwatch_store::fleet_machines::Machine;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Checks a signed request: the machine, its credential, the signature and the timestamp.
/// The nonce is consumed separately, once the request is otherwise acceptable.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> ApiResult<(Machine, SignedHeaders)> {
    if !headers.contains_key(wire::HEADER_SIGNATURE) && !headers.contains_key(wire::HEADER_MACHINE)
    {
        return Err(ApiError::Unauthorized(format!(
            "sign the request with the machine credential ({} and {} headers)",
            wire::HEADER_MACHINE,
            wire::HEADER_SIGNATURE
        )));
    }
    let signed = SignedHeaders::from_lookup(|n| headers.get(n).and_then(|v| v.to_str().ok()))
        .map_err(|e| match e {
            SignatureError::Missing(h) | SignatureError::Malformed(h) => {
                ApiError::field(h, e.to_string())
            }
            other => ApiError::Unauthorized(other.to_string()),
        })?;
    let machine = match state.store.machine(&signed.machine_id).await {
        Ok(m) => m,
        Err(dockwatch_store::StoreError::NotFound { .. }) => {
            return Err(ApiError::Unauthorized(format!(
                "unknown machine {:?}; enroll again",
                signed.machine_id
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if machine.revoked_ms.is_some() {
        return Err(ApiError::Unauthorized(format!(
            "machine {} was revoked; enroll again",
            machine.id
        )));
    }
    wire::verify(
        &machine.credential,
        method,
        path,
        &signed,
        body,
        SystemClock.now_millis() / 1000,
    )
    .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    Ok((machine, signed))
}

/// Refuses a nonce this machine already used within the skew window.
async fn consume_nonce(state: &AppState, signed: &SignedHeaders) -> ApiResult<()> {
    let expires = (signed.timestamp + 2 * MAX_CLOCK_SKEW_SECS) * 1000;
    if !state
        .store
        .use_nonce(&signed.machine_id, &signed.nonce, expires)
        .await?
    {
        return Err(ApiError::Unauthorized(format!(
            "{}: replayed nonce",
            wire::HEADER_NONCE
        )));
    }
    Ok(())
}

/// Trades an enrollment token for a machine id and credential.
#[utoipa::path(post, path = "/api/v1/agent/enroll", tag = "agent", security(("agent" = ["enroll-token"])),
    responses((status = 201, description = "machine id and credential"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn enroll(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<EnrollResponse>)> {
    let value: serde_json::Value = parse_json(&body)?;
    if !value
        .get("enrollment_token")
        .is_some_and(serde_json::Value::is_string)
    {
        return Err(ApiError::Unauthorized(
            "enrollment_token: send the organization's enrollment token".into(),
        ));
    }
    let request: EnrollRequest = parse_json(&body)?;
    let enrolled = state
        .store
        .enroll_machine(&request)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown or revoked enrollment token".into()))?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollResponse {
            machine_id: enrolled.machine_id,
            credential: enrolled.credential,
            org: enrolled.org,
        }),
    ))
}

/// The policy fetch's query.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyQuery {
    /// The signed-in user's e-mail address.
    pub user: Option<String>,
}

/// This machine's effective policy (`null` when none is assigned): that of the signed-in user
/// named by `user`, else of the signed-in user of its last report, else the machine's own.
#[utoipa::path(get, path = "/api/v1/agent/policy", tag = "agent", security(("agent" = ["signed"])),
    params(("user" = Option<String>, Query, description = "The signed-in user's e-mail address")),
    responses((status = 200, description = "the effective policy"), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn policy(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    q: Result<Query<PolicyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PolicyResponse>> {
    // The signature covers the path with its query, exactly as sent (these routes are merged,
    // not nested, so this is the full path).
    let signed_path = uri
        .path_and_query()
        .map_or(wire::POLICY_PATH, |p| p.as_str());
    let (machine, signed) = authenticate(&state, &headers, "GET", signed_path, b"").await?;
    let Query(q) = q.map_err(|e| ApiError::BadRequest {
        field: None,
        message: format!("query: {}", e.body_text()),
    })?;
    if let Some(u) = &q.user
        && !is_email(u)
    {
        return Err(ApiError::field(
            "user",
            format!("expected an e-mail address, found {u:?}"),
        ));
    }
    consume_nonce(&state, &signed).await?;
    let policy = state
        .store
        .machine_policy(&machine, q.user.as_deref())
        .await?
        .map(|p| AssignedPolicy {
            name: p.name,
            version: p.version,
            scope: p.scope,
            document: p.policy.to_document(),
        });
    Ok(Json(PolicyResponse { policy }))
}

/// Takes a machine's report and answers its compliance status.
#[utoipa::path(post, path = "/api/v1/agent/report", tag = "agent", security(("agent" = ["signed"])),
    responses((status = 202, description = "status after the report"), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 413, description = "report too large")))]
pub async fn report(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ReportResponse>)> {
    let (machine, signed) =
        authenticate(&state, &headers, "POST", wire::REPORT_PATH, &body).await?;
    let report = MachineReport::from_json(&body).map_err(|e| match &e {
        ReportError::TooLarge { .. } => ApiError::TooLarge(format!("body: {e}")),
        _ => ApiError::BadRequest {
            field: Some("body".into()),
            message: format!("report: {e}"),
        },
    })?;
    consume_nonce(&state, &signed).await?;
    let ingested = state
        .store
        .ingest_report(&machine, &report, client.ip, client.user_agent)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportResponse {
            received_at_ms: SystemClock.now_millis(),
            status: ingested.status.as_str().to_owned(),
            policy_version: ingested.policy_version,
        }),
    ))
}

/// The agent routes, with a body limit that fits the largest valid report.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll))
        .routes(routes!(policy))
        .routes(routes!(report))
        .layer(DefaultBodyLimit::max(MAX_REPORT_BYTES + 1024))
}
