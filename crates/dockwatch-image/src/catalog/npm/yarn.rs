//! `yarn.lock`: v1 (yarn classic's own format, not YAML) and berry (YAML with `__metadata`).
//! Workspace, link, portal and file entries are the project's own code and are skipped.

use super::super::CatalogOutput;
use super::super::langpkg::warning;
use super::{found, from_yaml, split_descriptor};
use crate::fs::FileEntry;
use std::collections::BTreeMap;

/// Protocols of entries that are not registry packages.
const LOCAL_PROTOCOLS: &[&str] = &["workspace:", "link:", "portal:", "file:", "patch:"];

/// Reads one yarn lockfile.
pub(super) fn parse(entry: &FileEntry, text: &str, out: &mut CatalogOutput) {
    let berry = text.lines().any(|l| l.starts_with("__metadata:"));
    let result = if berry {
        parse_berry(text)
    } else {
        parse_v1(text)
    };
    match result {
        Ok(pins)
            if pins.is_empty()
                && text
                    .lines()
                    .any(|l| !l.trim().is_empty() && !l.starts_with('#')) =>
        {
            out.warnings
                .push(warning(&entry.path, "yarn.lock lists no packages"));
        }
        Ok(pins) => {
            for (name, version) in &pins {
                out.packages.push(found(name, version, entry).build());
            }
        }
        Err(e) => out
            .warnings
            .push(warning(&entry.path, format!("malformed yarn.lock: {e}"))),
    }
}

/// Yarn classic: an unindented header of comma-separated descriptors ending in `:`, then
/// indented fields, of which `version "x"` is the one we need. Hand-written: no maintained crate
/// parses this format, and it is a few lines.
fn parse_v1(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let header = line
                .strip_suffix(':')
                .ok_or_else(|| format!("line {}: expected `descriptor:`", n + 1))?;
            let first = header
                .split(", ")
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            current = descriptor_name(first).map(str::to_owned);
            continue;
        }
        let field = line.trim();
        if let (Some(name), Some(version)) = (&current, field.strip_prefix("version ")) {
            let version = version.trim().trim_matches('"');
            if !version.is_empty() {
                out.push((name.clone(), version.to_owned()));
            }
            current = None;
        }
    }
    Ok(out)
}

/// The package a descriptor installs: the alias target for `a@npm:real@^1`, none for local
/// protocols.
fn descriptor_name(descriptor: &str) -> Option<&str> {
    let (name, range) = split_descriptor(descriptor)?;
    if LOCAL_PROTOCOLS.iter().any(|p| range.starts_with(p)) {
        return None;
    }
    match range.strip_prefix("npm:") {
        Some(target)
            if target.contains('@') && !target.starts_with('@')
                || target.matches('@').count() > 1 =>
        {
            split_descriptor(target).map(|(real, _)| real)
        }
        _ => Some(name),
    }
}

/// One entry of a berry lockfile (`__metadata` has the same shape, without a resolution).
#[derive(serde::Deserialize)]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
}

/// Yarn berry: YAML mapping descriptors to `{version, resolution, linkType}`; the real name is
/// in `resolution` (`name@npm:1.2.3`).
fn parse_berry(text: &str) -> Result<Vec<(String, String)>, String> {
    let doc: BTreeMap<String, BerryEntry> = from_yaml(text)?;
    let mut out = Vec::new();
    for (key, entry) in doc {
        if key == "__metadata" {
            continue;
        }
        let (Some(resolution), Some(version)) = (entry.resolution, entry.version) else {
            continue;
        };
        let Some((name, range)) = split_descriptor(&resolution) else {
            continue;
        };
        if LOCAL_PROTOCOLS.iter().any(|p| range.starts_with(p)) || version == "0.0.0-use.local" {
            continue;
        }
        out.push((name.to_owned(), version));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_headers_aliases_and_local_entries() {
        let text = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.example/x\"\n\nfoo@npm:bar@^1:\n  version \"1.2.0\"\n\nws@link:./ws:\n  version \"0.0.0\"\n";
        assert_eq!(
            parse_v1(text).unwrap(),
            [
                ("@babel/code-frame".to_owned(), "7.12.13".to_owned()),
                ("bar".to_owned(), "1.2.0".to_owned()),
            ]
        );
        assert!(parse_v1("garbage without colon\n").is_err());
    }

    #[test]
    fn berry_uses_resolution_and_skips_workspaces() {
        let text = "__metadata:\n  version: 6\n\n\"a@npm:^1\":\n  version: 1.0\n  resolution: \"a@npm:1.0\"\n\n\"root@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"root@workspace:.\"\n";
        assert_eq!(
            parse_berry(text).unwrap(),
            [("a".to_owned(), "1.0".to_owned())]
        );
    }
}
