//! Our own extractors: `ApiJson` (bad bodies become 400s naming the field) and `ClientInfo`.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body, read but not yet parsed: handlers check the caller's role first and parse
/// after, so a caller without the right gets 403 whatever the body holds.
#[derive(Debug)]
pub struct JsonBody(Bytes);

impl JsonBody {
    /// Deserializes the body; errors are 400s naming the field at fault.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::BadRequest {
                field: Some("body".into()),
                message: format!("request body: unreadable or larger than {MAX_BODY_BYTES} bytes"),
            })?;
        Ok(Self(bytes))
    }
}

/// Parses a JSON body, naming the field of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest {
                field: None,
                message: format!("request body: malformed JSON: {message}"),
            };
        }
        // serde names unknown and missing fields in the message, at the enclosing path.
        let named = ["unknown field `", "missing field `"].iter().find_map(|p| {
            message
                .strip_prefix(p)
                .and_then(|rest| rest.split('`').next())
        });
        let field = match (named, path.as_str()) {
            (Some(name), "." | "") => name.to_owned(),
            // Unknown fields already end the path; missing ones are named below their parent.
            (Some(name), p) if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
            (Some(name), parent) => format!("{parent}.{name}"),
            (None, ".") => "body".to_owned(),
            (None, p) => p.to_owned(),
        };
        ApiError::BadRequest {
            message: format!("{field}: {message}"),
            field: Some(field),
        }
    })
}

/// Where a request came from: IP and user agent, for the activity log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer's IP address.
    pub ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// Reads the peer address (when served with connect info) and the user agent.
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(512).collect()),
        }
    }
}

impl ClientInfo {
    /// The activity-log actor `kind`/`id`/`name` acting from this client.
    pub fn actor(&self, kind: &str, id: &str, name: &str) -> dockwatch_store::Actor {
        dockwatch_store::Actor {
            kind: kind.to_owned(),
            id: id.to_owned(),
            name: name.to_owned(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field(json: &str) -> Option<String> {
        match parse_json::<Body>(json.as_bytes()) {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field(r#"{"name": 1}"#).as_deref(), Some("name"));
        assert_eq!(
            field(r#"{"name": "a", "nmae": 1}"#).as_deref(),
            Some("nmae")
        );
        assert_eq!(field(r#"{}"#).as_deref(), Some("name"));
        assert_eq!(
            field(r#"{"name": "a", "inner": {"count": -1}}"#).as_deref(),
            Some("inner.count")
        );
        assert_eq!(
            field(r#"{"name": "a", "inner": {"x": 1}}"#).as_deref(),
            Some("inner.x")
        );
        assert_eq!(field(r#"{"name": "#), None);
    }
}
