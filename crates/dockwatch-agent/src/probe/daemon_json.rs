//! The Engine's `etc/docker/daemon.json`, or, on a Docker Desktop machine without a system
//! Engine configuration, the first user's `~/.docker/daemon.json` (Desktop's Engine settings).

use super::{Probe, ProbeContext, read_json, warn};
use crate::layout::{DAEMON_JSON, USER_DAEMON_JSON, in_homes};
use dockwatch_core::settings::report::{MachineReport, bounded_value};
use serde_json::Value;

/// Reads daemon.json.
pub(crate) struct DaemonJsonProbe;

impl Probe for DaemonJsonProbe {
    fn name(&self) -> &'static str {
        "daemon-json"
    }

    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport) {
        let candidates = std::iter::once(DAEMON_JSON.to_string()).chain(
            USER_DAEMON_JSON
                .iter()
                .flat_map(|(homes, inside)| in_homes(&ctx.root, homes, inside)),
        );
        for rel in candidates {
            match read_json(&ctx.path(&rel)) {
                Ok(None) => continue,
                Ok(Some(Value::Object(map))) => {
                    report.engine.daemon_json = Some(
                        map.into_iter()
                            .map(|(k, v)| (k, bounded_value(v)))
                            .collect(),
                    );
                    report.engine.daemon_json_path = Some(rel);
                }
                Ok(Some(_)) => warn(report, self.name(), Some(rel), "not a JSON object".into()),
                Err(message) => warn(report, self.name(), Some(rel), message),
            }
            return;
        }
    }
}
