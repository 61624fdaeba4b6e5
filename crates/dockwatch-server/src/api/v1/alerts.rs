//! Alerts: channels (settings sealed at rest, shown redacted), rules, and the delivery log.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dockwatch_alert::{ChannelConfig, RuleSpec, build};
use dockwatch_core::org::Role;
use dockwatch_store::alerts::{AlertChannel, OutboxRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A channel, its secrets redacted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelView {
    /// Id.
    pub id: String,
    /// Unique name in the organization.
    pub name: String,
    /// `slack`, `webhook`, `splunk-hec`, `sentinel` or `syslog`.
    pub kind: String,
    /// Settings with every secret replaced by `[redacted]`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// The circuit breaker of the endpoint it sends to (this server's view).
    pub breaker: BreakerView,
}

/// An endpoint's circuit breaker: `open` after consecutive failures, deliveries wait (their
/// attempts are not used up) until one probe goes (`half-open`); a success closes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BreakerView {
    /// `closed`, `open` or `half-open`.
    pub state: String,
    /// Scheme, host and port it guards, once the channel has sent.
    pub endpoint: Option<String>,
    /// Consecutive retriable failures.
    pub consecutive_failures: u32,
    /// While open: when the probe may go (RFC 3339).
    pub open_until: Option<String>,
}

/// A new channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// Name: 1 to 64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// Settings, tagged by `kind` (see docs/alerts.md).
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// What the receiver answered to a test event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestResult {
    /// Whether it was accepted.
    pub delivered: bool,
    /// The receiver's HTTP status, if any.
    pub status: Option<u16>,
    /// How long it took.
    pub latency_ms: u64,
    /// The start of the answer, or what went wrong.
    pub response_excerpt: String,
}

/// A rule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RuleView {
    /// Id.
    pub id: String,
    /// Unique name in the organization.
    pub name: String,
    /// Action patterns (`team.*`).
    #[serde(rename = "match")]
    pub patterns: Vec<String>,
    /// Channel names.
    pub channels: Vec<String>,
    /// Only events about this repository.
    pub repository: Option<String>,
    /// Only events at least this serious.
    pub min_severity: Option<String>,
    /// Only events about this team.
    pub team: Option<String>,
    /// At most `max` deliveries per channel in each fixed `window_secs` window; the rest go in
    /// one summary when the window ends.
    pub throttle: Option<ThrottleView>,
    /// Matching events are sent as one digest per channel every this many minutes.
    pub digest_minutes: Option<u32>,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// A rule's throttle.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottleView {
    /// Deliveries allowed per window and channel (at least 1).
    pub max: u32,
    /// The window, in seconds (at least 1).
    pub window_secs: u64,
}

/// A new rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRule {
    /// Name.
    pub name: String,
    /// Action patterns; an event matching any of them matches.
    #[serde(rename = "match")]
    pub patterns: Vec<String>,
    /// Channel names.
    pub channels: Vec<String>,
    /// Only events about this repository (`acme/api`, `acme/*`).
    #[serde(default)]
    pub repository: Option<String>,
    /// Only events at least this serious.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Only events about this team.
    #[serde(default)]
    pub team: Option<String>,
    /// At most `max` deliveries per channel per `window_secs`; the rest are summarised.
    #[serde(default)]
    pub throttle: Option<ThrottleView>,
    /// Send one digest per channel every this many minutes instead of each event.
    #[serde(default)]
    pub digest_minutes: Option<u32>,
}

/// One delivery and its state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// The delivery id, the same on every attempt (`webhook-id`).
    pub id: String,
    /// Channel name (empty if it was removed).
    pub channel: String,
    /// The activity-log events it carries.
    pub event_ids: Vec<String>,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it is next due (pending only).
    pub next_attempt_at: Option<String>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// The last attempt's latency.
    pub last_latency_ms: Option<i64>,
    /// The start of the last answer, or what went wrong.
    pub last_excerpt: Option<String>,
    /// Why it was dead-lettered.
    pub reason: Option<String>,
    /// When it was queued (RFC 3339).
    pub created_at: String,
}

