//! Host probes: each one reads one kind of thing under `--root` into the machine report, and
//! turns every problem into a warning naming the file instead of failing.

mod admin_settings;
mod daemon_json;
mod desktop_settings;
mod docker_info;
mod machine;

use crate::layout::HostOs;
use dockwatch_core::settings::report::{
    EngineState, MachineIdentity, MachineReport, ProbeWarning, REPORT_SCHEMA,
};
use std::path::{Path, PathBuf};

pub use docker_info::fetch_json as docker_api_get;

/// One probe.
pub trait Probe: Send + Sync {
    /// A short name, used in warnings (`desktop-settings`).
    fn name(&self) -> &'static str;
    /// Reads what it reads into the report.
    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport);
}

/// Every probe, in the order they run (identity first: later probes may read it).
pub fn all() -> Vec<Box<dyn Probe>> {
    vec![
        Box::new(machine::MachineProbe),
        Box::new(desktop_settings::DesktopSettingsProbe),
        Box::new(admin_settings::AdminSettingsProbe),
        Box::new(daemon_json::DaemonJsonProbe),
        Box::new(docker_info::DockerInfoProbe),
    ]
}

/// What probes share: the root every path is under, and the OS layout.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// `--root`.
    pub root: PathBuf,
    /// The OS family the tree looks like.
    pub os: HostOs,
    /// An id to use when the host has no machine-id (kept in the state dir).
    pub fallback_machine_id: String,
}

impl ProbeContext {
    /// A context for a root.
    pub fn new(root: &Path, fallback_machine_id: String) -> Self {
        Self {
            root: root.to_path_buf(),
            os: HostOs::detect(root),
            fallback_machine_id,
        }
    }

    /// A path under the root, symbolic links resolved inside the root (see [`crate::rooted`]).
    pub fn path(&self, rel: &str) -> PathBuf {
        crate::rooted::resolve(&self.root, rel)
    }

    /// A path relative to the root, `/`-separated, for reports.
    pub fn rel(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Adds a warning to a report (bounded: extra warnings are dropped, the last one says so).
pub fn warn(report: &mut MachineReport, probe: &str, path: Option<String>, message: String) {
    use dockwatch_core::settings::report::MAX_WARNINGS;
    tracing::warn!(probe, path = path.as_deref().unwrap_or(""), "{message}");
    if report.warnings.len() + 1 < MAX_WARNINGS {
        report.warnings.push(ProbeWarning {
            probe: probe.into(),
            path,
            message,
        });
    } else if report.warnings.len() + 1 == MAX_WARNINGS {
        report.warnings.push(ProbeWarning {
            probe: "agent".into(),
            path: None,
            message: "more warnings were dropped".into(),
        });
    }
}

/// Runs every probe and returns the report (no policy state yet: see `cycle`).
pub fn collect(ctx: &ProbeContext, agent_version: &str, now_ms: i64) -> MachineReport {
    collect_with(ctx, agent_version, now_ms, &all())
}

fn collect_with(
    ctx: &ProbeContext,
    agent_version: &str,
    now_ms: i64,
    probes: &[Box<dyn Probe>],
) -> MachineReport {
    let mut report = MachineReport {
        schema: REPORT_SCHEMA,
        agent_version: agent_version.into(),
        collected_at_ms: now_ms,
        machine: MachineIdentity::default(),
        users: Vec::new(),
        admin_settings: None,
        applied_policy: None,
        engine: EngineState::default(),
        desktop_version: None,
        signed_in_user: None,
        warnings: Vec::new(),
    };
    for probe in probes {
        probe.run(ctx, &mut report);
    }
    report
}

/// The largest file a probe reads (Desktop's settings files are a few KiB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The signed-in user's e-mail as the probes can tell: the only user with one (see
/// `MachineReport::signed_in_email`); `dockwatch agent --user` names it otherwise.
pub fn signed_in_user(ctx: &ProbeContext) -> Option<String> {
    let report = collect_with(
        ctx,
        "",
        0,
        &[Box::new(desktop_settings::DesktopSettingsProbe)],
    );
    report.signed_in_email().map(str::to_owned)
}

/// Only the machine's identity (for enrollment).
pub fn identity(ctx: &ProbeContext) -> MachineIdentity {
    let mut report = collect_with(ctx, "", 0, &[Box::new(machine::MachineProbe)]);
    std::mem::take(&mut report.machine)
}

/// Reads a file of at most [`MAX_FILE_BYTES`]: `Ok(None)` when absent.
pub(crate) fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes; not read"));
    }
    Ok(Some(bytes))
}

/// Reads a JSON file: `Ok(None)` when absent; `Err(message)` when unreadable, too large or
/// malformed.
pub(crate) fn read_json(path: &Path) -> Result<Option<serde_json::Value>, String> {
    let Some(bytes) = read_bounded(path)? else {
        return Ok(None);
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| format!("not valid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new probe is one file plus one line in `all()`: this fails if the line is forgotten.
    #[test]
    fn every_probe_file_is_registered_once() {
        let names: Vec<&str> = all().iter().map(|p| p.name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/probe");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name() != "mod.rs")
            .count();
        assert_eq!(
            files,
            names.len(),
            "probe files vs registered probes {names:?}"
        );
    }
}
