//! Generic JSON webhooks signed per the Standard Webhooks specification, with an optional
//! Docker-Hub-compatible payload for image pushes.

use super::http::{HttpSender, failed};
use super::{Channel, ChannelContext, ChannelKind, Outcome, event_json, parse_http_url};
use crate::{AlertEvent, ConfigError, Delivery, RetryDecision, Secret, TargetPolicy};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Webhook settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// The signing secret, `whsec_` + base64 of 24 to 64 random bytes.
    pub secret: Secret,
    /// During a rotation, the old secret: both sign every message until it is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<Secret>,
    /// The payload shape.
    #[serde(default)]
    pub payload: WebhookPayload,
}

/// Which body a webhook gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookPayload {
    /// `{type, id, timestamp, data}`, every event.
    #[default]
    Standard,
    /// Docker Hub's push payload (`push_data`, `repository`); only image push events are sent,
    /// others are skipped (reported as delivered with a note).
    DockerHub,
}

impl WebhookConfig {
    pub(crate) fn validate(&self, policy: &TargetPolicy) -> Result<(), ConfigError> {
        parse_http_url("url", &self.url, policy)?;
        SigningKey::parse("secret", &self.secret)?;
        if let Some(old) = &self.previous_secret {
            SigningKey::parse("previous-secret", old)?;
        }
        Ok(())
    }
}

