//! The API v1 wire types the client reads (kept to the fields the CLI uses and shows).

use serde::{Deserialize, Serialize};

/// `GET /user`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Me {
    /// `user` or `organization-token`.
    pub kind: String,
    /// The user, for users.
    pub user: Option<User>,
    /// Organizations and roles.
    pub organizations: Vec<OrgRole>,
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
}

/// An organization and a role in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgRole {
    /// Organization name.
    pub name: String,
    /// Role.
    pub role: String,
}

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// The caller's role.
    pub role: String,
    /// Creation time.
    pub created_at: String,
}

/// A member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Joined.
    pub joined_at: String,
}

/// A pending invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    /// Id.
    pub id: String,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: String,
    /// Created.
    pub created_at: String,
    /// Expires.
    pub expires_at: String,
}

/// An invitation with its one-time token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedInvitation {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The acceptance token.
    pub token: String,
}

/// An accepted invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accepted {
    /// Organization.
    pub organization: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
}

/// A team.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Team {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Members.
    pub member_count: i64,
    /// Created.
    pub created_at: String,
}

/// A repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repository {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// A token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `personal` or `organization`.
    pub kind: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: String,
    /// Expiry.
    pub expires_at: Option<String>,
}

/// A token with its secret, once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: Token,
    /// The secret.
    pub secret: String,
}
