//! Each user's Docker Desktop settings: `settings-store.json` (Desktop 4.35+) and the older
//! `settings.json`, in every home folder layout (Linux, root, macOS, Windows).

use super::{Probe, ProbeContext, read_json, warn};
use crate::layout::HOME_LAYOUTS;
use dockwatch_core::settings::report::{
    MAX_FILES_PER_USER, MAX_KEYS_PER_FILE, MAX_USERS, MachineReport, SettingsFile,
    SettingsFileKind, UserSettings, bounded_value,
};
use serde_json::Value;
use std::path::Path;

/// Reads users' Desktop settings.
pub(crate) struct DesktopSettingsProbe;

const FILES: &[(&str, SettingsFileKind)] = &[
    ("settings-store.json", SettingsFileKind::SettingsStore),
    ("settings.json", SettingsFileKind::Settings),
];

impl Probe for DesktopSettingsProbe {
    fn name(&self) -> &'static str {
        "desktop-settings"
    }

    fn run(&self, ctx: &ProbeContext, report: &mut MachineReport) {
        for layout in HOME_LAYOUTS {
            for account in accounts(ctx, layout.homes, layout.single) {
                let home_rel = if layout.single {
                    layout.homes.to_string()
                } else {
                    format!("{}/{account}", layout.homes)
                };
                let mut files = Vec::new();
                for (name, kind) in FILES {
                    let rel = format!("{home_rel}/{}/{name}", layout.settings_dir);
                    match read_json(&ctx.path(&rel)) {
                        Ok(None) => {}
                        Ok(Some(Value::Object(map))) => {
                            if map.len() > MAX_KEYS_PER_FILE {
                                warn(
                                    report,
                                    self.name(),
                                    Some(rel.clone()),
                                    format!(
                                        "{} keys; only the first {MAX_KEYS_PER_FILE} are reported",
                                        map.len()
                                    ),
                                );
                            }
                            let values = map
                                .into_iter()
                                .take(MAX_KEYS_PER_FILE)
                                .map(|(k, v)| (k, bounded_value(v)))
                                .collect();
                            files.push(SettingsFile {
                                path: rel,
                                kind: *kind,
                                values,
                            });
                        }
                        Ok(Some(_)) => {
                            warn(report, self.name(), Some(rel), "not a JSON object".into())
                        }
                        Err(message) => warn(report, self.name(), Some(rel), message),
                    }
                }
                if files.is_empty() {
                    continue;
                }
                if report.users.len() >= MAX_USERS {
                    warn(
                        report,
                        self.name(),
                        None,
                        format!("more than {MAX_USERS} users; the rest are not reported"),
                    );
                    return;
                }
                files.truncate(MAX_FILES_PER_USER);
                let home = ctx.path(&home_rel);
                report.users.push(UserSettings {
                    account,
                    uid: owner_uid(&home),
                    email: git_email(&ctx.path(&format!("{home_rel}/.gitconfig"))),
                    files,
                });
            }
        }
    }
}

/// Account names under a folder of homes (sorted), or the single home's own name.
fn accounts(ctx: &ProbeContext, homes: &str, single: bool) -> Vec<String> {
    if single {
        return if ctx.path(homes).is_dir() {
            vec![homes.to_string()]
        } else {
            vec![]
        };
    }
    let Ok(entries) = std::fs::read_dir(ctx.path(homes)) else {
        return vec![];
    };
    let mut out: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| ctx.path(&format!("{homes}/{name}")).is_dir())
        .collect();
    out.sort();
    out
}

#[cfg(unix)]
fn owner_uid(home: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(home).ok().map(|m| m.uid())
}

#[cfg(not(unix))]
fn owner_uid(_home: &Path) -> Option<u32> {
    None
}

/// The `[user] email` of the user's `~/.gitconfig`: Desktop's settings don't name the signed-in
/// account, and a work e-mail is what `user:EMAIL` assignments use.
fn git_email(gitconfig: &Path) -> Option<String> {
    let text = std::fs::read_to_string(gitconfig).ok()?;
    let mut in_user = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_user = line.trim_start_matches('[').trim_end_matches(']').trim() == "user";
            continue;
        }
        if in_user
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == "email"
        {
            let v = v.trim().trim_matches('"');
            return v.contains('@').then(|| v.to_ascii_lowercase());
        }
    }
    None
}
