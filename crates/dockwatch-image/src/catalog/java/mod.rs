//! Java archives (jar, war, ear, jpi, hpi), read from memory: `META-INF/maven/**/pom.properties`
//! (with the `pom.xml` licenses beside it), the `MANIFEST.MF` when no pom names the archive
//! itself, and nested archives (`BOOT-INF/lib`, `WEB-INF/lib`...) recursively, bounded in depth
//! and in total decompressed bytes against zip bombs. Loose `pom.properties` of exploded
//! archives are read too.

mod manifest;

use super::langpkg::{self, Found, file_name, warning};
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::fs::{FileEntry, FileSet};
use dockwatch_core::PackageType;
use std::collections::BTreeMap;
use std::io::Cursor;

/// Finds Java packages.
#[derive(Debug, Default)]
pub struct Java;

/// The name recorded in each package's `found_by`.
const NAME: &str = "java";

/// Archive file extensions, lower case.
const ARCHIVE_EXTENSIONS: &[&str] = &[".jar", ".war", ".ear", ".jpi", ".hpi"];
/// Bounds on what one top-level archive may cost.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// How many archives deep nested archives are opened (a jar in a war in an ear is two).
    depth: usize,
    /// Decompressed bytes read from one top-level archive, nested ones included.
    inflated: usize,
    /// The largest manifest, properties or POM read.
    meta: usize,
}

const LIMITS: Limits = Limits {
    depth: 4,
    inflated: 256 << 20,
    meta: 1 << 20,
};

impl Cataloger for Java {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        is_archive(path) || is_loose_pom_properties(path)
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files() {
            if is_archive(&entry.path) {
                let virtual_path = format!("/{}", entry.path);
                let mut budget = LIMITS.inflated;
                let walk = Walk {
                    entry,
                    limits: LIMITS,
                };
                let start = out.warnings.len();
                walk.archive(&entry.contents, &virtual_path, 0, &mut budget, &mut out);
                // One hostile archive can hold thousands of broken members.
                super::warning_cap::cap_since(&mut out, start, &virtual_path);
            } else if is_loose_pom_properties(&entry.path) {
                loose_pom_properties(entry, &mut out);
            }
        }
        langpkg::finish(out)
    }
}

fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

fn is_loose_pom_properties(path: &str) -> bool {
    path.ends_with("/pom.properties") && path.contains("META-INF/maven/")
}

/// Coordinates from a `pom.properties`.
struct Coordinates {
    group: String,
    artifact: String,
    version: String,
}

fn coordinates(props: &BTreeMap<String, String>) -> Option<Coordinates> {
    let get = |k: &str| props.get(k).filter(|v| !v.is_empty()).cloned();
    Some(Coordinates {
        group: get("groupId").unwrap_or_default(),
        artifact: get("artifactId")?,
        version: get("version")?,
    })
}

/// A Maven package; the purl carries group and artifact.
fn maven<'a>(c: &'a Coordinates, entry: &FileEntry, virtual_path: &str) -> Found<'a> {
    let group = (!c.group.is_empty()).then_some(c.group.as_str());
    let purl = langpkg::purl("maven", group, &c.artifact, &c.version);
    let nested = virtual_path.contains(':');
    Found::new(
        PackageType::Maven,
        NAME,
        &c.artifact,
        &c.version,
        purl,
        entry,
    )
    .meta("group_id", group)
    .meta("virtual_path", nested.then_some(virtual_path))
}

fn loose_pom_properties(entry: &FileEntry, out: &mut CatalogOutput) {
    let Some(text) = langpkg::read_text(entry, LIMITS.meta, &mut out.warnings) else {
        return;
    };
    match coordinates(&manifest::properties(&text)) {
        Some(c) => out.packages.push(maven(&c, entry, "").build()),
        None => out.warnings.push(warning(
            &entry.path,
            "pom.properties without artifactId or version",
        )),
    }
}

/// A member of an open archive, read within the remaining decompression budget.
fn member(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: usize,
    budget: &mut usize,
) -> Result<Vec<u8>, String> {
    let file = zip.by_name(name).map_err(|e| e.to_string())?;
    let allowed = limit.min(*budget);
    let bytes = langpkg::read_bounded(file, allowed).map_err(|_| {
        if allowed < limit {
            "the limit of decompressed bytes per archive was reached".to_owned()
        } else {
            format!("larger than {limit} bytes decompressed")
        }
    })?;
    *budget -= bytes.len();
    Ok(bytes)
}

/// One top-level archive being read, and its limits.
struct Walk<'e> {
    entry: &'e FileEntry,
    limits: Limits,
}

