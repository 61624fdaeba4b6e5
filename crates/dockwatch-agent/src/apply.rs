//! `--apply`: write the effective policy where Docker Desktop reads admin-settings.json,
//! atomically, and remember what was written.

use crate::error::AgentError;
use crate::probe::ProbeContext;
use crate::state::{AppliedRecord, StateDir, write_atomic};
use dockwatch_core::settings::{Policy, PolicyVersion};
use sha2::{Digest, Sha256};

/// Writes `policy` as this OS's admin-settings.json under the root (mode 0644: Desktop runs as
/// the user and must read it; only root may change it). Skips the write when the file already
/// holds exactly these bytes.
pub fn apply(
    ctx: &ProbeContext,
    name: &str,
    version: &PolicyVersion,
    policy: &Policy,
    now_ms: i64,
) -> Result<AppliedRecord, AgentError> {
    let rel = ctx.os.admin_settings_path();
    let path = ctx.path(rel);
    let bytes = policy.admin_settings_bytes();
    let file_sha256 = hex::encode(Sha256::digest(&bytes));
    let current = std::fs::read(&path).ok();
    if current.as_deref() != Some(&bytes[..]) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| AgentError::io("cannot create", dir, e))?;
        }
        write_atomic(&path, &bytes, 0o644)?;
        tracing::info!(path = %path.display(), policy = name, version = version.number, "Applied the policy.");
    }
    Ok(AppliedRecord {
        name: name.into(),
        version: version.clone(),
        path: rel.into(),
        file_sha256,
        applied_at_ms: now_ms,
    })
}

/// No policy is assigned any more: remove the admin-settings.json this agent wrote, if it is
/// still exactly what it wrote (a file installed by other means, or edited since, is left alone).
pub fn withdraw(ctx: &ProbeContext, state: &StateDir) -> Result<(), AgentError> {
    let Some(record) = state.applied()? else {
        tracing::info!("No policy is assigned to this machine; admin-settings.json left as it is.");
        return Ok(());
    };
    let path = ctx.path(&record.path);
    let ours = std::fs::read(&path)
        .is_ok_and(|bytes| hex::encode(Sha256::digest(&bytes)) == record.file_sha256);
    if ours {
        std::fs::remove_file(&path).map_err(|e| AgentError::io("cannot remove", &path, e))?;
        tracing::info!(path = %path.display(), policy = %record.name, "Policy unassigned: removed the admin-settings.json this agent wrote.");
    } else {
        tracing::info!(path = %path.display(), "Policy unassigned; admin-settings.json was changed since it was applied, so it is left as it is.");
    }
    state.forget_applied()
}
