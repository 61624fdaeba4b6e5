//! Activity-log calls: search, verify and the feed. Events stay JSON values: the CLI prints
//! them as the server sends them.

use crate::{Client, ClientError, Result, seg};
use serde_json::Value;

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    seg(s)
}

/// A streamed export being read: the body arrives in chunks as the server produces it.
#[derive(Debug)]
pub struct EventExport {
    resp: reqwest::Response,
    url: String,
}

impl EventExport {
    /// The next chunk of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>> {
        self.resp
            .chunk()
            .await
            .map(|c| c.map(|b| b.to_vec()))
            .map_err(|source| ClientError::Http {
                url: self.url.clone(),
                source,
            })
    }
}

/// `?k=v&...` for query pairs (empty for none).
pub(crate) fn query_string(filters: &[(&str, String)]) -> String {
    let query: Vec<String> = filters
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    }
}

impl Client {
    /// Starts a streamed export (`format` and search filters as query pairs) of an
    /// organization's events; read it with [`EventExport::chunk`].
    pub async fn export_events(
        &self,
        org: &str,
        filters: &[(&str, String)],
    ) -> Result<EventExport> {
        let path = format!(
            "/api/v1/orgs/{}/events/export{}",
            seg(org),
            query_string(filters)
        );
        let url = format!("{}{path}", self.base);
        let mut req = self.http.get(&url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.map_err(|source| ClientError::Http {
            url: url.clone(),
            source,
        })?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp.bytes().await.unwrap_or_default();
            return Err(crate::api_error("GET", &path, status.as_u16(), &bytes));
        }
        Ok(EventExport { resp, url })
    }

    /// An organization's events matching `filters` (`(name, value)` query pairs), newest first.
    pub async fn search_events(&self, org: &str, filters: &[(&str, String)]) -> Result<Vec<Value>> {
        self.get(&format!(
            "/api/v1/orgs/{}/events{}",
            seg(org),
            query_string(filters)
        ))
        .await
    }

    /// Walks the organization's chain on the server: `{org, ok, events, first_bad_id, message...}`.
    /// With `full`, every retained event is walked, ignoring signed checkpoints.
    pub async fn verify_events(&self, org: &str, full: bool) -> Result<Value> {
        let full = if full { "?full=true" } else { "" };
        self.get(&format!("/api/v1/orgs/{}/events/verify{full}", seg(org)))
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
