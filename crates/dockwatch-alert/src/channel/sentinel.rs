//! Microsoft Sentinel through the Azure Monitor Logs Ingestion API: an OAuth2 client-credentials
//! token (cached until it expires), then gzip'd JSON arrays to a data collection rule's stream.

use super::http::{HttpSender, failed};
use super::{Channel, ChannelContext, ChannelKind, Outcome, parse_http_url};
use crate::{AlertEvent, ConfigError, Delivery, RetryDecision, Secret, TargetPolicy};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The Logs Ingestion API version we speak.
pub const API_VERSION: &str = "2023-01-01";
/// The token scope for the Logs Ingestion API (the double slash is Azure's).
pub const SCOPE: &str = "https://monitor.azure.com//.default";

/// Sentinel settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelConfig {
    /// The identity provider (default `https://login.microsoftonline.com`; other Azure clouds
    /// have their own).
    #[serde(default = "default_authority")]
    pub authority: String,
    /// The Entra ID tenant.
    pub tenant_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret,
    /// The data collection endpoint (or DCR ingestion endpoint) URL.
    pub endpoint: String,
    /// The data collection rule's immutable id (`dcr-...`).
    pub dcr_immutable_id: String,
    /// The stream name (`Custom-DockwatchEvents_CL`).
    pub stream: String,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}

impl SentinelConfig {
    pub(crate) fn validate(&self, policy: &TargetPolicy) -> Result<(), ConfigError> {
        parse_http_url("authority", &self.authority, policy)?;
        parse_http_url("endpoint", &self.endpoint, policy)?;
        let path_safe = |setting: &str, v: &str| {
            if v.is_empty()
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                Err(ConfigError::new(
                    setting,
                    format!("{v:?} must be non-empty letters, digits, `-`, `_` or `.`"),
                ))
            } else {
                Ok(())
            }
        };
        path_safe("tenant-id", &self.tenant_id)?;
        path_safe("dcr-immutable-id", &self.dcr_immutable_id)?;
        path_safe("stream", &self.stream)?;
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new("client-id", "is empty"));
        }
        if self.client_secret.expose().is_empty() {
            return Err(ConfigError::new("client-secret", "is empty"));
        }
        Ok(())
    }
}

/// The Sentinel channel.
#[derive(Debug)]
pub struct Sentinel {
    token_url: reqwest::Url,
    ingest_url: reqwest::Url,
    config: SentinelConfig,
    token: Mutex<Option<CachedToken>>,
    http: HttpSender,
}

#[derive(Debug)]
struct CachedToken {
    value: Secret,
    renew_at: Instant,
}

impl Sentinel {
    pub(crate) fn new(config: SentinelConfig, ctx: &ChannelContext) -> Result<Self, ConfigError> {
        let authority = config.authority.trim_end_matches('/');
        let token_url = parse_http_url(
            "authority",
            &format!("{authority}/{}/oauth2/v2.0/token", config.tenant_id),
            &ctx.policy,
        )?;
        let endpoint = config.endpoint.trim_end_matches('/');
        let ingest_url = parse_http_url(
            "endpoint",
            &format!(
                "{endpoint}/dataCollectionRules/{}/streams/{}?api-version={API_VERSION}",
                config.dcr_immutable_id, config.stream
            ),
            &ctx.policy,
        )?;
        Ok(Self {
            token_url,
            ingest_url,
            config,
            token: Mutex::new(None),
            http: HttpSender::new(ctx, None)?,
        })
    }

    /// A valid token, fetched if none is cached or it is about to expire.
    async fn token(&self, started: Instant) -> Result<Secret, Outcome> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.value.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("scope", SCOPE),
        ];
        let request = self.http.client().post(self.token_url.clone()).form(&form);
        let reply = self
            .http
            .execute(request)
            .await
            .map_err(|d| failed(started, d))?;
        let answer: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        let token = answer["access_token"].as_str();
        match (reply.status, token) {
            (200, Some(token)) => {
                let lifetime = answer["expires_in"]
                    .as_u64()
                    .or_else(|| answer["expires_in"].as_str()?.parse().ok())
                    .unwrap_or(300);
                // Renew a minute early so a token never expires in flight.
                let renew_in = Duration::from_secs(lifetime.saturating_sub(60).max(1));
                let value = Secret::new(token);
                *cached = Some(CachedToken {
                    value: value.clone(),
                    renew_at: Instant::now() + renew_in,
                });
                Ok(value)
            }
            _ => {
                let mut outcome = reply.outcome(started);
                let what = answer["error_description"]
                    .as_str()
                    .or(answer["error"].as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| reply.excerpt());
                outcome.decision = match outcome.decision {
                    RetryDecision::Retry { after, .. } => RetryDecision::Retry {
                        reason: format!("token endpoint answered {}", reply.status),
                        after,
                    },
                    _ => RetryDecision::permanent(format!(
                        "token endpoint refused the client credentials ({}): {what}",
                        reply.status
                    )),
                };
                Err(outcome)
            }
        }
    }
}

