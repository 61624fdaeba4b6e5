//! Alert channels, rules and the delivery log (`/api/v1/orgs/{org}/alerts/...`).

use crate::{Client, Result, seg};
use reqwest::Method;
use serde_json::{Value, json};

impl Client {
    /// The organization's channels (secrets redacted).
    pub async fn alert_channels(&self, org: &str) -> Result<Vec<Value>> {
        self.get(&format!("/api/v1/orgs/{}/alerts/channels", seg(org)))
            .await
    }

    /// Adds a channel with `config` (tagged by `kind`).
    pub async fn create_alert_channel(
        &self,
        org: &str,
        name: &str,
        config: Value,
    ) -> Result<Value> {
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/alerts/channels", seg(org)),
            json!({ "name": name, "config": config }),
        )
        .await
    }

    /// Removes a channel.
    pub async fn delete_alert_channel(&self, org: &str, name: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/alerts/channels/{}",
            seg(org),
            seg(name)
        ))
        .await
    }

    /// Rotates a channel's secret (`{"secret": ...}`), or ends a webhook's rotation
    /// (`{"finish": true}`).
    pub async fn rotate_alert_channel_secret(
        &self,
        org: &str,
        name: &str,
        body: Value,
    ) -> Result<Value> {
        self.send(
            Method::POST,
            &format!(
                "/api/v1/orgs/{}/alerts/channels/{}/rotate-secret",
                seg(org),
                seg(name)
            ),
            body,
        )
        .await
    }

    /// Sends a test event through a channel; the receiver's answer.
    pub async fn test_alert_channel(&self, org: &str, name: &str) -> Result<Value> {
        self.send(
            Method::POST,
            &format!(
                "/api/v1/orgs/{}/alerts/channels/{}/test",
                seg(org),
                seg(name)
            ),
            json!({}),
        )
        .await
    }

    /// The organization's rules.
    pub async fn alert_rules(&self, org: &str) -> Result<Vec<Value>> {
        self.get(&format!("/api/v1/orgs/{}/alerts/rules", seg(org)))
            .await
    }

    /// Adds a rule (`body` as the API takes it: name, match, channels, filters).
    pub async fn create_alert_rule(&self, org: &str, body: Value) -> Result<Value> {
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/alerts/rules", seg(org)),
            body,
        )
        .await
    }

    /// Removes a rule.
    pub async fn delete_alert_rule(&self, org: &str, name: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/alerts/rules/{}",
            seg(org),
            seg(name)
        ))
        .await
    }

    /// The delivery log, newest first.
    pub async fn alert_deliveries(
        &self,
        org: &str,
        channel: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<Value>> {
        let mut query = Vec::new();
        if let Some(c) = channel {
            query.push(format!("channel={}", seg(c)));
        }
        if let Some(s) = status {
            query.push(format!("status={}", seg(s)));
        }
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        self.get(&format!("/api/v1/orgs/{}/alerts/deliveries{q}", seg(org)))
            .await
    }

    /// Queues a dead-lettered delivery again.
    pub async fn redeliver(&self, org: &str, id: &str) -> Result<()> {
        self.send::<Value>(
            Method::POST,
            &format!(
                "/api/v1/orgs/{}/alerts/deliveries/{}/redeliver",
                seg(org),
                seg(id)
            ),
            json!({}),
        )
        .await
        .map(drop)
    }
}
