//! Delivery channels behind one trait, their settings as one tagged enum, and [`build`].

mod http;
pub mod sentinel;
pub mod slack;
pub mod splunk_hec;
pub mod syslog;
pub mod webhook;

use crate::{ConfigError, Delivery, RetryDecision, TargetPolicy};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

/// One way to send alerts. Implementations never panic and never return early with an error:
/// every failure is an [`Outcome`] whose decision says whether to retry.
#[async_trait::async_trait]
pub trait Channel: Send + Sync + std::fmt::Debug {
    /// Which kind it is.
    fn kind(&self) -> ChannelKind;

    /// The endpoint, without secrets: the circuit breaker's key and what the delivery log shows.
    fn endpoint(&self) -> String;

    /// Sends one delivery (one event, or a digest), within the context's timeouts.
    async fn deliver(&self, delivery: &Delivery) -> Outcome;

    /// "Send a test event": delivers a synthetic `alert.test` event and reports the answer.
    async fn test(&self, org: &str) -> Outcome {
        self.deliver(&Delivery::test_event(org, OffsetDateTime::now_utc()))
            .await
    }
}

/// The result of one attempt, as the delivery log records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The receiver's HTTP status (none for syslog or when no answer came).
    pub status: Option<u16>,
    /// How long the attempt took.
    #[serde(with = "millis")]
    pub latency: Duration,
    /// The start of the receiver's answer (at most 512 characters), or what went wrong.
    pub response_excerpt: String,
    /// Delivered, retry, or permanent failure.
    pub decision: RetryDecision,
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// The channel kinds, as `dockwatch alert channel add KIND` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelKind {
    /// Slack incoming webhook.
    Slack,
    /// Standard Webhooks JSON.
    Webhook,
    /// Splunk HTTP Event Collector.
    SplunkHec,
    /// Microsoft Sentinel (Azure Monitor Logs Ingestion API).
    Sentinel,
    /// Syslog RFC 5424.
    Syslog,
}

impl ChannelKind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Webhook => "webhook",
            Self::SplunkHec => "splunk-hec",
            Self::Sentinel => "sentinel",
            Self::Syslog => "syslog",
        }
    }
}

/// A channel's settings, tagged by `kind`. Secrets are [`crate::Secret`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ChannelConfig {
    /// Slack incoming webhook.
    Slack(slack::SlackConfig),
    /// Standard Webhooks JSON.
    Webhook(webhook::WebhookConfig),
    /// Splunk HTTP Event Collector.
    SplunkHec(splunk_hec::SplunkHecConfig),
    /// Microsoft Sentinel.
    Sentinel(sentinel::SentinelConfig),
    /// Syslog.
    Syslog(syslog::SyslogConfig),
}

impl ChannelConfig {
    /// Which kind it is.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Slack(_) => ChannelKind::Slack,
            Self::Webhook(_) => ChannelKind::Webhook,
            Self::SplunkHec(_) => ChannelKind::SplunkHec,
            Self::Sentinel(_) => ChannelKind::Sentinel,
            Self::Syslog(_) => ChannelKind::Syslog,
        }
    }

    /// The settings as the API may show them: every secret replaced by `"[redacted]"` (a Slack
    /// URL keeps its scheme and host, since its path is the credential).
    pub fn redacted(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let secret_keys: &[&str] = match self {
            Self::Slack(_) => &["url"],
            Self::Webhook(_) => &["secret", "previous_secret"],
            Self::SplunkHec(_) => &["token"],
            Self::Sentinel(_) => &["client_secret"],
            Self::Syslog(_) => &[],
        };
        for key in secret_keys {
            let Some(field) = v.get_mut(*key).filter(|f| !f.is_null()) else {
                continue;
            };
            *field = match (
                self,
                reqwest::Url::parse(field.as_str().unwrap_or_default()),
            ) {
                (Self::Slack(_), Ok(url)) => serde_json::Value::String(format!(
                    "{}://{}/[redacted]",
                    url.scheme(),
                    url.host_str().unwrap_or_default()
                )),
                _ => serde_json::Value::String("[redacted]".into()),
            };
        }
        v
    }

    /// Checks the settings without sending anything (URLs, secret formats, literal addresses
    /// against the policy). Host names are checked again on every delivery, after DNS.
    pub fn validate(&self, policy: &TargetPolicy) -> Result<(), ConfigError> {
        match self {
            Self::Slack(c) => c.validate(policy),
            Self::Webhook(c) => c.validate(policy),
            Self::SplunkHec(c) => c.validate(policy),
            Self::Sentinel(c) => c.validate(policy),
            Self::Syslog(c) => c.validate(policy),
        }
    }
}

/// What every channel shares: the target policy, timeouts, and who we are.
#[derive(Clone, Debug)]
pub struct ChannelContext {
    /// Which addresses deliveries may go to.
    pub policy: TargetPolicy,
    /// Bound on connecting (TCP + TLS).
    pub connect_timeout: Duration,
    /// Bound on one whole attempt (connect, send, read the answer).
    pub total_timeout: Duration,
    /// Dockwatch's version, for `User-Agent` and CEF headers.
    pub version: String,
    /// This server's name, for syslog HOSTNAME and the HEC `host` default.
    pub hostname: String,
}

