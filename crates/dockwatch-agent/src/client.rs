//! The agent's side of the wire: enroll, fetch the policy and send reports, each request after
//! enrollment signed with the machine credential.

use crate::error::{AgentError, random};
use crate::state::Credential;
use dockwatch_core::settings::wire::{
    self, ENROLL_PATH, EnrollRequest, EnrollResponse, PolicyResponse, REPORT_PATH, ReportResponse,
};
use dockwatch_core::{Clock, SystemClock};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A client for one server.
#[derive(Debug, Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
}

impl ServerClient {
    /// A client for a server URL (`http://host:port`, with or without a trailing `/`).
    pub fn new(server: &str) -> Result<Self, AgentError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("dockwatch-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AgentError::Http {
                url: server.into(),
                source: e,
            })?;
        Ok(Self {
            http,
            base: server.trim_end_matches('/').to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /api/v1/agent/enroll`.
    pub async fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse, AgentError> {
        let url = self.url(ENROLL_PATH);
        let body = serde_json::to_vec(request).expect("the request serializes");
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| AgentError::Http {
                url: url.clone(),
                source: e,
            })?;
        decode(
            url,
            response,
            "enrollment answer",
            "; check the enrollment token: it may be revoked or mistyped",
        )
        .await
    }

    /// `GET /api/v1/agent/policy` (signed), for the signed-in `user` when known.
    pub async fn policy(
        &self,
        cred: &Credential,
        user: Option<&str>,
    ) -> Result<PolicyResponse, AgentError> {
        let path = wire::policy_path(user);
        let url = self.url(&path);
        let request = self.signed(self.http.get(&url), cred, "GET", &path, b"")?;
        let response = request.send().await.map_err(|e| AgentError::Http {
            url: url.clone(),
            source: e,
        })?;
        decode(url, response, "policy answer", REVOKED_HINT).await
    }

    /// `POST /api/v1/agent/report` (signed).
    pub async fn report(
        &self,
        cred: &Credential,
        body: Vec<u8>,
    ) -> Result<ReportResponse, AgentError> {
        let url = self.url(REPORT_PATH);
        let request = self
            .signed(self.http.post(&url), cred, "POST", REPORT_PATH, &body)?
            .header("content-type", "application/json")
            .body(body);
        let response = request.send().await.map_err(|e| AgentError::Http {
            url: url.clone(),
            source: e,
        })?;
        decode(url, response, "report answer", REVOKED_HINT).await
    }

    fn signed(
        &self,
        mut request: reqwest::RequestBuilder,
        cred: &Credential,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<reqwest::RequestBuilder, AgentError> {
        let now_secs = SystemClock.now_millis() / 1000;
        let headers = wire::sign(
            &cred.credential,
            method,
            path,
            &cred.machine_id,
            now_secs,
            random::<16>()?,
            body,
        );
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        Ok(request)
    }
}

const REVOKED_HINT: &str = "; if this machine was revoked or the server's data was reset, remove credential.json from the state dir and enroll again";

async fn decode<T: DeserializeOwned>(
    url: String,
    response: reqwest::Response,
    what: &'static str,
    auth_hint: &'static str,
) -> Result<T, AgentError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| AgentError::Http {
        url: url.clone(),
        source: e,
    })?;
    if !status.is_success() {
        let body: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
        let hint = if status.as_u16() == 401 || status.as_u16() == 403 {
            auth_hint
        } else {
            ""
        };
        return Err(AgentError::Status {
            url,
            status: status.as_u16(),
            body,
            hint,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| AgentError::Decode {
        url,
        what,
        message: e.to_string(),
    })
}
