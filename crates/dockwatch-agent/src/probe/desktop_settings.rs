//! Each user's Docker Desktop settings: `settings-store.json` (Desktop 4.35+) and the older
//! `settings.json`, in every home folder layout (Linux, root, macOS, Windows).

use super::{Probe, ProbeContext, read_json, warn};
use crate::layout::HOME_LAYOUTS;
use dockwatch_core::settings::report::{
    MAX_FILES_PER_USER, MAX_KEYS_PER_FILE, MAX_USERS, MachineReport, SettingsFile,
    SettingsFileKind, UserSettings, bounded_value,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
            for (account, home) in homes(&ctx.path(layout.homes), layout.single) {
                let dir = home.join(layout.settings_dir);
                let mut files = Vec::new();
                for (name, kind) in FILES {
                    let path = dir.join(name);
                    let rel = ctx.rel(&path);
                    match read_json(&path) {
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
                report.users.push(UserSettings {
                    account,
                    uid: owner_uid(&home),
                    email: git_email(&home),
                    files,
                });
            }
        }
    }
}

/// (account, home) pairs under a folder of homes, sorted by name.
fn homes(dir: &Path, single: bool) -> Vec<(String, PathBuf)> {
    if single {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        return match name {
            Some(n) if dir.is_dir() => vec![(n, dir.to_path_buf())],
            _ => vec![],
        };
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
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
fn git_email(home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(home.join(".gitconfig")).ok()?;
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
