//! Activity-log calls: search, verify and the feed. Events stay JSON values: the CLI prints
//! them as the server sends them.

use crate::{Client, Result, seg};
use serde_json::Value;

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    seg(s)
}

impl Client {
    /// An organization's events matching `filters` (`(name, value)` query pairs), newest first.
    pub async fn search_events(&self, org: &str, filters: &[(&str, String)]) -> Result<Vec<Value>> {
        let query: Vec<String> = filters
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        self.get(&format!("/api/v1/orgs/{}/events{q}", seg(org)))
            .await
    }

    /// Walks the organization's chain on the server: `{org, ok, events, first_bad_id, message...}`.
    pub async fn verify_events(&self, org: &str) -> Result<Value> {
        self.get(&format!("/api/v1/orgs/{}/events/verify", seg(org)))
            .await
    }

    /// Events after the feed cursor `after`, ascending: `{events, next}`.
    pub async fn event_feed(&self, org: &str, after: &str, limit: i64) -> Result<Value> {
        self.get(&format!(
            "/api/v1/orgs/{}/events/feed?after={}&limit={limit}",
            seg(org),
            enc(after)
        ))
        .await
    }
}
