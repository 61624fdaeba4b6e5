//! Invitations: owners invite by email with a role; the invitee accepts with the one-time token.

use super::time;
use crate::AppState;
use crate::auth::{Principal, org_access};
use crate::error::ApiResult;
use crate::extract::{ClientInfo, JsonBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dockwatch_core::org::Role;
use dockwatch_store::members::Invitation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A pending invitation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationView {
    /// Id (used to revoke it).
    pub id: String,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// After this it can no longer be accepted (RFC 3339).
    pub expires_at: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.as_str().into(),
            created_at: time(i.created_ms),
            expires_at: time(i.expires_ms),
        }
    }
}

/// Who to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// Email address.
    pub email: String,
    /// `owner`, `editor` or `member` (default `member`).
    #[serde(default = "default_role")]
    #[schema(value_type = String)]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Member
}

/// An invitation just created, with its one-time token for the invitee.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedInvitation {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Give this to the invitee (`dockwatch member accept TOKEN`); shown this once.
    pub token: String,
}

/// Accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The invitation token.
    pub token: String,
    /// The password: a new one for a new account, the existing one otherwise.
    pub password: String,
    /// Display name for a new account.
    #[serde(default)]
    pub name: String,
}

/// The membership an acceptance created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// Organization name.
    pub organization: String,
    /// The member's email.
    pub email: String,
    /// Their role.
    pub role: String,
}

/// Lists pending invitations.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/invitations", tag = "members", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), responses((status = 200, body = Vec<InvitationView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<InvitationView>>> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    Ok(Json(
        state
            .store
            .invitations(&a.org.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Invites someone by email (owners; editors too when the organization's settings allow).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations", tag = "members", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name")), request_body = Invite,
    responses((status = 201, body = CreatedInvitation), (status = 409, body = crate::error::ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    who: Principal,
    Path(org): Path<String>,
    raw: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedInvitation>)> {
    let probe = org_access(&state, &who, &org, Role::Member).await?;
    let least = if probe.org.settings.editors_can_invite {
        Role::Editor
    } else {
        Role::Owner
    };
    org_access(&state, &who, &org, least).await?;
    let body: Invite = raw.parse()?;
    // Only owners may invite owners.
    let need = if body.role == Role::Owner {
        Role::Owner
    } else {
        least
    };
    let a = org_access(&state, &who, &org, need).await?;
    let email = body.email.trim().to_lowercase();
    let (inv, token) = state
        .store
        .invite(&who.actor, &a.org, &email, body.role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation {
            invitation: inv.into(),
            token,
        }),
    ))
}

/// Withdraws an invitation.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/invitations/{invitation_id}", tag = "members", security(("token" = ["owner"])),
    params(("org" = String, Path, description = "Organization name"), ("invitation_id" = String, Path, description = "Invitation id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: Principal,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let a = org_access(&state, &who, &org, Role::Owner).await?;
    state
        .store
        .revoke_invitation(&who.actor, &a.org, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts an invitation with its token (no other credentials: the token is the credential).
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "members", security(()), request_body = Accept,
    responses((status = 200, body = Accepted), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    client: ClientInfo,
    raw: JsonBody,
) -> ApiResult<Json<Accepted>> {
    let body: Accept = raw.parse()?;
    let (org, user, role) = state
        .store
        .accept_invitation(
            &body.token,
            body.name.trim(),
            &body.password,
            client.ip,
            client.user_agent,
        )
        .await?;
    Ok(Json(Accepted {
        organization: org,
        email: user.email,
        role: role.as_str().into(),
    }))
}

/// The invitation routes that need credentials.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, invite))
        .routes(routes!(revoke))
}

/// The acceptance route (public).
pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(accept))
}
