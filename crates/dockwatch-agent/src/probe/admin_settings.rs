//! The installed `admin-settings.json`, wherever the OS keeps it.

use super::{Probe, ProbeContext, read_bounded, warn};
use crate::layout::ADMIN_SETTINGS_PATHS;
use dockwatch_core::settings::report::{InstalledAdminSettings, MachineReport};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Reads the installed admin-settings.json.
pub(crate) struct AdminSettingsProbe;

impl Probe for AdminSettingsProbe {
    fn name(&self) -> &'static str {
        "admin-settings"
    }

    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport) {
        for rel in ADMIN_SETTINGS_PATHS {
            let path = ctx.path(rel);
            let bytes = match read_bounded(&path) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(message) => {
                    warn(report, self.name(), Some(rel.to_string()), message);
                    continue;
                }
            };
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let content = match serde_json::from_slice::<Value>(text) {
                Ok(v) => v,
                Err(e) => {
                    warn(
                        report,
                        self.name(),
                        Some(rel.to_string()),
                        format!("not valid JSON: {e}"),
                    );
                    Value::Null
                }
            };
            report.admin_settings = Some(InstalledAdminSettings {
                path: rel.to_string(),
                sha256,
                content,
            });
            return;
        }
    }
}
