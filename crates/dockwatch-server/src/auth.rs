//! Authentication (bearer token or session cookie), checked by middleware before any body is
//! read or path looked up, and the role check every organization endpoint makes.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::ClientInfo;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use dockwatch_core::org::{Role, Scope};
use dockwatch_store::Actor;
use dockwatch_store::orgs::Org;
use dockwatch_store::tokens::AccessToken;
use dockwatch_store::users::User;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "dockwatch_session";

/// Who is calling: a user (by session or personal token) or an organization token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user, unless this is an organization token.
    pub user: Option<User>,
    /// The token used, if any (sessions have none).
    pub token: Option<AccessToken>,
    /// The actor recorded in the activity log.
    pub actor: Actor,
}

impl Principal {
    /// The user, or 403 for organization tokens.
    pub fn require_user(&self) -> ApiResult<&User> {
        self.user
            .as_ref()
            .ok_or_else(|| ApiError::Forbidden("organization tokens cannot act as a user".into()))
    }

    /// The highest role the credential allows (a token's scope caps its user's role).
    fn scope_cap(&self) -> Role {
        self.token
            .as_ref()
            .map_or(Role::Owner, |t| t.max_scope().max_role())
    }

    /// Refuses a credential whose scope is below `scope` (for actions outside organizations).
    pub fn require_scope(&self, scope: Scope) -> ApiResult<()> {
        match &self.token {
            Some(t) if t.max_scope() < scope => Err(ApiError::Forbidden(format!(
                "this token's scopes ({}) do not include {}",
                t.scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                scope.as_str()
            ))),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("sign in or send a bearer token".into()))
    }
}

/// Middleware: resolves the credentials or answers 401, before anything else runs.
pub async fn require_auth(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = req.into_parts();
    let principal = authenticate(&state, &parts).await?;
    parts.extensions.insert(principal);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

async fn authenticate(state: &AppState, parts: &Parts) -> ApiResult<Principal> {
    let client = ClientInfo::from_parts(parts);
    let actor = |kind: &str, id: &str, name: &str| Actor {
        kind: kind.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the authorization header must be `Bearer <token>`".into())
            })?;
        let hash = dockwatch_store::secret::hash(secret);
        let now_ms = dockwatch_core::Clock::now_millis(&dockwatch_core::SystemClock);
        let found = match state.tokens.get(&hash, now_ms) {
            Some(found) => found,
            None => {
                let found = state.store.authenticate_token(secret).await?;
                let found = found.ok_or_else(|| {
                    ApiError::Unauthorized("unknown, revoked or expired token".into())
                })?;
                state.tokens.put(hash, found.clone());
                found
            }
        };
        let actor = match &found.user {
            Some(u) => Actor {
                kind: "token".into(),
                id: found.token.id.clone(),
                name: format!("{} ({})", found.token.name, u.email),
                ..actor("", "", "")
            },
            None => actor("token", &found.token.id, &found.token.name),
        };
        if state.token_use.due(&found.token.id) {
            let every = crate::token_cache::TOKEN_USE_EVERY.as_millis() as i64;
            state
                .store
                .record_token_use(&actor, &found.token, every)
                .await?;
        }
        return Ok(Principal {
            user: found.user,
            token: Some(found.token),
            actor,
        });
    }
    if let Some(secret) = session_cookie(parts) {
        if let Some(user) = state.store.session_user(secret).await? {
            let a = actor("user", &user.id, &user.email);
            return Ok(Principal {
                user: Some(user),
                token: None,
                actor: a,
            });
        }
        return Err(ApiError::Unauthorized(
            "the session has expired; sign in again".into(),
        ));
    }
    Err(ApiError::Unauthorized(
        "sign in or send a bearer token".into(),
    ))
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

/// An organization and the role the caller acts with in it.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    /// The organization.
    pub org: Org,
    /// The caller's effective role.
    pub role: Role,
}

/// Loads `org_name` for the caller and checks it may act as `need`: 404 when the caller cannot
/// see the organization, 403 when its role (or token scope) is too low.
pub async fn org_access(
    state: &AppState,
    who: &Principal,
    org_name: &str,
    need: Role,
) -> ApiResult<OrgAccess> {
    let not_found = || ApiError::NotFound(format!("organization {org_name:?} not found"));
    let (org, role) = match (&who.user, &who.token) {
        (Some(user), _) => {
            let (org, role) = state
                .store
                .org_with_role(org_name, &user.id)
                .await
                .map_err(|e| match e {
                    dockwatch_store::StoreError::NotFound { .. } => not_found(),
                    e => e.into(),
                })?;
            (org, role.ok_or_else(not_found)?.min(who.scope_cap()))
        }
        (None, Some(token)) => {
            let org = state.store.org(org_name).await.map_err(|e| match e {
                dockwatch_store::StoreError::NotFound { .. } => not_found(),
                e => e.into(),
            })?;
            if token.org_id.as_deref() != Some(org.id.as_str()) {
                return Err(not_found());
            }
            (org, who.scope_cap())
        }
        (None, None) => {
            return Err(ApiError::Unauthorized(
                "sign in or send a bearer token".into(),
            ));
        }
    };
    if role < need {
        return Err(ApiError::Forbidden(format!(
            "this needs the {need} role in organization {org_name}; you act as {role}"
        )));
    }
    Ok(OrgAccess { org, role })
}
