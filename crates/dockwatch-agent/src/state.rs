//! The agent's state dir: the machine credential (0600), the record of the last applied
//! policy, and a generated host id for hosts without `/etc/machine-id`.

use crate::error::{AgentError, random};
use dockwatch_core::settings::PolicyVersion;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What enrollment gave this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The server it belongs to (a credential is never sent to another server).
    pub server: String,
    /// The server's id for this machine.
    pub machine_id: String,
    /// The signing secret.
    pub credential: String,
    /// The organization.
    pub org: String,
}

/// What the agent last wrote to admin-settings.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedRecord {
    /// The policy's name.
    pub name: String,
    /// Its version.
    pub version: PolicyVersion,
    /// The file written, relative to the root.
    pub path: String,
    /// SHA-256 of the bytes written, to notice later edits.
    pub file_sha256: String,
    /// When (ms since the epoch).
    pub applied_at_ms: i64,
}

/// The state dir.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

const CREDENTIAL: &str = "credential.json";
const APPLIED: &str = "applied-policy.json";
const HOST_ID: &str = "host-id";

impl StateDir {
    /// Opens (creating, mode 0700) a state dir.
    pub fn open(dir: &Path) -> Result<Self, AgentError> {
        std::fs::create_dir_all(dir).map_err(|e| AgentError::io("cannot create", dir, e))?;
        restrict(dir, 0o700)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The credential for a server, if this machine enrolled with it.
    pub fn credential(&self, server: &str) -> Result<Option<Credential>, AgentError> {
        Ok(self
            .read::<Credential>(CREDENTIAL)?
            .filter(|c| c.server == server))
    }

    /// Stores the credential (0600).
    pub fn save_credential(&self, c: &Credential) -> Result<(), AgentError> {
        self.write(CREDENTIAL, c)
    }

    /// The last applied policy, if any.
    pub fn applied(&self) -> Result<Option<AppliedRecord>, AgentError> {
        self.read(APPLIED)
    }

    /// Records an applied policy.
    pub fn save_applied(&self, r: &AppliedRecord) -> Result<(), AgentError> {
        self.write(APPLIED, r)
    }

    /// Forgets the applied-policy record.
    pub fn forget_applied(&self) -> Result<(), AgentError> {
        let path = self.dir.join(APPLIED);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(AgentError::io("cannot remove", path, e))
            }
            _ => Ok(()),
        }
    }

    /// A stable random id for this host, made on first use.
    pub fn host_id(&self) -> Result<String, AgentError> {
        let path = self.dir.join(HOST_ID);
        match std::fs::read_to_string(&path) {
            Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AgentError::io("cannot read", path, e)),
        }
        let id = hex::encode(random::<16>()?);
        write_atomic(&path, format!("{id}\n").as_bytes(), 0o600)?;
        Ok(id)
    }

    fn read<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, AgentError> {
        let path = self.dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| AgentError::State {
                    path,
                    message: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AgentError::io("cannot read", path, e)),
        }
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<(), AgentError> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("state serializes");
        bytes.push(b'\n');
        write_atomic(&self.dir.join(name), &bytes, 0o600)
    }
}

/// Writes a file atomically: a temporary file beside it with the final mode, synced, renamed
/// over the target.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AgentError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.dockwatch-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        set_mode(&file, mode)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        AgentError::io("cannot write", path, e)
    })
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn restrict(dir: &Path, mode: u32) -> Result<(), AgentError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|e| AgentError::io("cannot set permissions on", dir, e))
}

#[cfg(not(unix))]
fn restrict(_dir: &Path, _mode: u32) -> Result<(), AgentError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_private_and_tied_to_its_server() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(&tmp.path().join("state")).unwrap();
        let c = Credential {
            server: "http://a.example".into(),
            machine_id: "m1".into(),
            credential: "secret".into(),
            org: "default".into(),
        };
        state.save_credential(&c).unwrap();
        assert_eq!(state.credential("http://a.example").unwrap(), Some(c));
        assert_eq!(state.credential("http://b.example").unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&tmp.path().join("state/credential.json")), 0o600);
            assert_eq!(mode(&tmp.path().join("state")), 0o700);
        }
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("state"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_corrupt_state_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path()).unwrap();
        std::fs::write(tmp.path().join("credential.json"), "{").unwrap();
        let err = state.credential("x").unwrap_err().to_string();
        assert!(err.contains("credential.json"), "{err}");
    }

    #[test]
    fn the_host_id_is_stable() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path()).unwrap();
        let a = state.host_id().unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(state.host_id().unwrap(), a);
    }
}
