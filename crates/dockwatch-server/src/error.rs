//! `ApiError`: the one error shape of the HTTP API, `{"error": {"code", "message", "field"}}`.
//! Server-side failures are logged and answered with a generic message, never the details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dockwatch_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A failed request.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed; names the field when there is one.
    BadRequest {
        field: Option<String>,
        message: String,
    },
    /// 401: no valid credentials.
    Unauthorized(String),
    /// 403: authenticated, but not allowed.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409.
    Conflict(String),
    /// 413: the body is over a limit the message names.
    TooLarge(String),
    /// 429, with seconds to wait.
    TooManyRequests(u64),
    /// 502: a dependency outside the server (DNS) failed.
    BadGateway(String),
    /// 500: logged, not shown.
    Internal(String),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable kebab-case code: `invalid-request`, `unauthorized`, `forbidden`, `not-found`,
    /// `conflict`, `too-large`, `rate-limited`, `upstream-failed`, `internal`.
    pub code: &'static str,
    /// One line naming what was wrong.
    pub message: String,
    /// The request field at fault, for `invalid-request`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            field: Some(field.to_owned()),
            message: format!("{field}: {}", message.into()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::NotFound(e.to_string()),
            StoreError::Conflict { .. } => Self::Conflict(e.to_string()),
            StoreError::Invalid(invalid) => Self::BadRequest {
                field: Some(invalid.field.clone()),
                message: invalid.to_string(),
            },
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = match self {
            Self::BadRequest { field, message } => {
                (StatusCode::BAD_REQUEST, "invalid-request", message, field)
            }
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m, None),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m, None),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "not-found", m, None),
            Self::Conflict(m) => (StatusCode::CONFLICT, "conflict", m, None),
            Self::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", m, None),
            Self::TooManyRequests(secs) => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        code: "rate-limited",
                        message: format!("too many failed sign-ins; try again in {secs} s"),
                        field: None,
                    },
                };
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                return resp;
            }
            Self::BadGateway(m) => (StatusCode::BAD_GATEWAY, "upstream-failed", m, None),
            Self::Internal(m) => {
                tracing::error!(error = %m, "Request failed.");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log".to_owned(),
                    None,
                )
            }
        };
        (
            status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    field,
                },
            }),
        )
            .into_response()
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