/// A decoded Standard Webhooks secret.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl SigningKey {
    /// Reads `whsec_<base64>`.
    pub fn parse(setting: &str, secret: &Secret) -> Result<Self, ConfigError> {
        let Some(b64) = secret.expose().strip_prefix("whsec_") else {
            return Err(ConfigError::new(
                setting,
                "a Standard Webhooks secret starts with `whsec_` followed by base64 \
                 (for example: whsec_$(head -c 32 /dev/urandom | base64))",
            ));
        };
        let key = B64.decode(b64).map_err(|e| {
            ConfigError::new(
                setting,
                format!("the part after `whsec_` is not base64: {e}"),
            )
        })?;
        if !(24..=64).contains(&key.len()) {
            return Err(ConfigError::new(
                setting,
                format!(
                    "the key is {} bytes; Standard Webhooks wants 24 to 64",
                    key.len()
                ),
            ));
        }
        Ok(Self(key))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

/// The webhook channel.
#[derive(Debug)]
pub struct Webhook {
    url: reqwest::Url,
    keys: Vec<SigningKey>,
    payload: WebhookPayload,
    http: HttpSender,
}

impl Webhook {
    pub(crate) fn new(config: WebhookConfig, ctx: &ChannelContext) -> Result<Self, ConfigError> {
        let mut keys = vec![SigningKey::parse("secret", &config.secret)?];
        if let Some(old) = &config.previous_secret {
            keys.push(SigningKey::parse("previous-secret", old)?);
        }
        Ok(Self {
            url: parse_http_url("url", &config.url, &ctx.policy)?,
            keys,
            payload: config.payload,
            http: HttpSender::new(ctx, None)?,
        })
    }

    /// The `webhook-signature` header value: one signature per valid secret, space-separated.
    pub fn signature_header(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        self.keys
            .iter()
            .map(|k| k.sign(id, timestamp, body))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[async_trait::async_trait]
impl Channel for Webhook {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    fn endpoint(&self) -> String {
        format!(
            "webhook:{}://{}",
            self.url.scheme(),
            self.url.host_str().unwrap_or_default()
        ) + &self.url.port().map(|p| format!(":{p}")).unwrap_or_default()
    }

    async fn deliver(&self, delivery: &Delivery) -> Outcome {
        let started = Instant::now();
        let body = match self.payload {
            WebhookPayload::Standard => standard_payload(delivery),
            WebhookPayload::DockerHub => match docker_hub_payload(delivery) {
                Some(body) => body,
                None => {
                    return Outcome {
                        status: None,
                        latency: Duration::ZERO,
                        response_excerpt:
                            "skipped: the docker-hub payload carries image pushes only".into(),
                        decision: RetryDecision::Delivered,
                    };
                }
            },
        };
        let body = body.to_string().into_bytes();
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let request = self
            .http
            .client()
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                self.signature_header(&delivery.id, timestamp, &body),
            )
            .body(body);
        match self.http.execute(request).await {
            Ok(reply) => reply.outcome(started),
            Err(decision) => failed(started, decision),
        }
    }
}

/// `{type, id, timestamp, data}`: the event's action as the type and the event as data, or for a
/// digest `dockwatch.digest` with `data.events`.
pub fn standard_payload(delivery: &Delivery) -> Value {
    let rfc3339 = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    match delivery.events.as_slice() {
        [event] => json!({
            "type": event.action,
            "id": delivery.id,
            "timestamp": rfc3339(event.time),
            "data": event_json(event),
        }),
        events => json!({
            "type": "dockwatch.digest",
            "id": delivery.id,
            "timestamp": rfc3339(events.iter().map(|e| e.time).max().unwrap_or(OffsetDateTime::UNIX_EPOCH)),
            "data": {"events": events.iter().map(event_json).collect::<Vec<_>>()},
        }),
    }
}

/// Whether an event is an image push (`*.push` / `*.pushed`, e.g. `repository.pushed`); the
/// channel test event counts as one so "send a test event" shows the payload.
pub fn is_push(event: &AlertEvent) -> bool {
    event.action.ends_with(".push")
        || event.action.ends_with(".pushed")
        || event.action == "alert.test"
}

/// Docker Hub's webhook payload (docs.docker.com/docker-hub/repos/manage/webhooks/) for the last
/// push in the delivery, or `None` if it holds no push. Reads `details.tag`, `details.pusher`,
/// `details.description`, `details.private` and the event's repository (`namespace/name`).
pub fn docker_hub_payload(delivery: &Delivery) -> Option<Value> {
    let e = delivery.events.iter().rev().find(|e| is_push(e))?;
    let repo = e
        .repository
        .clone()
        .or_else(|| e.details["repository"].as_str().map(str::to_owned))
        .unwrap_or_else(|| e.target.trim_start_matches("repository:").to_owned());
    let (namespace, name) = repo.rsplit_once('/').unwrap_or(("library", repo.as_str()));
    let text = |key: &str| e.details[key].as_str().unwrap_or_default().to_owned();
    let pusher = e.details["pusher"].as_str().unwrap_or(&e.actor).to_owned();
    Some(json!({
        "callback_url": e.console_url.clone().unwrap_or_default(),
        "push_data": {
            "pushed_at": e.time.unix_timestamp(),
            "pusher": pusher,
            "tag": e.details["tag"].as_str().unwrap_or("latest"),
            "images": [],
        },
        "repository": {
            "comment_count": 0,
            "date_created": e.details["date_created"].as_i64().unwrap_or(e.time.unix_timestamp()),
            "description": text("description"),
            "dockerfile": "",
            "full_description": text("full_description"),
            "is_official": false,
            "is_private": e.details["private"].as_bool().unwrap_or(true),
            "is_trusted": false,
            "name": name,
            "namespace": namespace,
            "owner": namespace,
            "repo_name": format!("{namespace}/{name}"),
            "repo_url": e.console_url.clone().unwrap_or_default(),
            "star_count": 0,
            "status": "Active",
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::sample;

    #[test]
    fn signature_matches_the_specification_example() {
        // The example in the Standard Webhooks specification (spec/standard-webhooks.md).
        let key =
            SigningKey::parse("secret", &"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()).unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_checked() {
        for (bad, why) in [
            ("plain", "whsec_"),
            ("whsec_!!!", "not base64"),
            ("whsec_c2hvcnQ=", "5 bytes"),
        ] {
            let err = SigningKey::parse("secret", &bad.into()).unwrap_err();
            assert!(err.message.contains(why), "{bad}: {err}");
            assert!(
                !err.to_string().contains("c2hvcnQ"),
                "the error leaks the secret"
            );
        }
    }

    #[test]
    fn payloads() {
        let d = Delivery::single("c", sample("team.created"));
        let p = standard_payload(&d);
        assert_eq!(p["type"], "team.created");
        assert_eq!(p["id"], d.id);
        assert_eq!(p["timestamp"], "2026-11-25T13:14:15.678Z");
        assert_eq!(p["data"]["target"], "team:first-team");
        assert!(docker_hub_payload(&d).is_none());

        let mut push = sample("repository.pushed");
        push.repository = Some("acme/api".into());
        push.details = json!({"tag": "v1.2", "pusher": "ci-bot"});
        let hub = docker_hub_payload(&Delivery::single("c", push)).unwrap();
        assert_eq!(hub["push_data"]["tag"], "v1.2");
        assert_eq!(hub["push_data"]["pusher"], "ci-bot");
        assert_eq!(hub["push_data"]["pushed_at"], 1795612455);
        assert_eq!(hub["repository"]["repo_name"], "acme/api");
        assert_eq!(hub["repository"]["namespace"], "acme");
        assert_eq!(hub["repository"]["name"], "api");
    }
}
