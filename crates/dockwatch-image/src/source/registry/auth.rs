//! Registry credentials from the Docker client's configuration: `~/.docker/config.json` (or
//! `$DOCKER_CONFIG/config.json`) `auths`, and the `credsStore`/`credHelpers` helpers run as
//! `docker-credential-NAME get` (both done by the `docker_credential` crate).
//!
//! An `identitytoken` (what `docker login` stores for registries using OAuth2, such as Azure
//! Container Registry) is an OAuth2 refresh token: it is exchanged at the registry's token
//! endpoint (the `realm` of its `WWW-Authenticate: Bearer` challenge) with the `refresh_token`
//! grant for an access token scoped to the repository, as the Docker client does.

use docker_credential::DockerCredential;
use oci_client::secrets::RegistryAuth;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The key Docker Hub's credentials are stored under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// What `application/x-www-form-urlencoded` escapes: all but the unreserved characters.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The OAuth2 client id sent with the refresh-token grant.
const CLIENT_ID: &str = "dockwatch";

/// What the Docker configuration holds for a registry.
#[derive(Debug)]
pub enum Credentials {
    /// Usable as is: anonymous, or a user name and password.
    Auth(RegistryAuth),
    /// An OAuth2 refresh token, to exchange with [`exchange_identity_token`].
    IdentityToken(String),
}

/// The credentials for `registry` (a host, `host:port`), anonymous when none are configured.
pub fn credentials(registry: &str) -> Credentials {
    let key = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY,
        other => other,
    };
    match docker_credential::get_credential(key) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            tracing::debug!(
                registry,
                user,
                "Using credentials from the Docker configuration."
            );
            Credentials::Auth(RegistryAuth::Basic(user, password))
        }
        Ok(DockerCredential::IdentityToken(token)) => {
            tracing::debug!(
                registry,
                "Using the identity token from the Docker configuration."
            );
            Credentials::IdentityToken(token)
        }
        Err(error) => {
            tracing::debug!(registry, %error, "No credentials in the Docker configuration; pulling anonymously.");
            Credentials::Auth(RegistryAuth::Anonymous)
        }
    }
}

/// Exchanges `refresh_token` for a bearer token that may pull `repository` from the registry at
/// `base` (`https://host:port`). A registry without a bearer challenge needs no token:
/// anonymous. The error names the token endpoint and what it answered.
pub async fn exchange_identity_token(
    base: &str,
    repository: &str,
    refresh_token: &str,
) -> Result<RegistryAuth, String> {
    let client = reqwest013::Client::new();
    let ping = client
        .get(format!("{base}/v2/"))
        .send()
        .await
        .map_err(|e| format!("{base}/v2/: {e}"))?;
    let Some(challenge) = ping
        .headers()
        .get(reqwest013::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(BearerChallenge::parse)
    else {
        tracing::debug!(
            base,
            "The registry asks for no bearer token; the identity token is not needed."
        );
        return Ok(RegistryAuth::Anonymous);
    };
    let scope = format!("repository:{repository}:pull");
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", CLIENT_ID),
        ("scope", scope.as_str()),
    ];
    if let Some(service) = &challenge.service {
        form.push(("service", service));
    }
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, FORM)))
        .collect();
    let realm = &challenge.realm;
    let response = client
        .post(realm)
        .header(
            reqwest013::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.join("&"))
        .send()
        .await
        .map_err(|e| format!("token endpoint {realm}: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("token endpoint {realm}: {e}"))?;
    if !status.is_success() {
        let text: String = text.chars().take(200).collect();
        return Err(format!(
            "token endpoint {realm} refused the identity token from the Docker configuration: HTTP {status}: {text}"
        ));
    }
    #[derive(serde::Deserialize)]
    struct TokenResponse {
        access_token: Option<String>,
        token: Option<String>,
    }
    let parsed: TokenResponse = serde_json::from_str(&text)
        .map_err(|e| format!("token endpoint {realm}: unreadable answer: {e}"))?;
    parsed
        .access_token
        .or(parsed.token)
        .filter(|t| !t.is_empty())
        .map(RegistryAuth::Bearer)
        .ok_or_else(|| format!("token endpoint {realm}: the answer holds no access_token"))
}

/// `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, PartialEq, Eq)]
struct BearerChallenge {
    realm: String,
    service: Option<String>,
}

impl BearerChallenge {
    fn parse(header: &str) -> Option<Self> {
        let (scheme, params) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let (mut realm, mut service) = (None, None);
        let mut rest = params.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let after = after.trim_start();
            let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            match key.trim().to_ascii_lowercase().as_str() {
                "realm" => realm = Some(value.to_owned()),
                "service" => service = Some(value.to_owned()),
                _ => {}
            }
            rest = tail.trim_start().trim_start_matches(',').trim_start();
        }
        Some(Self {
            realm: realm?,
            service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse_quoted_and_bare_values() {
        let c = BearerChallenge::parse(
            r#"Bearer realm="https://auth.registry.example/token",service="registry.example",scope="repository:a/b:pull""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://auth.registry.example/token");
        assert_eq!(c.service.as_deref(), Some("registry.example"));
        let bare = BearerChallenge::parse("bearer realm=http://127.0.0.1:1/t, service=s").unwrap();
        assert_eq!(bare.realm, "http://127.0.0.1:1/t");
        assert_eq!(bare.service.as_deref(), Some("s"));
        assert_eq!(BearerChallenge::parse(r#"Basic realm="x""#), None);
        assert_eq!(BearerChallenge::parse(r#"Bearer service="no-realm""#), None);
    }
}
