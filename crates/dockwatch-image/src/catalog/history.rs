//! Which layer introduced each package of an OS package database. Every layer that installs
//! anything rewrites the whole database file (dpkg `status`, apk `installed`, the rpmdb), so the
//! layer of its final version says only who installed last. The layers' earlier versions of the
//! file ([`FileSet::versions`]) tell when each package first appeared as it is now.

use crate::fs::{FileEntry, FileSet};
use dockwatch_core::Package;
use std::collections::BTreeMap;

/// What identifies a package across versions of its database: name, version, architecture.
type Key = (String, String, Option<String>);

fn key(p: &Package) -> Key {
    (p.name.clone(), p.version.clone(), p.arch.clone())
}

/// Sets the layer of the first location (the database file) of each of `packages`, found in
/// the final version of `db_path`, to the layer of the earliest version of that file from which
/// on the package was listed, unchanged, in every later version: a package removed and
/// reinstalled counts from its reinstallation, an upgraded one from its upgrade.
/// `parse` reads the packages of one earlier version; a version it cannot read is skipped.
pub(crate) fn attribute_layers(
    files: &FileSet,
    db_path: &str,
    packages: &mut [Package],
    parse: impl Fn(&FileEntry) -> Vec<Package>,
) {
    let versions: Vec<&FileEntry> = files.versions(db_path).collect();
    let Some((current, earlier)) = versions.split_last() else {
        return;
    };
    if earlier.is_empty() || packages.is_empty() {
        return;
    }
    // The layer from which each package has been listed without interruption.
    let mut since: BTreeMap<Key, Option<String>> = BTreeMap::new();
    for version in earlier {
        let listed: BTreeMap<Key, ()> = parse(version).iter().map(|p| (key(p), ())).collect();
        since.retain(|k, _| listed.contains_key(k));
        for k in listed.into_keys() {
            since.entry(k).or_insert_with(|| version.layer.clone());
        }
    }
    for package in packages {
        let layer = since
            .get(&key(package))
            .cloned()
            .unwrap_or_else(|| current.layer.clone());
        if let Some(first) = package.locations.first_mut() {
            first.layer = layer;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dpkg::DpkgCataloger;
    use super::super::{CatalogContext, Cataloger};
    use crate::fs::{FileEntry, FileSet};
    use std::sync::Arc;

    fn status(packages: &[(&str, &str)]) -> String {
        packages
            .iter()
            .map(|(name, version)| {
                format!("Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n")
            })
            .collect()
    }

    #[test]
    fn each_package_names_the_layer_that_introduced_it_as_it_is_now() {
        let mut files = FileSet::new();
        let layers = [
            (
                "sha256:l1",
                status(&[("base", "1"), ("upgraded", "1"), ("removed", "1")]),
            ),
            (
                "sha256:l2",
                status(&[("base", "1"), ("upgraded", "2"), ("added", "1")]),
            ),
            (
                "sha256:l3",
                status(&[
                    ("base", "1"),
                    ("upgraded", "2"),
                    ("added", "1"),
                    ("removed", "1"),
                    ("last", "1"),
                ]),
            ),
        ];
        for (layer, text) in &layers {
            files.insert(FileEntry {
                path: "var/lib/dpkg/status".into(),
                layer: Some((*layer).into()),
                mode: 0o644,
                contents: Arc::from(text.as_bytes()),
            });
        }
        let out = DpkgCataloger.catalog(&files, &CatalogContext::default());
        let layers: Vec<(&str, &str)> = out
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.layer().unwrap()))
            .collect();
        assert_eq!(
            layers,
            [
                ("base", "sha256:l1"),
                ("upgraded", "sha256:l2"),
                ("added", "sha256:l2"),
                ("removed", "sha256:l3"),
                ("last", "sha256:l3"),
            ]
        );
    }
}
