//! The Engine's `etc/docker/daemon.json`.

use super::{Probe, ProbeContext, read_json, warn};
use crate::layout::DAEMON_JSON;
use dockwatch_core::settings::report::{MachineReport, bounded_value};
use serde_json::Value;

/// Reads daemon.json.
pub(crate) struct DaemonJsonProbe;

impl Probe for DaemonJsonProbe {
    fn name(&self) -> &'static str {
        "daemon-json"
    }

    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport) {
        match read_json(&ctx.path(DAEMON_JSON)) {
            Ok(None) => {}
            Ok(Some(Value::Object(map))) => {
                report.engine.daemon_json = Some(
                    map.into_iter()
                        .map(|(k, v)| (k, bounded_value(v)))
                        .collect(),
                );
                report.engine.daemon_json_path = Some(DAEMON_JSON.into());
            }
            Ok(Some(_)) => warn(
                report,
                self.name(),
                Some(DAEMON_JSON.into()),
                "not a JSON object".into(),
            ),
            Err(message) => warn(report, self.name(), Some(DAEMON_JSON.into()), message),
        }
    }
}