/// Delivery log filters.
#[derive(Debug, Deserialize)]
pub struct DeliveryFilter {
    /// Channel name.
    pub channel: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub status: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

fn channel_view(state: &AppState, c: &AlertChannel) -> ChannelView {
    let config = crate::alert::worker::open_config(state, &c.config)
        .map(|cfg| cfg.redacted())
        .unwrap_or_else(|e| serde_json::json!({ "error": e }));
    ChannelView {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind.clone(),
        config,
        created_at: time(c.created_ms),
        breaker: breaker_view(state.alert_health.status(&c.id)),
    }
}

fn breaker_view(b: crate::alert::health::BreakerStatus) -> BreakerView {
    BreakerView {
        state: b.state.to_owned(),
        endpoint: b.endpoint,
        consecutive_failures: b.consecutive_failures,
        open_until: b
            .open_until
            .map(|t| time(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))),
    }
}

/// Lists the channels.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/alerts/channels", tag = "alerts", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<ChannelView>)))]
pub async fn list_channels(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<ChannelView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let channels = state.store.alert_channels(&a.org.id).await?;
    Ok(Json(
        channels.iter().map(|c| channel_view(&state, c)).collect(),
    ))
}

/// Adds a channel; its settings are checked, then sealed.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/alerts/channels", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name")), request_body = CreateChannel,
    responses((status = 201, body = ChannelView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<ChannelView>)> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let body: CreateChannel = raw.parse()?;
    let config: ChannelConfig = serde_json::from_value(body.config)
        .map_err(|e| ApiError::field("config", e.to_string()))?;
    config
        .validate(&state.alert_context.policy)
        .map_err(|e| ApiError::field("config", e.to_string()))?;
    let plain = serde_json::to_string(&config).map_err(|e| ApiError::Internal(e.to_string()))?;
    let c = state
        .store
        .create_alert_channel(
            &who.actor,
            &a.org.id,
            &body.name,
            config.kind().as_str(),
            &state.seal_key.seal(&plain),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(channel_view(&state, &c))))
}