impl Default for ChannelContext {
    fn default() -> Self {
        Self {
            policy: TargetPolicy::STRICT,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            hostname: "dockwatch".to_owned(),
        }
    }
}

/// Checks `config` and builds its channel.
pub fn build(
    config: &ChannelConfig,
    ctx: &ChannelContext,
) -> Result<Box<dyn Channel>, ConfigError> {
    config.validate(&ctx.policy)?;
    Ok(match config {
        ChannelConfig::Slack(c) => Box::new(slack::Slack::new(c.clone(), ctx)?),
        ChannelConfig::Webhook(c) => Box::new(webhook::Webhook::new(c.clone(), ctx)?),
        ChannelConfig::SplunkHec(c) => Box::new(splunk_hec::SplunkHec::new(c.clone(), ctx)?),
        ChannelConfig::Sentinel(c) => Box::new(sentinel::Sentinel::new(c.clone(), ctx)?),
        ChannelConfig::Syslog(c) => Box::new(syslog::Syslog::new(c.clone(), ctx)?),
    })
}

/// Parses an http(s) URL setting and checks a literal address against the policy.
pub(crate) fn parse_http_url(
    setting: &str,
    value: &str,
    policy: &TargetPolicy,
) -> Result<reqwest::Url, ConfigError> {
    let url = reqwest::Url::parse(value)
        .map_err(|e| ConfigError::new(setting, format!("{e}: not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            setting,
            format!(
                "scheme {:?}: only http and https are supported",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::new(setting, "the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            setting,
            "credentials in the URL are not supported; use the channel's secret settings",
        ));
    }
    policy
        .check_url(&url)
        .map_err(|e| ConfigError::new(setting, e.to_string()))?;
    Ok(url)
}

/// The JSON form of one event every channel uses for its data.
pub(crate) fn event_json(e: &crate::AlertEvent) -> serde_json::Value {
    serde_json::to_value(e).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_tagged_by_kind() {
        let json = r#"{"kind":"splunk-hec","url":"https://splunk.example:8088","token":"t0k"}"#;
        let cfg: ChannelConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.kind(), ChannelKind::SplunkHec);
        assert!(!format!("{cfg:?}").contains("t0k"));
        let err = serde_json::from_str::<ChannelConfig>(r#"{"kind":"pager"}"#).unwrap_err();
        assert!(err.to_string().contains("pager"), "{err}");
    }

    #[test]
    fn outcomes_serialize_for_the_delivery_log() {
        let outcome = Outcome {
            status: Some(429),
            latency: Duration::from_millis(1234),
            response_excerpt: "slow down".into(),
            decision: RetryDecision::Retry {
                reason: "receiver answered 429".into(),
                after: Some(Duration::from_secs(30)),
            },
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status": 429, "latency": 1234, "response_excerpt": "slow down",
                "decision": {"decision": "retry", "reason": "receiver answered 429", "after": 30.0}})
        );
        assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), outcome);
        let done = serde_json::to_value(RetryDecision::Delivered).unwrap();
        assert_eq!(done, serde_json::json!({"decision": "delivered"}));
    }

    #[test]
    fn redacted_views_hide_every_secret() {
        for (json, secret) in [
            (
                r#"{"kind":"slack","url":"https://hooks.slack.example/services/T0/B0/SECRETPATH"}"#,
                "SECRETPATH",
            ),
            (
                r#"{"kind":"webhook","url":"https://h.example/","secret":"whsec_SECRETA","previous_secret":"whsec_SECRETB"}"#,
                "SECRET",
            ),
            (
                r#"{"kind":"splunk-hec","url":"https://s.example:8088","token":"SECRETTOKEN"}"#,
                "SECRETTOKEN",
            ),
            (
                r#"{"kind":"sentinel","tenant_id":"t","client_id":"c","client_secret":"SECRETX","endpoint":"https://d.example","dcr_immutable_id":"dcr-1","stream":"Custom-X"}"#,
                "SECRETX",
            ),
        ] {
            let cfg: ChannelConfig = serde_json::from_str(json).unwrap();
            let shown = cfg.redacted().to_string();
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
        let slack: ChannelConfig = serde_json::from_str(
            r#"{"kind":"slack","url":"https://hooks.slack.example/services/x"}"#,
        )
        .unwrap();
        assert_eq!(
            slack.redacted()["url"],
            "https://hooks.slack.example/[redacted]"
        );
        let hook: ChannelConfig = serde_json::from_str(
            r#"{"kind":"webhook","url":"https://h.example/","secret":"whsec_x"}"#,
        )
        .unwrap();
        assert_eq!(hook.redacted()["url"], "https://h.example/");
        assert!(hook.redacted()["previous_secret"].is_null());
    }

    #[test]
    fn urls_are_checked() {
        let strict = TargetPolicy::STRICT;
        assert!(parse_http_url("url", "https://hooks.example/x", &strict).is_ok());
        for (bad, why) in [
            ("not a url", "not a URL"),
            ("ftp://files.example/", "scheme"),
            ("https://user:pw@hooks.example/", "credentials"),
            ("http://127.0.0.1:9/", "--allow-private-targets"),
            ("http://[fd00::1]/", "unique-local"),
        ] {
            let err = parse_http_url("url", bad, &strict).unwrap_err();
            assert_eq!(err.setting, "url");
            assert!(err.message.contains(why), "{bad}: {err}");
        }
    }
}
