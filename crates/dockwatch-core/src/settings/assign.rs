//! Who a policy applies to, and which policy wins for a machine and user: machine over user over
//! team over organization (Docker documents "user-specific over the organization default"; we
//! add the machine and team levels around it).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a policy is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Scope {
    /// The whole organization (the default for everyone in it).
    Org,
    /// The members of a team.
    Team(String),
    /// One user, by e-mail address.
    User(String),
    /// One machine, by its machine id.
    Machine(String),
}

impl Scope {
    /// Higher wins: org 0, team 1, user 2, machine 3.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Org => 0,
            Self::Team(_) => 1,
            Self::User(_) => 2,
            Self::Machine(_) => 3,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Org => f.write_str("org"),
            Self::Team(t) => write!(f, "team:{t}"),
            Self::User(u) => write!(f, "user:{u}"),
            Self::Machine(m) => write!(f, "machine:{m}"),
        }
    }
}

/// A scope that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid assignment \"{0}\": expected org, team:NAME, user:EMAIL or machine:ID")]
pub struct ScopeError(pub String);

impl FromStr for Scope {
    type Err = ScopeError;

    /// Reads `org`, `team:NAME`, `user:EMAIL`, `machine:ID` (the `--assign` syntax).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ScopeError(s.to_string());
        if s == "org" {
            return Ok(Self::Org);
        }
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        let id = id.trim();
        if id.is_empty() {
            return Err(bad());
        }
        match kind {
            "team" => Ok(Self::Team(id.into())),
            "user" if id.contains('@') => Ok(Self::User(id.to_ascii_lowercase())),
            "machine" => Ok(Self::Machine(id.into())),
            _ => Err(bad()),
        }
    }
}

/// One assignment of a policy to a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Who.
    pub scope: Scope,
    /// Which policy (the store's id or name).
    pub policy: String,
    /// When it was made (ms since the epoch); the later one wins between equal scopes.
    pub assigned_at_ms: i64,
}

/// The subject whose effective policy is wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject<'a> {
    /// The machine's id.
    pub machine_id: &'a str,
    /// The user's e-mail address, when known.
    pub user_email: Option<&'a str>,
    /// The teams the user belongs to.
    pub teams: &'a [String],
}

/// The assignment that decides the subject's policy: the matching one of highest scope rank;
/// among equal ranks (a user in two teams) the most recent, then the smallest policy name, so
/// the answer never depends on input order.
pub fn resolve<'a>(assignments: &'a [Assignment], subject: &Subject<'_>) -> Option<&'a Assignment> {
    assignments
        .iter()
        .filter(|a| matches(&a.scope, subject))
        .max_by(|a, b| {
            a.scope
                .rank()
                .cmp(&b.scope.rank())
                .then(a.assigned_at_ms.cmp(&b.assigned_at_ms))
                .then(b.policy.cmp(&a.policy))
        })
}

fn matches(scope: &Scope, s: &Subject<'_>) -> bool {
    match scope {
        Scope::Org => true,
        Scope::Team(t) => s.teams.iter().any(|x| x == t),
        Scope::User(u) => s.user_email.is_some_and(|e| e.eq_ignore_ascii_case(u)),
        Scope::Machine(m) => m == s.machine_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(scope: &str, policy: &str, at: i64) -> Assignment {
        Assignment {
            scope: scope.parse().unwrap(),
            policy: policy.into(),
            assigned_at_ms: at,
        }
    }

    fn winner(
        assignments: &[Assignment],
        machine: &str,
        email: Option<&str>,
        teams: &[&str],
    ) -> Option<String> {
        let teams: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        let subject = Subject {
            machine_id: machine,
            user_email: email,
            teams: &teams,
        };
        resolve(assignments, &subject).map(|a| a.policy.clone())
    }

    #[test]
    fn machine_beats_user_beats_team_beats_org() {
        let all = [
            a("org", "baseline", 1),
            a("team:platform", "platform", 2),
            a("user:alice@corp.example", "alice", 3),
            a("machine:m1", "kiosk", 4),
        ];
        assert_eq!(
            winner(&all, "m1", Some("alice@corp.example"), &["platform"]).as_deref(),
            Some("kiosk")
        );
        assert_eq!(
            winner(&all, "m2", Some("Alice@Corp.example"), &["platform"]).as_deref(),
            Some("alice")
        );
        assert_eq!(
            winner(&all, "m2", Some("bob@corp.example"), &["platform"]).as_deref(),
            Some("platform")
        );
        assert_eq!(winner(&all, "m2", None, &[]).as_deref(), Some("baseline"));
        // Rank wins over recency: an older user assignment beats a newer org default.
        let later_org = [
            a("user:alice@corp.example", "alice", 1),
            a("org", "baseline", 9),
        ];
        assert_eq!(
            winner(&later_org, "m2", Some("alice@corp.example"), &[]).as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn nothing_assigned_means_no_policy() {
        assert_eq!(
            winner(&[a("team:ops", "ops", 1)], "m1", None, &["dev"]),
            None
        );
        assert_eq!(winner(&[], "m1", None, &[]), None);
    }

    #[test]
    fn ties_are_broken_by_recency_then_name_whatever_the_order() {
        let mut two = vec![a("team:a", "team-a", 5), a("team:b", "team-b", 7)];
        assert_eq!(
            winner(&two, "m", None, &["a", "b"]).as_deref(),
            Some("team-b")
        );
        two.reverse();
        assert_eq!(
            winner(&two, "m", None, &["a", "b"]).as_deref(),
            Some("team-b")
        );
        let same_time = [a("team:a", "zeta", 5), a("team:b", "alpha", 5)];
        assert_eq!(
            winner(&same_time, "m", None, &["a", "b"]).as_deref(),
            Some("alpha")
        );
    }

    #[test]
    fn scopes_parse_and_print() {
        for s in [
            "org",
            "team:platform",
            "user:alice@corp.example",
            "machine:abc123",
        ] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        for bad in ["", "orgs", "user:alice", "team:", "group:x"] {
            assert_eq!(bad.parse::<Scope>(), Err(ScopeError(bad.into())));
        }
    }
}