/// A channel.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/alerts/channels/{channel}", tag = "alerts", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"), ("channel" = String, Path, description = "Channel name")),
    responses((status = 200, body = ChannelView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_channel(
    State(state): State<AppState>,
    who: Principal,
    Path((org, channel)): Path<(String, String)>,
) -> ApiResult<Json<ChannelView>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let c = state.store.alert_channel(&a.org.id, &channel).await?;
    Ok(Json(channel_view(&state, &c)))
}

/// Removes a channel; its queued deliveries are dead-lettered.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/alerts/channels/{channel}", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("channel" = String, Path, description = "Channel name")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    who: Principal,
    Path((org, channel)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let c = state.store.alert_channel(&a.org.id, &channel).await?;
    state.store.delete_alert_channel(&who.actor, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A secret rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// The new secret (webhook signing secret, Splunk HEC token, Sentinel client secret). A
    /// webhook keeps its current secret as `previous_secret`, so both sign until `finish`.
    #[serde(default)]
    pub secret: Option<String>,
    /// Webhook: drop `previous_secret`, ending the rotation.
    #[serde(default)]
    pub finish: bool,
}

/// Rotates a channel's secret: a webhook signs with both secrets until the rotation finishes.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/alerts/channels/{channel}/rotate-secret", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("channel" = String, Path, description = "Channel name")),
    request_body = RotateSecret,
    responses((status = 200, body = ChannelView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    who: Principal,
    Path((org, channel)): Path<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<ChannelView>> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let body: RotateSecret = raw.parse()?;
    let c = state.store.alert_channel(&a.org.id, &channel).await?;
    let config =
        crate::alert::worker::open_config(&state, &c.config).map_err(ApiError::Internal)?;
    let mut value = serde_json::to_value(&config).map_err(|e| ApiError::Internal(e.to_string()))?;
    let key = match config.kind() {
        dockwatch_alert::ChannelKind::Webhook => "secret",
        dockwatch_alert::ChannelKind::SplunkHec => "token",
        dockwatch_alert::ChannelKind::Sentinel => "client_secret",
        other => {
            return Err(ApiError::field(
                "secret",
                format!("a {} channel has no secret to rotate", other.as_str()),
            ));
        }
    };
    let webhook = key == "secret";
    let summary = match (body.secret, body.finish) {
        (Some(_), true) => {
            return Err(ApiError::field(
                "finish",
                "give either a new secret or finish, not both",
            ));
        }
        (None, false) => {
            return Err(ApiError::field("secret", "give the new secret (or finish)"));
        }
        (None, true) if !webhook => {
            return Err(ApiError::field(
                "finish",
                "only webhook channels keep a previous secret",
            ));
        }
        (None, true) => {
            value["previous_secret"] = serde_json::Value::Null;
            "finished the secret rotation"
        }
        (Some(new), false) => {
            if webhook {
                value["previous_secret"] = value[key].clone();
            }
            value[key] = serde_json::Value::String(new);
            "rotated the secret"
        }
    };
    let config: ChannelConfig =
        serde_json::from_value(value).map_err(|e| ApiError::field("secret", e.to_string()))?;
    config
        .validate(&state.alert_context.policy)
        .map_err(|e| ApiError::field("secret", e.to_string()))?;
    let plain = serde_json::to_string(&config).map_err(|e| ApiError::Internal(e.to_string()))?;
    let c = state
        .store
        .rotate_alert_channel_secret(&who.actor, &c, &state.seal_key.seal(&plain), summary)
        .await?;
    Ok(Json(channel_view(&state, &c)))
}

/// Sends a synthetic `alert.test` event and reports the receiver's answer.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/alerts/channels/{channel}/test", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("channel" = String, Path, description = "Channel name")),
    responses((status = 200, body = TestResult), (status = 404, body = crate::error::ErrorBody)))]
pub async fn test_channel(
    State(state): State<AppState>,
    who: Principal,
    Path((org, channel)): Path<(String, String)>,
) -> ApiResult<Json<TestResult>> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let c = state.store.alert_channel(&a.org.id, &channel).await?;
    let config =
        crate::alert::worker::open_config(&state, &c.config).map_err(ApiError::Internal)?;
    let ch = build(&config, &state.alert_context)
        .map_err(|e| ApiError::field("config", e.to_string()))?;
    let outcome = ch.test(&a.org.name).await;
    Ok(Json(TestResult {
        delivered: outcome.decision.is_delivered(),
        status: outcome.status,
        latency_ms: outcome.latency.as_millis() as u64,
        response_excerpt: outcome.response_excerpt,
    }))
}