#[async_trait::async_trait]
impl Channel for Sentinel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sentinel
    }

    fn endpoint(&self) -> String {
        format!(
            "sentinel:{}/{}",
            self.ingest_url.host_str().unwrap_or_default(),
            self.config.dcr_immutable_id
        )
    }

    async fn deliver(&self, delivery: &Delivery) -> Outcome {
        let started = Instant::now();
        let token = match self.token(started).await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        // The API takes at most 1 MB (uncompressed) per call: big digests go in several calls.
        let mut outcome = None;
        for body in chunks(&records(delivery), MAX_CALL_BYTES) {
            let body = match gzip(body.as_bytes()) {
                Ok(body) => body,
                Err(e) => return failed(started, RetryDecision::retry(format!("gzip: {e}"))),
            };
            let request = self
                .http
                .client()
                .post(self.ingest_url.clone())
                .bearer_auth(token.expose())
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .body(body);
            let this = match self.http.execute(request).await {
                Ok(reply) => {
                    let mut outcome = reply.outcome(started);
                    if reply.status == 401 || reply.status == 403 {
                        // The token may have been revoked: fetch a new one next time.
                        *self.token.lock().await = None;
                        if reply.status == 401 {
                            outcome.decision = RetryDecision::retry(
                                "ingestion endpoint answered 401; token dropped",
                            );
                        }
                    }
                    outcome
                }
                Err(decision) => failed(started, decision),
            };
            // A failed call fails the delivery; its retry resends every call (at-least-once).
            let delivered = this.decision.is_delivered();
            outcome = Some(this);
            if !delivered {
                break;
            }
        }
        outcome.unwrap_or_else(|| failed(started, RetryDecision::permanent("no records to send")))
    }
}

/// The Logs Ingestion API's limit on one call's uncompressed body.
pub const MAX_CALL_BYTES: usize = 1_000_000;

/// JSON arrays of `records`, each at most `max` bytes (a single larger record goes alone).
pub fn chunks(records: &Value, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from("[");
    for record in records.as_array().into_iter().flatten() {
        let text = record.to_string();
        if current.len() > 1 && current.len() + text.len() + 2 > max {
            current.push(']');
            out.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&text);
    }
    if current.len() > 1 || out.is_empty() {
        current.push(']');
        out.push(current);
    }
    out
}

/// The JSON array of records: one per event, columns in the DCR stream's PascalCase.
pub fn records(delivery: &Delivery) -> Value {
    Value::Array(
        delivery
            .events
            .iter()
            .map(|e| record(delivery, e))
            .collect(),
    )
}

fn record(delivery: &Delivery, e: &AlertEvent) -> Value {
    json!({
        "TimeGenerated": e.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "EventId": e.id,
        "DeliveryId": delivery.id,
        "Organization": e.org,
        "Action": e.action,
        "Actor": e.actor,
        "Target": e.target,
        "Summary": e.summary,
        "Severity": e.severity.map(|s| s.as_str()),
        "Repository": e.repository,
        "Team": e.team,
        "Details": e.details,
        "ConsoleUrl": e.console_url,
    })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes)?;
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_stay_under_the_limit_and_keep_every_record() {
        let records: Vec<Value> = (0..100)
            .map(|i| json!({"n": i, "pad": "x".repeat(90)}))
            .collect();
        let parts = chunks(&Value::Array(records.clone()), 1000);
        assert!(parts.len() > 10);
        let mut back = Vec::new();
        for p in &parts {
            assert!(p.len() <= 1000, "{}", p.len());
            back.extend(serde_json::from_str::<Vec<Value>>(p).unwrap());
        }
        assert_eq!(back, records);
        assert_eq!(chunks(&json!([]), 1000), ["[]"]);
        let huge = json!([{"pad": "y".repeat(5000)}]);
        assert_eq!(chunks(&huge, 1000).len(), 1);
    }
}
