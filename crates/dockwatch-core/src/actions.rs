//! The catalogue of activity-log actions: every action name any part of Dockwatch records, with
//! a short label and a description. The API serves it (`/events/actions`), the user guide lists
//! it, and tests in the store hold every emitted action to it, so the list cannot drift.

use crate::settings::transition::{self, actions as fleet};
use serde::Serialize;

/// One action: its stable dotted name, a label for tables, and what it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActionInfo {
    /// Stable dotted name (`member.role.changed`).
    pub name: &'static str,
    /// A short label (`Member role changed`).
    pub label: &'static str,
    /// What the event records, in one sentence.
    pub description: &'static str,
}

const fn a(name: &'static str, label: &'static str, description: &'static str) -> ActionInfo {
    ActionInfo {
        name,
        label,
        description,
    }
}

/// Sign-in succeeded.
pub const SIGNIN_SUCCEEDED: &str = "auth.signin.succeeded";
/// Sign-in failed.
pub const SIGNIN_FAILED: &str = "auth.signin.failed";
/// Sign-out.
pub const SIGNOUT: &str = "auth.signout";
/// An access token was used (throttled).
pub const TOKEN_USED: &str = "auth.token.used";
/// Expired events were pruned.
pub const EVENTS_PRUNED: &str = "activity_log.pruned";

/// Every action, grouped by what it is about.
pub const ACTIONS: &[ActionInfo] = &[
    // Sign-in and credentials.
    a(
        SIGNIN_SUCCEEDED,
        "Sign-in succeeded",
        "A user signed in with email and password; records the IP address and User-Agent.",
    ),
    a(
        SIGNIN_FAILED,
        "Sign-in failed",
        "A sign-in attempt failed (wrong password, unknown email, rate-limited); records the attempted email, IP address and User-Agent, never the password.",
    ),
    a(SIGNOUT, "Signed out", "A user ended a browser session."),
    a(
        TOKEN_USED,
        "Token used",
        "An access token authenticated a request; recorded at most once per token every 10 minutes.",
    ),
    // Users.
    a(
        "user.created",
        "User created",
        "A user account was created (sign-up, invitation accepted, or added by an owner).",
    ),
    a(
        "user.password.changed",
        "Password changed",
        "A user set or changed their password.",
    ),
    // Organizations.
    a(
        "organization.created",
        "Organization created",
        "An organization was created.",
    ),
    a(
        "organization.updated",
        "Organization updated",
        "An organization's display name changed.",
    ),
    a(
        "organization.settings.changed",
        "Organization settings changed",
        "An organization's settings changed; details hold the settings before and after.",
    ),
    a(
        "organization.deleted",
        "Organization deleted",
        "An organization was deleted.",
    ),
    // Members and invitations.
    a(
        "member.added",
        "Member added",
        "A user joined the organization with a role.",
    ),
    a(
        "member.role.changed",
        "Member role changed",
        "A member's role changed; details hold the role before and after.",
    ),
    a(
        "member.removed",
        "Member removed",
        "A member was removed from the organization.",
    ),
    a(
        "member.invited",
        "Member invited",
        "An invitation was sent to an email address with a role.",
    ),
    a(
        "member.invitation.revoked",
        "Invitation revoked",
        "A pending invitation was revoked.",
    ),
    // Teams.
    a("team.created", "Team created", "A team was created."),
    a(
        "team.renamed",
        "Team renamed",
        "A team's name changed; details hold the name before and after.",
    ),
    a(
        "team.updated",
        "Team updated",
        "A team's description changed.",
    ),
    a("team.deleted", "Team deleted", "A team was deleted."),
    a(
        "team.member.added",
        "Team member added",
        "A member was added to a team.",
    ),
    a(
        "team.member.removed",
        "Team member removed",
        "A member was removed from a team.",
    ),
    // Repositories and images.
    a(
        "repository.created",
        "Repository created",
        "A repository was created, public or private.",
    ),
    a(
        "repository.updated",
        "Repository updated",
        "A repository's description changed.",
    ),
    a(
        "repository.visibility.changed",
        "Repository visibility changed",
        "A repository was made public or private.",
    ),
    a(
        "repository.deleted",
        "Repository deleted",
        "A repository was deleted.",
    ),
    a(
        "image.pushed",
        "Image pushed",
        "An image was pushed to a repository (tag and digest in the details).",
    ),
    a(
        "image.pulled",
        "Image pulled",
        "An image was pulled from a repository (tag and digest in the details).",
    ),
    a(
        "image.vulnerability.new",
        "New vulnerability",
        "A vulnerability newly affects an analyzed image (advisory, severity and package in the details).",
    ),
    a(
        "image.vulnerability.resolved",
        "Vulnerability resolved",
        "A vulnerability no longer affects an analyzed image (its advisory was withdrawn or changed).",
    ),
    a(
        "image.indexed",
        "Image indexed",
        "An image's SBOM was stored for continuous vulnerability evaluation (digest in the details).",
    ),
    a(
        "image.deleted",
        "Image deleted",
        "A stored image SBOM and its findings were deleted.",
    ),
    a(
        "advisories.imported",
        "Advisories imported",
        "Advisories were imported into the server's database (counts in the details).",
    ),
    // Tokens.
    a(
        "token.created",
        "Token created",
        "A personal or organization access token was created (never its secret).",
    ),
    a(
        "token.revoked",
        "Token revoked",
        "An access token was revoked.",
    ),
    // Single sign-on and domains.
    a(
        "sso.connection.created",
        "SSO connection created",
        "A SAML or OIDC connection was configured.",
    ),
    a(
        "sso.connection.updated",
        "SSO connection updated",
        "The SSO connection's settings changed.",
    ),
    a(
        "sso.connection.deleted",
        "SSO connection deleted",
        "The SSO connection was removed.",
    ),
    a(
        "sso.enforcement.enabled",
        "SSO enforced",
        "Sign-in through SSO became mandatory.",
    ),
    a(
        "sso.enforcement.disabled",
        "SSO no longer enforced",
        "Sign-in through SSO stopped being mandatory.",
    ),
    a(
        "domain.added",
        "Domain added",
        "A domain was added, awaiting verification.",
    ),
    a(
        "domain.verified",
        "Domain verified",
        "A domain's ownership was verified.",
    ),
    a("domain.removed", "Domain removed", "A domain was removed."),
    // Fleet: policies, enrollment, compliance.
    a(
        fleet::POLICY_CREATED,
        "Policy created",
        "A settings policy was created (its version 1).",
    ),
    a(
        fleet::POLICY_VERSIONED,
        "Policy versioned",
        "A settings policy got a new version.",
    ),
    a(
        fleet::POLICY_DELETED,
        "Policy deleted",
        "A settings policy was deleted.",
    ),
    a(
        fleet::POLICY_ASSIGNED,
        "Policy assigned",
        "A policy was assigned to the organization, a team, a user or a machine.",
    ),
    a(
        fleet::POLICY_UNASSIGNED,
        "Policy unassigned",
        "A policy assignment was removed.",
    ),
    a(
        fleet::ENROLL_TOKEN_CREATED,
        "Enrollment token created",
        "A machine enrollment token was created.",
    ),
    a(
        fleet::ENROLL_TOKEN_REVOKED,
        "Enrollment token revoked",
        "A machine enrollment token was revoked.",
    ),
    a(
        fleet::MACHINE_ENROLLED,
        "Machine enrolled",
        "A machine's agent enrolled.",
    ),
    a(
        fleet::MACHINE_REVOKED,
        "Machine revoked",
        "A machine's credential was revoked.",
    ),
    a(
        transition::DRIFTED,
        "Settings drifted",
        "A machine's Docker Desktop settings stopped complying with its policy.",
    ),
    a(
        transition::DRIFT_CHANGED,
        "Drift changed",
        "A non-compliant machine's set of drifted settings changed.",
    ),
    a(
        transition::RESTORED,
        "Compliance restored",
        "A non-compliant machine complies again.",
    ),
    a(
        transition::COMPLIANT,
        "Compliant",
        "A machine complies (first report, or after being outdated or unknown).",
    ),
    a(
        transition::OUTDATED,
        "Policy outdated",
        "A machine's installed policy fell behind the current version.",
    ),
    a(
        transition::SILENT,
        "Machine silent",
        "A machine stopped reporting within the threshold.",
    ),
    a(
        transition::UNASSIGNED,
        "Policy gone",
        "A machine no longer has a policy assigned.",
    ),
    // Alerts.
    a(
        "alert.channel.created",
        "Alert channel created",
        "An alert channel (Slack, webhook, Splunk HEC, Sentinel, syslog) was added.",
    ),
    a(
        "alert.channel.deleted",
        "Alert channel deleted",
        "An alert channel was removed.",
    ),
    a(
        "alert.channel.secret_rotated",
        "Channel secret rotated",
        "A channel's signing secret was rotated or the rotation finished (never the secret).",
    ),
    a(
        "alert.rule.created",
        "Alert rule created",
        "An alert rule was added.",
    ),
    a(
        "alert.rule.deleted",
        "Alert rule deleted",
        "An alert rule was removed.",
    ),
    a(
        "alert.delivery.redelivered",
        "Delivery queued again",
        "A dead-lettered or failed alert delivery was queued again.",
    ),
    // The activity log itself.
    a(
        EVENTS_PRUNED,
        "Events pruned",
        "Events older than the retention period were deleted; details hold how many and the checkpoint the chain now starts from.",
    ),
];

