//! What an agent reports about its machine: identity, each user's Docker Desktop settings, the
//! installed admin-settings.json, the Engine's daemon.json and `docker info`, and the warnings
//! met on the way. Versioned and bounded so the server can refuse what is not a report.

use super::policy::PolicyVersion;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The report schema this build writes and reads.
pub const REPORT_SCHEMA: u32 = 1;
/// The largest report body accepted, in bytes.
pub const MAX_REPORT_BYTES: usize = 512 * 1024;
/// At most this many users per report.
pub const MAX_USERS: usize = 64;
/// At most this many settings files per user.
pub const MAX_FILES_PER_USER: usize = 4;
/// At most this many keys per settings file (Desktop's files have about 100).
pub const MAX_KEYS_PER_FILE: usize = 1000;
/// At most this many warnings.
pub const MAX_WARNINGS: usize = 100;
/// A single setting value whose JSON is longer than this is replaced by a marker.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

/// One machine's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineReport {
    /// Always [`REPORT_SCHEMA`] for reports this build writes.
    pub schema: u32,
    /// The agent's version.
    pub agent_version: String,
    /// When the probes ran (ms since the epoch, the machine's clock).
    pub collected_at_ms: i64,
    /// Who the machine is.
    pub machine: MachineIdentity,
    /// Each user's Docker Desktop settings.
    #[serde(default)]
    pub users: Vec<UserSettings>,
    /// The admin-settings.json Docker Desktop would read, when one is installed.
    #[serde(default)]
    pub admin_settings: Option<InstalledAdminSettings>,
    /// The policy version this agent last applied, when the installed file is still the one it
    /// wrote.
    #[serde(default)]
    pub applied_policy: Option<PolicyVersion>,
    /// The Engine: daemon.json and `docker info`.
    #[serde(default)]
    pub engine: EngineState,
    /// Docker Desktop as seen from the Engine (`/version`'s platform name).
    #[serde(default)]
    pub desktop_version: Option<String>,
    /// The e-mail address of the user signed in on this machine, whose effective policy the
    /// machine gets (see [`MachineReport::signed_in_email`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_user: Option<String>,
    /// Problems met while probing (a malformed file, an unreadable socket), never fatal.
    #[serde(default)]
    pub warnings: Vec<ProbeWarning>,
}

/// The machine's identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineIdentity {
    /// `/etc/machine-id` (or the agent's own generated id when the host has none).
    pub machine_id: String,
    /// The host name.
    pub hostname: String,
    /// The operating system.
    pub os: OsInfo,
}

/// The operating system, from `/etc/os-release` where there is one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `linux`, `macos`, `windows`.
    pub family: String,
    /// os-release `ID` (`ubuntu`, `fedora`).
    #[serde(default)]
    pub id: Option<String>,
    /// os-release `VERSION_ID`.
    #[serde(default)]
    pub version: Option<String>,
    /// os-release `PRETTY_NAME`.
    #[serde(default)]
    pub pretty_name: Option<String>,
}

/// Which of Desktop's settings files a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingsFileKind {
    /// `settings-store.json` (Desktop 4.35 and later).
    SettingsStore,
    /// `settings.json` (Desktop 4.34 and earlier).
    Settings,
}

/// One settings file as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsFile {
    /// The path relative to the agent's root, `/`-separated.
    pub path: String,
    /// Which file it is.
    pub kind: SettingsFileKind,
    /// Its top-level keys and values (oversized values replaced by [`oversized_marker`]).
    pub values: Map<String, Value>,
}

/// A user of the machine who has Docker Desktop settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSettings {
    /// The account name (the home folder's name; `root` for `/root`).
    pub account: String,
    /// The numeric owner of the home folder, where the platform has one.
    #[serde(default)]
    pub uid: Option<u32>,
    /// An e-mail address for the user, when the agent found one, and where (see docs/fleet.md).
    #[serde(default)]
    pub email: Option<String>,
    /// The settings files found, newest format first.
    pub files: Vec<SettingsFile>,
}

/// The installed admin-settings.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledAdminSettings {
    /// The path relative to the agent's root.
    pub path: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The parsed content (`null` when it is not JSON; a warning says why).
    pub content: Value,
}