async fn channel_names(
    state: &AppState,
    org_id: &str,
) -> ApiResult<std::collections::HashMap<String, String>> {
    Ok(state
        .store
        .alert_channels(org_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Lists the rules.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/alerts/rules", tag = "alerts", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<RuleView>)))]
pub async fn list_rules(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<RuleView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    let names = channel_names(&state, &a.org.id).await?;
    let rules = state.store.alert_rules(&a.org.id).await?;
    Ok(Json(
        rules
            .into_iter()
            .map(|r| rule_view(&r.spec, r.created_ms, &names))
            .collect(),
    ))
}

fn rule_view(
    s: &RuleSpec,
    created_ms: i64,
    names: &std::collections::HashMap<String, String>,
) -> RuleView {
    RuleView {
        id: s.id.clone(),
        name: s.name.clone(),
        patterns: s.patterns.iter().map(ToString::to_string).collect(),
        channels: s
            .channels
            .iter()
            .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
            .collect(),
        repository: s.repository.clone(),
        min_severity: s.min_severity.map(|m| m.as_str().to_owned()),
        team: s.team.clone(),
        throttle: s.throttle.map(|t| ThrottleView {
            max: t.max,
            window_secs: t.window_secs,
        }),
        digest_minutes: s.digest_minutes,
        created_at: time(created_ms),
    }
}

/// Adds a rule: events whose action matches go to its channels.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/alerts/rules", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name")), request_body = CreateRule,
    responses((status = 201, body = RuleView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<RuleView>)> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    let body: CreateRule = raw.parse()?;
    let names = channel_names(&state, &a.org.id).await?;
    let mut channels = Vec::new();
    for name in &body.channels {
        let id = names
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| ApiError::field("channels", format!("no channel named {name:?}")))?;
        channels.push(id);
    }
    let spec = serde_json::json!({
        "id": "",
        "name": body.name,
        "match": body.patterns,
        "channels": channels,
        "repository": body.repository,
        "min_severity": body.min_severity,
        "team": body.team,
        "throttle": body.throttle,
        "digest_minutes": body.digest_minutes,
    });
    let spec: RuleSpec =
        serde_json::from_value(spec).map_err(|e| ApiError::field("rule", e.to_string()))?;
    let r = state
        .store
        .create_alert_rule(&who.actor, &a.org.id, spec)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(rule_view(&r.spec, r.created_ms, &names)),
    ))
}

/// Removes a rule.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/alerts/rules/{rule}", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("rule" = String, Path, description = "Rule name")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    who: Principal,
    Path((org, rule)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    state
        .store
        .delete_alert_rule(&who.actor, &a.org.id, &rule)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn delivery_view(d: OutboxRow, names: &std::collections::HashMap<String, String>) -> DeliveryView {
    DeliveryView {
        channel: names.get(&d.channel_id).cloned().unwrap_or_default(),
        next_attempt_at: (d.status == "pending").then(|| time(d.next_attempt_ms)),
        created_at: time(d.created_ms),
        id: d.id,
        event_ids: d.event_ids,
        status: d.status,
        attempts: d.attempts,
        last_status: d.last_status,
        last_latency_ms: d.last_latency_ms,
        last_excerpt: d.last_excerpt,
        reason: d.reason,
    }
}

/// The delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/alerts/deliveries", tag = "alerts", security(("token" = ["member"])),
    params(("org" = String, Path, description = "Organization name"),
        ("channel" = Option<String>, Query, description = "Only this channel's"),
        ("status" = Option<String>, Query, description = "pending, delivered or dead"),
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 1000, default 100)")),
    responses((status = 200, body = Vec<DeliveryView>)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    Query(filter): Query<DeliveryFilter>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let a = org_access(&state, &who, &org, Role::Member).await?;
    if let Some(s) = &filter.status
        && !matches!(s.as_str(), "pending" | "delivered" | "dead")
    {
        return Err(ApiError::field(
            "status",
            format!("{s:?} is not one of pending, delivered, dead"),
        ));
    }
    let names = channel_names(&state, &a.org.id).await?;
    let channel_id = match &filter.channel {
        Some(name) => Some(state.store.alert_channel(&a.org.id, name).await?.id),
        None => None,
    };
    let rows = state
        .store
        .deliveries(
            &a.org.id,
            channel_id.as_deref(),
            filter.status.as_deref(),
            filter.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    Ok(Json(
        rows.into_iter().map(|d| delivery_view(d, &names)).collect(),
    ))
}

/// Queues a dead-lettered delivery again, with the same id.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/alerts/deliveries/{id}/redeliver", tag = "alerts", security(("token" = ["editor"])),
    params(("org" = String, Path, description = "Organization name"), ("id" = String, Path, description = "Delivery id")),
    responses((status = 202), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    who: Principal,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Editor).await?;
    state.store.redeliver(&who.actor, &a.org.id, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The alert routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, delete_channel))
        .routes(routes!(test_channel))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(delete_rule))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}
