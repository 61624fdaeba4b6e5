//! The machine's identity: `etc/machine-id`, the host name, and the OS from `etc/os-release`.

use super::{Probe, ProbeContext, warn};
use dockwatch_core::settings::report::{MachineReport, OsInfo};
use std::path::Path;

/// Reads machine id, host name and OS.
pub(crate) struct MachineProbe;

impl Probe for MachineProbe {
    fn name(&self) -> &'static str {
        "machine"
    }

    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport) {
        let id = ["etc/machine-id", "var/lib/dbus/machine-id"]
            .iter()
            .find_map(|rel| first_line(&ctx.path(rel)));
        report.machine.machine_id = id.unwrap_or_else(|| ctx.fallback_machine_id.clone());
        report.machine.hostname = first_line(&ctx.path("etc/hostname"))
            .or_else(real_hostname)
            .unwrap_or_else(|| "unknown".into());
        let mut os = OsInfo {
            family: ctx.os.as_str().into(),
            ..OsInfo::default()
        };
        for rel in ["etc/os-release", "usr/lib/os-release"] {
            let path = ctx.path(rel);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let fields = parse_os_release(&text);
                    let get = |k: &str| {
                        fields
                            .iter()
                            .find(|(key, _)| key == k)
                            .map(|(_, v)| v.clone())
                    };
                    os.id = get("ID");
                    os.version = get("VERSION_ID");
                    os.pretty_name = get("PRETTY_NAME");
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warn(
                    report,
                    self.name(),
                    Some(ctx.rel(&path)),
                    format!("cannot read: {e}"),
                ),
            }
        }
        report.machine.os = os;
    }
}

fn first_line(path: &Path) -> Option<String> {
    let bytes = super::read_bounded(path).ok()??;
    let text = String::from_utf8_lossy(&bytes);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

/// The running system's host name (Linux's procfs, else the environment).
fn real_hostname() -> Option<String> {
    first_line(Path::new("/proc/sys/kernel/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
}

/// `KEY=value` lines, values unquoted (os-release(5)).
fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.replace("\\\"", "\"")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_are_unquoted() {
        let f = parse_os_release(
            "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n# comment\nID=ubuntu\nPRETTY_NAME='Ubuntu 24.04.1 LTS'\n",
        );
        assert!(f.contains(&("ID".into(), "ubuntu".into())));
        assert!(f.contains(&("VERSION_ID".into(), "24.04".into())));
        assert!(f.contains(&("PRETTY_NAME".into(), "Ubuntu 24.04.1 LTS".into())));
    }
}