impl Walk<'_> {
    /// Reads one archive (`bytes`), named `virtual_path` (`/app.war:WEB-INF/lib/x.jar` when
    /// nested).
    fn archive(
        &self,
        bytes: &[u8],
        virtual_path: &str,
        depth: usize,
        budget: &mut usize,
        out: &mut CatalogOutput,
    ) {
        let entry = self.entry;
        let warn = |out: &mut CatalogOutput, message: String| {
            out.warnings.push(warning(&entry.path, message));
        };
        let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => {
                return warn(
                    out,
                    format!("{virtual_path}: not a readable zip archive: {e}"),
                );
            }
        };
        // Names that are not valid in their declared encoding cannot be ours; skip them.
        let names: Vec<String> = zip
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect();
        let mut poms: Vec<(String, BTreeMap<String, String>)> = Vec::new();
        let mut pom_xml_licenses: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut manifest_attrs = None;
        let mut nested = Vec::new();
        for name in &names {
            let is_maven = name.starts_with("META-INF/maven/");
            let wanted = name == "META-INF/MANIFEST.MF"
                || (is_maven && (name.ends_with("/pom.properties") || name.ends_with("/pom.xml")));
            if is_archive(name) && !name.ends_with('/') {
                nested.push(name.clone());
                continue;
            }
            if !wanted {
                continue;
            }
            let text = match member(&mut zip, name, self.limits.meta, budget) {
                Ok(b) => langpkg::decode_text(&b, &entry.path, &mut out.warnings).into_owned(),
                Err(e) => {
                    warn(out, format!("{virtual_path}:{name}: {e}"));
                    continue;
                }
            };
            if name == "META-INF/MANIFEST.MF" {
                manifest_attrs = Some(manifest::manifest(&text));
            } else if name.ends_with("/pom.xml") {
                pom_xml_licenses.insert(
                    langpkg::parent(name).to_owned(),
                    manifest::pom_licenses(&text),
                );
            } else {
                poms.push((
                    langpkg::parent(name).to_owned(),
                    manifest::properties(&text),
                ));
            }
        }

        let stem = file_name(virtual_path);
        let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
        let (file_artifact, file_version) = manifest::name_and_version(stem);
        // Whether a pom describes the archive itself, so its manifest adds nothing: the pom's
        // artifact starts the file name (`_` and `.` read as `-`: `x_1.3_spec` names
        // `x-1.3-spec.jar`), or it has the manifest's version (a renamed file, `maven3-core.jar`).
        let manifest_version = manifest_attrs
            .as_ref()
            .and_then(|m| from_manifest(m, file_artifact, file_version))
            .map(|(c, _)| same_version_key(&c.version));
        let mut names_itself = false;
        for (dir, props) in &poms {
            let Some(c) = coordinates(props) else {
                warn(
                    out,
                    format!("{virtual_path}: {dir}/pom.properties without artifactId or version"),
                );
                continue;
            };
            names_itself |= loose(stem).starts_with(&loose(&c.artifact))
                || manifest_version.as_deref() == Some(same_version_key(&c.version).as_str());
            let licenses = pom_xml_licenses.get(dir).cloned().unwrap_or_default();
            out.packages
                .push(maven(&c, entry, virtual_path).licenses(licenses).build());
        }
        if !names_itself {
            match manifest_attrs
                .as_ref()
                .map(|m| from_manifest(m, file_artifact, file_version))
            {
                Some(Some((c, licenses))) => {
                    out.packages
                        .push(maven(&c, entry, virtual_path).licenses(licenses).build());
                }
                _ if poms.is_empty() => {
                    let what = if manifest_attrs.is_some() {
                        "MANIFEST.MF names no version and neither does the file name"
                    } else {
                        "no pom.properties and no MANIFEST.MF"
                    };
                    if let Some(version) = file_version.filter(|_| manifest_attrs.is_none()) {
                        let c = Coordinates {
                            group: String::new(),
                            artifact: file_artifact.to_owned(),
                            version: version.to_owned(),
                        };
                        out.packages.push(maven(&c, entry, virtual_path).build());
                    } else if nested.is_empty() {
                        warn(out, format!("{virtual_path}: {what}"));
                    }
                }
                _ => {}
            }
        }

        for name in nested {
            let inner_path = format!("{virtual_path}:{name}");
            if depth + 1 > self.limits.depth {
                let max = self.limits.depth;
                warn(
                    out,
                    format!("{inner_path}: nested deeper than {max} archives; skipped"),
                );
                continue;
            }
            match member(&mut zip, &name, self.limits.inflated, budget) {
                Ok(inner) => self.archive(&inner, &inner_path, depth + 1, budget, out),
                Err(e) => warn(out, format!("{inner_path}: {e}")),
            }
        }
    }
}

/// A name compared loosely: lower case, `_` and `.` as `-`.
fn loose(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// A version compared loosely: trailing `.0` parts dropped (`1.3.0` is `1.3`).
fn same_version_key(version: &str) -> String {
    let mut v = version;
    while let Some(shorter) = v.strip_suffix(".0") {
        v = shorter;
    }
    v.to_owned()
}

/// Coordinates and licenses from a manifest's main attributes, the file name filling gaps.
fn from_manifest(
    m: &BTreeMap<String, String>,
    file_artifact: &str,
    file_version: Option<&str>,
) -> Option<(Coordinates, Vec<String>)> {
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| m.get(*k).filter(|v| !v.is_empty()).cloned())
    };
    // `5.6.0 (b0)`: a version has no spaces, the rest is a build note.
    let version = get(&[
        "Implementation-Version",
        "Bundle-Version",
        "Specification-Version",
    ])
    .and_then(|v| v.split_whitespace().next().map(str::to_owned))
    .or_else(|| file_version.map(str::to_owned))?;
    let symbolic =
        get(&["Bundle-SymbolicName"]).map(|s| s.split(';').next().unwrap_or("").trim().to_owned());
    // The file name, as Syft and Trivy use it: `Implementation-Title` is prose ("Maven Core").
    let artifact = if file_artifact.is_empty() {
        get(&["Implementation-Title"]).unwrap_or_default()
    } else {
        file_artifact.to_owned()
    };
    let group = get(&["Implementation-Vendor-Id"])
        .or_else(|| {
            symbolic
                .as_deref()
                .and_then(|s| s.rsplit_once('.'))
                .map(|(g, _)| g.to_owned())
        })
        .unwrap_or_default();
    let licenses = get(&["Bundle-License"])
        .map(|l| l.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    Some((
        Coordinates {
            group,
            artifact,
            version,
        },
        licenses,
    ))
}

#[cfg(test)]
mod tests;
