//! A typed client for the Dockwatch API v1, used by the CLI's client commands.
//!
//! The wire types here mirror the server's JSON; they are this crate's own (the client does not
//! link the server).
#![forbid(unsafe_code)]

mod alerts;
mod error;
pub mod events;
mod fleet;
mod images;
pub mod types;

pub use error::ClientError;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use types::*;

/// Result of a client call.
pub type Result<T> = std::result::Result<T, ClientError>;

/// An API v1 client for one server and token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

fn seg(s: &str) -> String {
    // Names are URL-safe by construction; emails carry '@' and '+', which we escape.
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    /// A client for `server` (e.g. `http://127.0.0.1:8080`) sending `token` as a bearer token.
    pub fn new(server: &str, token: Option<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("dockwatch-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|source| ClientError::Http {
                url: server.to_owned(),
                source,
            })?;
        Ok(Self {
            http,
            base: server.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// A page of search results and the cursor of the next page, if any.
    pub async fn search_events_page(
        &self,
        org: &str,
        filters: &[(&str, String)],
    ) -> Result<(Vec<Value>, Option<String>)> {
        let path = format!(
            "/api/v1/orgs/{}/events{}",
            seg(org),
            events::query_string(filters)
        );
        let url = format!("{}{path}", self.base);
        let mut req = self.http.get(&url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let http = |source| ClientError::Http {
            url: url.clone(),
            source,
        };
        let resp = req.send().await.map_err(http)?;
        let status = resp.status();
        let next = resp
            .headers()
            .get("x-next-cursor")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.bytes().await.map_err(http)?;
        if !status.is_success() {
            return Err(api_error("GET", &path, status.as_u16(), &bytes));
        }
        let events = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok((events, next))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|source| ClientError::Http {
            url: url.clone(),
            source,
        })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|source| ClientError::Http {
            url: url.clone(),
            source,
        })?;
        if !status.is_success() {
            return Err(api_error(method.as_str(), path, status.as_u16(), &bytes));
        }
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Decode {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::GET, path, None::<&()>).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> Result<T> {
        self.call(method, path, Some(&body)).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.call::<Value>(Method::DELETE, path, None::<&()>)
            .await
            .map(drop)
    }

    /// Any API v1 `GET`, as JSON (for paths this client has no typed method for).
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        self.get(path).await
    }

    /// PUTs a JSON body to an API path and answers the JSON reply.
    pub async fn put_json(&self, path: &str, body: Value) -> Result<Value> {
        self.send(Method::PUT, path, body).await
    }

    /// Creates the first owner with the one-time sign-up token printed at first start.
    pub async fn sign_up(
        &self,
        token: &str,
        email: &str,
        password: &str,
        organization: &str,
    ) -> Result<User> {
        let body = json!({ "token": token, "email": email, "password": password, "organization": organization });
        self.send(Method::POST, "/api/v1/auth/signup", body).await
    }

    /// Who the token belongs to, and their organizations.
    pub async fn me(&self) -> Result<Me> {
        self.get("/api/v1/user").await
    }

    /// The caller's organizations.
    pub async fn orgs(&self) -> Result<Vec<Org>> {
        self.get("/api/v1/orgs").await
    }

    /// Creates an organization.
    pub async fn create_org(&self, name: &str, display_name: Option<&str>) -> Result<Org> {
        self.send(
            Method::POST,
            "/api/v1/orgs",
            json!({ "name": name, "display_name": display_name }),
        )
        .await
    }

    /// An organization.
    pub async fn org(&self, org: &str) -> Result<Org> {
        self.get(&format!("/api/v1/orgs/{}", seg(org))).await
    }

    /// Changes an organization's display name.
    pub async fn rename_org(&self, org: &str, display_name: &str) -> Result<Org> {
        self.send(
            Method::PATCH,
            &format!("/api/v1/orgs/{}", seg(org)),
            json!({ "display_name": display_name }),
        )
        .await
    }

    /// Deletes an organization.
    pub async fn delete_org(&self, org: &str) -> Result<()> {
        self.delete(&format!("/api/v1/orgs/{}", seg(org))).await
    }

    /// Members.
    pub async fn members(&self, org: &str) -> Result<Vec<Member>> {
        self.get(&format!("/api/v1/orgs/{}/members", seg(org)))
            .await
    }

    /// Invites a member; the answer holds the one-time acceptance token.
    pub async fn invite(&self, org: &str, email: &str, role: &str) -> Result<CreatedInvitation> {
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/invitations", seg(org)),
            json!({ "email": email, "role": role }),
        )
        .await
    }

    /// Pending invitations.
    pub async fn invitations(&self, org: &str) -> Result<Vec<Invitation>> {
        self.get(&format!("/api/v1/orgs/{}/invitations", seg(org)))
            .await
    }

    /// Accepts an invitation (no token needed).
    pub async fn accept(&self, token: &str, password: &str, name: &str) -> Result<Accepted> {
        self.send(
            Method::POST,
            "/api/v1/invitations/accept",
            json!({ "token": token, "password": password, "name": name }),
        )
        .await
    }

    /// Changes a member's role.
    pub async fn change_role(&self, org: &str, member: &str, role: &str) -> Result<Member> {
        self.send(
            Method::PATCH,
            &format!("/api/v1/orgs/{}/members/{}", seg(org), seg(member)),
            json!({ "role": role }),
        )
        .await
    }

    /// Removes a member.
    pub async fn remove_member(&self, org: &str, member: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/members/{}",
            seg(org),
            seg(member)
        ))
        .await
    }

    /// Teams.
    pub async fn teams(&self, org: &str) -> Result<Vec<Team>> {
        self.get(&format!("/api/v1/orgs/{}/teams", seg(org))).await
    }

    /// Creates a team.
    pub async fn create_team(&self, org: &str, name: &str, description: &str) -> Result<Team> {
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/teams", seg(org)),
            json!({ "name": name, "description": description }),
        )
        .await
    }

    /// Renames a team.
    pub async fn rename_team(&self, org: &str, team: &str, new_name: &str) -> Result<Team> {
        self.send(
            Method::PATCH,
            &format!("/api/v1/orgs/{}/teams/{}", seg(org), seg(team)),
            json!({ "name": new_name }),
        )
        .await
    }

    /// Deletes a team.
    pub async fn delete_team(&self, org: &str, team: &str) -> Result<()> {
        self.delete(&format!("/api/v1/orgs/{}/teams/{}", seg(org), seg(team)))
            .await
    }

    /// A team's members.
    pub async fn team_members(&self, org: &str, team: &str) -> Result<Vec<Member>> {
        self.get(&format!(
            "/api/v1/orgs/{}/teams/{}/members",
            seg(org),
            seg(team)
        ))
        .await
    }

    /// Adds a member to a team.
    pub async fn add_team_member(&self, org: &str, team: &str, member: &str) -> Result<Member> {
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/teams/{}/members", seg(org), seg(team)),
            json!({ "member": member }),
        )
        .await
    }

    /// Removes a member from a team.
    pub async fn remove_team_member(&self, org: &str, team: &str, member: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/teams/{}/members/{}",
            seg(org),
            seg(team),
            seg(member)
        ))
        .await
    }

    /// Repositories.
    pub async fn repositories(&self, org: &str) -> Result<Vec<Repository>> {
        self.get(&format!("/api/v1/orgs/{}/repositories", seg(org)))
            .await
    }

    /// A repository.
    pub async fn repository(&self, org: &str, repo: &str) -> Result<Repository> {
        self.get(&format!(
            "/api/v1/orgs/{}/repositories/{}",
            seg(org),
            seg(repo)
        ))
        .await
    }

    /// Creates a repository (`visibility` defaults to the organization's setting).
    pub async fn create_repository(
        &self,
        org: &str,
        name: &str,
        description: &str,
        visibility: Option<&str>,
    ) -> Result<Repository> {
        let body = json!({ "name": name, "description": description, "visibility": visibility });
        self.send(
            Method::POST,
            &format!("/api/v1/orgs/{}/repositories", seg(org)),
            body,
        )
        .await
    }

    /// Changes a repository's description and/or visibility.
    pub async fn update_repository(
        &self,
        org: &str,
        repo: &str,
        description: Option<&str>,
        visibility: Option<&str>,
    ) -> Result<Repository> {
        let body = json!({ "description": description, "visibility": visibility });
        self.send(
            Method::PATCH,
            &format!("/api/v1/orgs/{}/repositories/{}", seg(org), seg(repo)),
            body,
        )
        .await
    }

    /// Deletes a repository.
    pub async fn delete_repository(&self, org: &str, repo: &str) -> Result<()> {
        self.delete(&format!(
            "/api/v1/orgs/{}/repositories/{}",
            seg(org),
            seg(repo)
        ))
        .await
    }

    /// Personal tokens (`org` = None) or an organization's tokens.
    pub async fn tokens(&self, org: Option<&str>) -> Result<Vec<Token>> {
        match org {
            Some(org) => self.get(&format!("/api/v1/orgs/{}/tokens", seg(org))).await,
            None => self.get("/api/v1/user/tokens").await,
        }
    }

    /// Creates a personal or organization token; the answer holds its secret.
    pub async fn create_token(
        &self,
        org: Option<&str>,
        name: &str,
        scopes: &[String],
        expires_in_days: Option<u32>,
    ) -> Result<CreatedToken> {
        let body = json!({ "name": name, "scopes": scopes, "expires_in_days": expires_in_days });
        match org {
            Some(org) => {
                self.send(
                    Method::POST,
                    &format!("/api/v1/orgs/{}/tokens", seg(org)),
                    body,
                )
                .await
            }
            None => self.send(Method::POST, "/api/v1/user/tokens", body).await,
        }
    }

    /// Revokes a personal or organization token.
    pub async fn revoke_token(&self, org: Option<&str>, id: &str) -> Result<()> {
        match org {
            Some(org) => {
                self.delete(&format!("/api/v1/orgs/{}/tokens/{}", seg(org), seg(id)))
                    .await
            }
            None => {
                self.delete(&format!("/api/v1/user/tokens/{}", seg(id)))
                    .await
            }
        }
    }
}

/// The error for a non-success answer: the server's `{error: {code, message}}`, or its text.
pub(crate) fn api_error(method: &str, path: &str, status: u16, bytes: &[u8]) -> ClientError {
    let err: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    ClientError::Api {
        method: method.to_owned(),
        path: path.to_owned(),
        status,
        code: err["error"]["code"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned(),
        message: err["error"]["message"].as_str().map_or_else(
            || String::from_utf8_lossy(bytes).into_owned(),
            str::to_owned,
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(super::seg("ann+x@example.com"), "ann%2Bx%40example.com");
        assert_eq!(super::seg("my.repo_1"), "my.repo_1");
    }
}