/// The Engine's configuration as found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// `/etc/docker/daemon.json`, parsed, when present and valid.
    #[serde(default)]
    pub daemon_json: Option<Map<String, Value>>,
    /// Where daemon.json was read, relative to the agent's root.
    #[serde(default)]
    pub daemon_json_path: Option<String>,
    /// `GET /info` through the Engine socket, when one answered.
    #[serde(default)]
    pub info: Option<DockerInfo>,
}

/// The part of `docker info` (Engine API `GET /info`) compliance reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DockerInfo {
    /// `ServerVersion`.
    #[serde(default)]
    pub server_version: Option<String>,
    /// `OperatingSystem` (`Docker Desktop` for Desktop's engine).
    #[serde(default)]
    pub operating_system: Option<String>,
    /// `KernelVersion`.
    #[serde(default)]
    pub kernel_version: Option<String>,
    /// `LiveRestoreEnabled`.
    #[serde(default)]
    pub live_restore_enabled: Option<bool>,
    /// `SecurityOptions` (`name=seccomp,profile=builtin`, `name=userns`...).
    #[serde(default)]
    pub security_options: Vec<String>,
    /// `ExperimentalBuild`.
    #[serde(default)]
    pub experimental_build: Option<bool>,
    /// `LoggingDriver`.
    #[serde(default)]
    pub logging_driver: Option<String>,
}

