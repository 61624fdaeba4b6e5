//! Splunk HTTP Event Collector: `/services/collector/event` envelopes, batched by concatenation,
//! with optional indexer acknowledgement.

use super::http::{HttpSender, failed};
use super::{Channel, ChannelContext, ChannelKind, Outcome, event_json, parse_http_url};
use crate::{AlertEvent, ConfigError, Delivery, RetryDecision, Secret, TargetPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Splunk HEC settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplunkHecConfig {
    /// The collector's base URL, e.g. `https://splunk.example:8088`.
    pub url: String,
    /// The HEC token.
    pub token: Secret,
    /// Target index (default: the token's default index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Source type (default `dockwatch:event`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sourcetype: Option<String>,
    /// Source (default `dockwatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Host field (default: the server's host name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Wait for indexer acknowledgement (the token must have it enabled).
    #[serde(default)]
    pub ack: bool,
    /// PEM CA bundle for a collector with a private certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}

impl SplunkHecConfig {
    pub(crate) fn validate(&self, policy: &TargetPolicy) -> Result<(), ConfigError> {
        parse_http_url("url", &self.url, policy)?;
        if self.token.expose().trim().is_empty() {
            return Err(ConfigError::new("token", "the HEC token is empty"));
        }
        Ok(())
    }
}

/// The Splunk HEC channel.
#[derive(Debug)]
pub struct SplunkHec {
    base: reqwest::Url,
    config: SplunkHecConfig,
    host: String,
    /// The `X-Splunk-Request-Channel` GUID acknowledgements are tracked under.
    request_channel: String,
    ack_timeout: Duration,
    http: HttpSender,
}

impl SplunkHec {
    pub(crate) fn new(config: SplunkHecConfig, ctx: &ChannelContext) -> Result<Self, ConfigError> {
        let mut base = parse_http_url("url", &config.url, &ctx.policy)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Self {
            host: config.host.clone().unwrap_or_else(|| ctx.hostname.clone()),
            http: HttpSender::new(ctx, config.ca.as_deref())?,
            request_channel: uuid::Uuid::new_v4().hyphenated().to_string(),
            ack_timeout: ctx.total_timeout,
            base,
            config,
        })
    }

    /// The request channel GUID sent with acknowledged requests.
    pub fn request_channel(&self) -> &str {
        &self.request_channel
    }

    fn url(&self, path: &str) -> reqwest::Url {
        self.base.join(path).expect("fixed relative path")
    }

    fn post(&self, path: &str, body: String) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .client()
            .post(self.url(path))
            .header(
                "authorization",
                format!("Splunk {}", self.config.token.expose()),
            )
            .header("content-type", "application/json")
            .body(body);
        if self.config.ack {
            req = req.header("x-splunk-request-channel", &self.request_channel);
        }
        req
    }

    /// Polls `/services/collector/ack` until `ack_id` is indexed or the bound passes.
    async fn wait_for_ack(&self, ack_id: u64, started: Instant) -> Outcome {
        let mut pause = Duration::from_millis(100);
        let mut last_status = None;
        let body = json!({"acks": [ack_id]}).to_string();
        while started.elapsed() < self.ack_timeout {
            match self
                .http
                .execute(self.post("services/collector/ack", body.clone()))
                .await
            {
                Ok(reply) if reply.status == 200 => {
                    last_status = Some(200);
                    let answer: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
                    if answer["acks"][ack_id.to_string()].as_bool() == Some(true) {
                        return Outcome {
                            status: Some(200),
                            latency: started.elapsed(),
                            response_excerpt: format!("indexed (ackId {ack_id})"),
                            decision: RetryDecision::Delivered,
                        };
                    }
                }
                Ok(reply) => return reply.outcome(started),
                Err(decision) => return failed(started, decision),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
        // Not acknowledged in time: the events may or may not be indexed; send again
        // (at-least-once) under the same delivery id.
        Outcome {
            status: last_status,
            latency: started.elapsed(),
            response_excerpt: format!(
                "ackId {ack_id} not acknowledged within {}s",
                self.ack_timeout.as_secs()
            ),
            decision: RetryDecision::retry("indexer acknowledgement timed out"),
        }
    }
}

#[async_trait::async_trait]
impl Channel for SplunkHec {
    fn kind(&self) -> ChannelKind {
        ChannelKind::SplunkHec
    }

    fn endpoint(&self) -> String {
        format!("splunk-hec:{}", self.base)
    }

    async fn deliver(&self, delivery: &Delivery) -> Outcome {
        let started = Instant::now();
        let body = envelopes(&self.config, &self.host, delivery);
        let reply = match self
            .http
            .execute(self.post("services/collector/event", body))
            .await
        {
            Ok(reply) => reply,
            Err(decision) => return failed(started, decision),
        };
        let mut outcome = reply.outcome(started);
        let answer: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        // HEC's own codes refine the status: 9 (server busy) retries whatever the status.
        if answer["code"].as_i64() == Some(9) {
            outcome.decision = RetryDecision::retry("HEC answered code 9 (server busy)");
        }
        if !outcome.decision.is_delivered() || !self.config.ack {
            return outcome;
        }
        match answer["ackId"].as_u64() {
            Some(ack_id) => self.wait_for_ack(ack_id, started).await,
            None => Outcome {
                decision: RetryDecision::permanent(
                    "acknowledgement is on but HEC returned no ackId; enable indexer \
                     acknowledgement on the token or turn `ack` off",
                ),
                ..outcome
            },
        }
    }
}

/// The request body: one envelope per event, concatenated (HEC's batch format).
pub fn envelopes(config: &SplunkHecConfig, host: &str, delivery: &Delivery) -> String {
    let mut out = String::new();
    for e in &delivery.events {
        out.push_str(&envelope(config, host, delivery, e).to_string());
        out.push('\n');
    }
    out
}

fn envelope(config: &SplunkHecConfig, host: &str, delivery: &Delivery, e: &AlertEvent) -> Value {
    let millis = e.time.unix_timestamp_nanos() / 1_000_000;
    // Epoch seconds with millisecond precision, as HEC documents `time`.
    let time: Value = serde_json::from_str(&format!(
        "{}.{:03}",
        millis.div_euclid(1000),
        millis.rem_euclid(1000)
    ))
    .unwrap_or_default();
    let mut event = event_json(e);
    event["delivery_id"] = json!(delivery.id);
    let mut env = json!({
        "time": time,
        "host": host,
        "source": config.source.as_deref().unwrap_or("dockwatch"),
        "sourcetype": config.sourcetype.as_deref().unwrap_or("dockwatch:event"),
        "event": event,
    });
    if let Some(index) = &config.index {
        env["index"] = json!(index);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;

    #[test]
    fn envelopes_are_concatenated_json() {
        let config: SplunkHecConfig = serde_json::from_value(json!({
            "url": "https://splunk.example:8088", "token": "t", "index": "security"
        }))
        .unwrap();
        let d = Delivery::digest("c", vec![sample("team.created"), sample("team.deleted")]);
        let body = envelopes(&config, "dw1", &d);
        let parsed: Vec<Value> = serde_json::Deserializer::from_str(&body)
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0]["time"].to_string(), "1795612455.678");
        assert_eq!(parsed[0]["host"], "dw1");
        assert_eq!(parsed[0]["index"], "security");
        assert_eq!(parsed[0]["sourcetype"], "dockwatch:event");
        assert_eq!(parsed[0]["source"], "dockwatch");
        assert_eq!(parsed[1]["event"]["action"], "team.deleted");
        assert_eq!(parsed[1]["event"]["delivery_id"], d.id);
    }
}
