//! The organization model's vocabulary: roles, token scopes, repository visibility, and the
//! rules for names, emails and domains. Pure: the server and store both use these.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A member's role in an organization. Ordered: an owner may do all an editor may, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything in the organization.
    Member,
    /// Also creates, changes and deletes repositories.
    Editor,
    /// Also manages members, teams, tokens, SSO, domains and settings.
    Owner,
}

impl Role {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Editor => "editor",
            Self::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "member" => Ok(Self::Member),
            "editor" => Ok(Self::Editor),
            "owner" => Ok(Self::Owner),
            _ => Err(Invalid::new("role", "must be owner, editor or member")),
        }
    }
}

/// What an access token may do, on top of what its owner's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reads only.
    Read,
    /// Reads and editor-level changes.
    Write,
    /// Everything the owner's role allows.
    Admin,
}

impl Scope {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// The highest role this scope lets a token act with.
    pub fn max_role(self) -> Role {
        match self {
            Self::Read => Role::Member,
            Self::Write => Role::Editor,
            Self::Admin => Role::Owner,
        }
    }
}

impl FromStr for Scope {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            "admin" => Ok(Self::Admin),
            _ => Err(Invalid::new(
                "scopes",
                "each scope must be read, write or admin",
            )),
        }
    }
}

/// Who can see a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone may pull.
    Public,
    /// Only the organization's members.
    Private,
}

impl Visibility {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

impl FromStr for Visibility {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            _ => Err(Invalid::new("visibility", "must be public or private")),
        }
    }
}

/// A value that breaks a rule, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field, as named in the API.
    pub field: String,
    /// What rule it broke.
    pub message: String,
}

impl Invalid {
    /// A broken rule for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks an organization, team or repository name: 1 to 64 of `a-z 0-9 . _ -`, starting with a
/// letter or digit, so names are safe in URLs and CLI arguments.
pub fn check_name(field: &str, name: &str) -> Result<(), Invalid> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.is_empty() || name.len() > 64 || !first_ok || !name.chars().all(ok_char) {
        return Err(Invalid::new(
            field,
            format!(
                "{name:?} is not a valid name: use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// Checks free text such as a description: at most `max` characters, no control characters.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<(), Invalid> {
    if text.chars().count() > max {
        return Err(Invalid::new(field, format!("longer than {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Invalid::new(field, "contains control characters"));
    }
    Ok(())
}

/// Checks an email address's shape (one `@`, a dotted domain, no spaces). A syntactic sanity
/// check only: delivery is what proves an address, so no crate's full RFC 5322 parser is needed.
pub fn check_email(field: &str, email: &str) -> Result<(), Invalid> {
    let bad = || Invalid::new(field, format!("{email:?} is not an email address"));
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || email.len() > 254
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
        || check_domain(field, domain).is_err()
    {
        return Err(bad());
    }
    Ok(())
}

/// Checks a DNS domain name: at least two labels of `a-z 0-9 -`, each 1 to 63 long.
pub fn check_domain(field: &str, domain: &str) -> Result<(), Invalid> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err(Invalid::new(
            field,
            format!("{domain:?} is not a lowercase domain name"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner > Role::Editor && Role::Editor > Role::Member);
        assert_eq!("editor".parse::<Role>().unwrap(), Role::Editor);
        assert_eq!("boss".parse::<Role>().unwrap_err().field, "role");
        assert_eq!(Scope::Write.max_role(), Role::Editor);
    }

    #[test]
    fn names() {
        for good in ["a", "default", "team-1", "my.repo_2"] {
            check_name("name", good).unwrap();
        }
        for bad in ["", "-a", "A", "has space", "é", &"a".repeat(65)] {
            assert_eq!(check_name("name", bad).unwrap_err().field, "name", "{bad}");
        }
    }

    #[test]
    fn emails_and_domains() {
        check_email("email", "ann@example.com").unwrap();
        for bad in [
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "a n@example.com",
            "a@b@c.com",
        ] {
            assert!(check_email("email", bad).is_err(), "{bad}");
        }
        check_domain("domain", "corp.example").unwrap();
        assert!(check_domain("domain", "Corp.example").is_err());
        assert!(check_domain("domain", "-a.example").is_err());
    }
}

/// An organization's settings, as the API shows and accepts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrgSettings {
    /// Visibility of new repositories when the request does not say (default private).
    pub default_repository_visibility: Visibility,
    /// Days of activity log to keep; `None` keeps it forever (the default).
    pub event_retention_days: Option<u32>,
    /// Whether editors may invite members (default false: only owners).
    pub editors_can_invite: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            default_repository_visibility: Visibility::Private,
            event_retention_days: None,
            editors_can_invite: false,
        }
    }
}