/// The catalogue entry for `name`.
pub fn find(name: &str) -> Option<&'static ActionInfo> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// Whether `name` is a well-formed action name: lowercase dotted words of letters, digits and `_`.
pub fn is_well_formed(name: &str) -> bool {
    name.contains('.')
        && name.split('.').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The catalogue as a Markdown table (the list in `docs/activity-log.md`).
pub fn markdown_table() -> String {
    let mut out = String::from("| Action | Label | Description |\n|---|---|---|\n");
    for a in ACTIONS {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            a.name, a.label, a.description
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for a in ACTIONS {
            assert!(is_well_formed(a.name), "{}", a.name);
            assert!(seen.insert(a.name), "{} listed twice", a.name);
            assert!(
                !a.label.is_empty() && a.description.ends_with('.'),
                "{}",
                a.name
            );
        }
    }

    #[test]
    fn every_fleet_transition_is_listed() {
        for name in transition::ACTIONS {
            assert!(find(name).is_some(), "{name}");
        }
    }

    /// The list in the user guide is this catalogue (`UPDATE_GOLDEN=1` rewrites it).
    #[test]
    fn the_user_guide_lists_the_catalogue() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/activity-log.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- actions:begin -->\n", "<!-- actions:end -->");
        let start = text
            .find(begin)
            .expect("docs/activity-log.md has an actions:begin marker")
            + begin.len();
        let stop = text
            .find(end)
            .expect("docs/activity-log.md has an actions:end marker");
        let table = markdown_table();
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, format!("{}{table}{}", &text[..start], &text[stop..])).unwrap();
            return;
        }
        assert_eq!(
            &text[start..stop],
            table,
            "docs/activity-log.md: run with UPDATE_GOLDEN=1"
        );
    }

    #[test]
    fn malformed_names_are_refused() {
        assert!(!is_well_formed("team"));
        assert!(!is_well_formed("Team.created"));
        assert!(!is_well_formed("team..created"));
    }
}
