//! Sign-in (a session cookie), sign-out, and the one-time first-owner sign-up.

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientInfo, JsonBody};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dockwatch_store::auth_events::SignInFailure;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
}

/// The first owner's account, with the token printed at first start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// The one-time sign-up token printed on stderr at first start.
    pub token: String,
    /// Email address.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Password (at least 8 characters).
    pub password: String,
    /// Name of the first organization (default `default`).
    #[serde(default)]
    pub organization: Option<String>,
}

fn session_cookie(state: &AppState, secret: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// Signs in with email and password; sets the session cookie. Failed attempts are rate-limited
/// per email and per IP.
#[utoipa::path(post, path = "/api/v1/auth/signin", tag = "session", security(()), request_body = SignIn,
    responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientInfo,
    raw: JsonBody,
) -> ApiResult<Response> {
    let body: SignIn = raw.parse()?;
    let email = body.email.trim().to_lowercase();
    let keys = vec![
        format!("email:{email}"),
        format!("ip:{}", client.ip.clone().unwrap_or_default()),
    ];
    if let Some(wait) = state.limiter.check(&keys) {
        return Err(ApiError::TooManyRequests(wait));
    }
    let Some(user) = state
        .store
        .check_credentials(&email, &body.password)
        .await?
    else {
        state.limiter.fail(&keys);
        tracing::info!(email = %email, ip = ?client.ip, "Failed sign-in.");
        let known = state.store.user_by_email(&email).await?;
        let why = if known.is_some() {
            SignInFailure::WrongPassword
        } else {
            SignInFailure::UnknownEmail
        };
        let actor = client.actor("user", known.as_ref().map_or("", |u| u.id.as_str()), &email);
        state
            .store
            .record_sign_in_failure(&actor, &email, known.as_ref(), why)
            .await?;
        return Err(ApiError::Unauthorized("wrong email or password".into()));
    };
    state.limiter.succeed(&keys[0]);
    state
        .store
        .record_sign_in(&client.actor("user", &user.id, &user.email), &user)
        .await?;
    let ttl = state.config.session_ttl;
    let secret = state
        .store
        .create_session(&user.id, ttl.as_millis() as i64)
        .await?;
    let mut resp = Json(SignedIn {
        id: user.id,
        email: user.email,
        name: user.name,
    })
    .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &secret, ttl.as_secs()),
    );
    Ok(resp)
}

/// Ends the session of the cookie sent, if any.
#[utoipa::path(post, path = "/api/v1/auth/signout", tag = "session", security(()), responses((status = 204)))]
pub async fn sign_out(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.headers = headers;
    if let Some(secret) = crate::auth::session_cookie(&parts) {
        let user = state.store.session_user(secret).await?;
        state.store.delete_session(secret).await?;
        if let Some(user) = user {
            state
                .store
                .record_sign_out(&client.actor("user", &user.id, &user.email), &user)
                .await?;
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(resp)
}

/// Creates the first owner and organization with the one-time token printed at first start.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "session", security(()), request_body = SignUp,
    responses((status = 201, body = SignedIn), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn sign_up(
    State(state): State<AppState>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<SignedIn>)> {
    let body: SignUp = raw.parse()?;
    let email = body.email.trim().to_lowercase();
    let name = if body.name.is_empty() {
        email.clone()
    } else {
        body.name
    };
    let org = body.organization.unwrap_or_else(|| "default".into());
    let user = state
        .store
        .sign_up(&body.token, &email, &name, &body.password, &org)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignedIn {
            id: user.id,
            email: user.email,
            name: user.name,
        }),
    ))
}

/// The session routes (public).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(sign_up))
}