/// A non-fatal problem met by a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeWarning {
    /// The probe's name.
    pub probe: String,
    /// The file or socket concerned, relative to the agent's root.
    #[serde(default)]
    pub path: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Why a report body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportError {
    /// Larger than [`MAX_REPORT_BYTES`].
    #[error("report too large: {size} bytes, the limit is {MAX_REPORT_BYTES}")]
    TooLarge {
        /// The body's size.
        size: usize,
    },
    /// Not a report.
    #[error("malformed report: {0}")]
    Malformed(String),
    /// A schema this build does not read.
    #[error("unsupported report schema {found} (this server reads {REPORT_SCHEMA})")]
    Schema {
        /// The schema found.
        found: u32,
    },
    /// A list over its bound.
    #[error("report field {field} has {count} entries, the limit is {limit}")]
    TooMany {
        /// Which list.
        field: &'static str,
        /// How many entries it has.
        count: usize,
        /// The bound.
        limit: usize,
    },
    /// A required field is empty.
    #[error("report field {0} is empty")]
    Empty(&'static str),
    /// A field holds a value it cannot hold.
    #[error("report field {field}: {message}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl MachineReport {
    /// Parses and checks a report body: size, schema, bounds, a machine id.
    pub fn from_json(body: &[u8]) -> Result<Self, ReportError> {
        if body.len() > MAX_REPORT_BYTES {
            return Err(ReportError::TooLarge { size: body.len() });
        }
        let report: Self =
            serde_json::from_slice(body).map_err(|e| ReportError::Malformed(e.to_string()))?;
        report.check()?;
        Ok(report)
    }

    /// Checks the bounds of a report already in memory.
    pub fn check(&self) -> Result<(), ReportError> {
        if self.schema != REPORT_SCHEMA {
            return Err(ReportError::Schema { found: self.schema });
        }
        if self.machine.machine_id.trim().is_empty() {
            return Err(ReportError::Empty("machine.machine_id"));
        }
        if let Some(email) = &self.signed_in_user
            && !is_email(email)
        {
            return Err(ReportError::Invalid {
                field: "signed_in_user",
                message: format!("expected an e-mail address, found {email:?}"),
            });
        }
        bound("users", self.users.len(), MAX_USERS)?;
        bound("warnings", self.warnings.len(), MAX_WARNINGS)?;
        for u in &self.users {
            bound("users[].files", u.files.len(), MAX_FILES_PER_USER)?;
            for f in &u.files {
                bound("users[].files[].values", f.values.len(), MAX_KEYS_PER_FILE)?;
            }
        }
        Ok(())
    }

    /// The e-mail address of the machine's signed-in user: [`Self::signed_in_user`] when the
    /// agent named one, else the e-mail of the only user with one (none when zero or several).
    pub fn signed_in_email(&self) -> Option<&str> {
        if let Some(e) = &self.signed_in_user {
            return Some(e);
        }
        let mut emails = self.users.iter().filter_map(|u| u.email.as_deref());
        match (emails.next(), emails.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// The user with this account name.
    pub fn user(&self, account: &str) -> Option<&UserSettings> {
        self.users.iter().find(|u| u.account == account)
    }
}

/// A plausible e-mail address: one `@` with text on both sides, no spaces, at most 320 bytes.
pub fn is_email(s: &str) -> bool {
    s.len() <= 320
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('@'))
}

fn bound(field: &'static str, count: usize, limit: usize) -> Result<(), ReportError> {
    if count > limit {
        Err(ReportError::TooMany {
            field,
            count,
            limit,
        })
    } else {
        Ok(())
    }
}

/// What replaces a value larger than [`MAX_VALUE_BYTES`] in a report.
pub fn oversized_marker(size: usize) -> Value {
    serde_json::json!({ "dockwatch-omitted": format!("value of {size} bytes") })
}

/// Keeps a settings value if it is small enough, else the marker.
pub fn bounded_value(value: Value) -> Value {
    let size = serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(0);
    if size > MAX_VALUE_BYTES {
        oversized_marker(size)
    } else {
        value
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> MachineReport {
        MachineReport {
            schema: REPORT_SCHEMA,
            agent_version: "0.1.0".into(),
            collected_at_ms: 1_700_000_000_000,
            machine: MachineIdentity {
                machine_id: "4c4c4544003957108052b4c04f384833".into(),
                hostname: "dev-42".into(),
                os: OsInfo {
                    family: "linux".into(),
                    id: Some("ubuntu".into()),
                    version: Some("24.04".into()),
                    pretty_name: Some("Ubuntu 24.04.1 LTS".into()),
                },
            },
            users: vec![],
            admin_settings: None,
            applied_policy: None,
            engine: EngineState::default(),
            desktop_version: None,
            signed_in_user: None,
            warnings: vec![],
        }
    }

    #[test]
    fn a_report_round_trips_and_bad_ones_are_named() {
        let body = serde_json::to_vec(&sample()).unwrap();
        assert_eq!(MachineReport::from_json(&body).unwrap(), sample());

        let mut r = sample();
        r.schema = 9;
        let err = MachineReport::from_json(&serde_json::to_vec(&r).unwrap()).unwrap_err();
        assert_eq!(err, ReportError::Schema { found: 9 });

        let mut r = sample();
        r.machine.machine_id = " ".into();
        assert_eq!(r.check(), Err(ReportError::Empty("machine.machine_id")));

        assert!(matches!(
            MachineReport::from_json(b"{\"schema\": 1}"),
            Err(ReportError::Malformed(_))
        ));
        let big = vec![b' '; MAX_REPORT_BYTES + 1];
        assert!(matches!(
            MachineReport::from_json(&big),
            Err(ReportError::TooLarge { .. })
        ));

        let mut r = sample();
        r.warnings = vec![
            ProbeWarning {
                probe: "x".into(),
                path: None,
                message: "m".into()
            };
            MAX_WARNINGS + 1
        ];
        assert!(matches!(
            r.check(),
            Err(ReportError::TooMany {
                field: "warnings",
                ..
            })
        ));
    }

    #[test]
    fn the_signed_in_user_is_named_or_the_only_one_with_an_email() {
        let user = |account: &str, email: Option<&str>| UserSettings {
            account: account.into(),
            uid: None,
            email: email.map(Into::into),
            files: vec![],
        };
        let mut r = sample();
        assert_eq!(r.signed_in_email(), None);
        r.users = vec![user("alice", Some("alice@corp.example")), user("ci", None)];
        assert_eq!(r.signed_in_email(), Some("alice@corp.example"));
        r.users.push(user("bob", Some("bob@corp.example")));
        assert_eq!(r.signed_in_email(), None, "two candidates: none");
        r.signed_in_user = Some("bob@corp.example".into());
        assert_eq!(r.signed_in_email(), Some("bob@corp.example"));
        r.signed_in_user = Some("not an email".into());
        assert!(matches!(
            r.check(),
            Err(ReportError::Invalid {
                field: "signed_in_user",
                ..
            })
        ));
    }

    #[test]
    fn oversized_values_are_replaced() {
        assert_eq!(bounded_value(Value::Bool(true)), Value::Bool(true));
        let big = Value::String("x".repeat(MAX_VALUE_BYTES + 10));
        assert!(bounded_value(big).get("dockwatch-omitted").is_some());
    }
}
