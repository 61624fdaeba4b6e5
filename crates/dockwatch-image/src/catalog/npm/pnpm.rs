//! `pnpm-lock.yaml`: the `packages` map, whose keys changed form across lockfile versions
//! (`/name/1.0.0_peer` in v5, `/name@1.0.0(peer)` in v6, `name@1.0.0(peer)` in v9).
//! Entries marked `dev: true` (v5, v6) are skipped; v9 no longer marks them.

use super::super::CatalogOutput;
use super::super::langpkg::warning;
use super::{found, from_yaml, split_descriptor};
use crate::fs::FileEntry;
use std::collections::BTreeMap;

/// Reads one pnpm lockfile.
pub(super) fn parse(entry: &FileEntry, text: &str, out: &mut CatalogOutput) {
    match packages(text) {
        Ok(pins) => {
            for (name, version) in &pins {
                out.packages.push(found(name, version, entry).build());
            }
        }
        Err(e) => out.warnings.push(warning(
            &entry.path,
            format!("malformed pnpm-lock.yaml: {e}"),
        )),
    }
}

/// The parts of a pnpm lockfile read here.
#[derive(serde::Deserialize)]
struct Lockfile {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<String>,
    packages: Option<BTreeMap<String, Option<Entry>>>,
}

#[derive(serde::Deserialize)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dev: bool,
}

fn packages(text: &str) -> Result<Vec<(String, String)>, String> {
    let lock: Lockfile = from_yaml(text)?;
    let version = lock.lockfile_version.ok_or("no lockfileVersion")?;
    let Some(packages) = lock.packages else {
        return Ok(Vec::new()); // a project without dependencies
    };
    // Before v6 keys separate name and version with `/`, from v6 on with `@`.
    let v5 = version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major < 6);
    let mut out = Vec::new();
    for (key, entry) in packages {
        let entry = entry.unwrap_or(Entry {
            name: None,
            version: None,
            dev: false,
        });
        if entry.dev {
            continue;
        }
        // Tarball and git entries carry their name and version as fields.
        let named = match (entry.name, entry.version) {
            (Some(n), Some(v)) => Some((n, v)),
            _ => from_key(&key, v5),
        };
        if let Some(pin) = named {
            out.push(pin);
        }
    }
    out.sort();
    out.dedup(); // one entry per peer-dependency variant
    Ok(out)
}

/// Name and version from a package key of any lockfile version.
fn from_key(key: &str, v5: bool) -> Option<(String, String)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.split('(').next()?;
    if !v5 {
        let (name, version) = split_descriptor(key)?;
        return Some((name.to_owned(), version.to_owned()));
    }
    // v5: `name/1.0.0` or `@scope/name/1.0.0_peer@2.0.0`.
    let (name, version) = key.rsplit_once('/')?;
    let version = version.split('_').next()?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_owned(), version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_lockfile_version() {
        let pin = |n: &str, v: &str| Some((n.to_owned(), v.to_owned()));
        assert_eq!(from_key("/ms/2.1.3", true), pin("ms", "2.1.3"));
        assert_eq!(
            from_key("/@babel/core/7.0.0_react@18.0.0", true),
            pin("@babel/core", "7.0.0")
        );
        assert_eq!(
            from_key("/@babel/core@7.0.0(react@18.0.0)", false),
            pin("@babel/core", "7.0.0")
        );
        assert_eq!(
            from_key("is-number@7.0.0", false),
            pin("is-number", "7.0.0")
        );
    }
}
