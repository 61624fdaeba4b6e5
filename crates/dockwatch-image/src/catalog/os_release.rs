//! Which operating system an image is: os-release, and the older release files Syft and Trivy
//! fall back on when it is missing.
//!
//! Order (first that yields a distro wins): `etc/os-release`, `usr/lib/os-release`,
//! `etc/system-release-cpe`, `etc/redhat-release`, `etc/lsb-release` (old Ubuntu, as Trivy
//! reads it), `etc/alpine-release`, `etc/debian_version`.
//! `etc/debian_version` also supplies `VERSION_ID` to a Debian os-release without one (testing,
//! sid). Pure: reads a [`FileSet`], does no IO.

use crate::fs::FileSet;
use dockwatch_core::Distro;
use std::collections::BTreeMap;

/// The files [`detect`] reads, relative to the root.
pub const PATHS: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/system-release-cpe",
    "etc/redhat-release",
    "etc/lsb-release",
    "etc/alpine-release",
    "etc/debian_version",
];

/// Release files larger than this are not release files (and are not read).
const MAX_LEN: usize = 64 * 1024;

/// Whether [`detect`] needs the file at `path` (relative, no leading `/`).
pub fn wants(path: &str) -> bool {
    PATHS.contains(&path)
}

/// The operating system of the final filesystem, if any release file names it.
pub fn detect(files: &FileSet) -> Option<Distro> {
    let text = |path: &str| -> Option<String> {
        let entry = files.get(path)?;
        if entry.contents.len() > MAX_LEN {
            return None;
        }
        Some(String::from_utf8_lossy(&entry.contents).into_owned())
    };
    let from_os_release = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| text(p).and_then(|t| distro_from_os_release(&t)));
    if let Some(mut distro) = from_os_release {
        if distro.id == "debian" && distro.version_id.is_none() {
            distro.version_id = text("etc/debian_version").and_then(|t| debian_version(&t));
        }
        return Some(distro);
    }
    if let Some(d) = text("etc/system-release-cpe").and_then(|t| parse_system_release_cpe(&t)) {
        return Some(d);
    }
    if let Some(d) = text("etc/redhat-release").and_then(|t| parse_redhat_release(&t)) {
        return Some(d);
    }
    if let Some(d) = text("etc/lsb-release").and_then(|t| parse_lsb_release(&t)) {
        return Some(d);
    }
    if let Some(v) = text("etc/alpine-release").and_then(|t| first_line(&t)) {
        return Some(Distro {
            id: "alpine".into(),
            version_id: Some(v),
            ..Distro::default()
        });
    }
    let version = text("etc/debian_version").and_then(|t| debian_version(&t))?;
    Some(Distro {
        id: "debian".into(),
        version_id: Some(version),
        ..Distro::default()
    })
}

/// Parses os-release text into its fields (`KEY=value`, shell quoting, `#` comments).
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        fields.insert(key.to_owned(), unquote(raw.trim()));
    }
    fields
}

/// A [`Distro`] from os-release text; `None` without an `ID`.
pub fn distro_from_os_release(text: &str) -> Option<Distro> {
    let mut fields = parse_os_release(text);
    let mut take = |k: &str| fields.remove(k).filter(|v| !v.is_empty());
    let id = take("ID")?.to_lowercase();
    Some(Distro {
        id,
        version_id: take("VERSION_ID"),
        codename: take("VERSION_CODENAME"),
        id_like: take("ID_LIKE")
            .map(|v| v.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default(),
        pretty_name: take("PRETTY_NAME"),
    })
}

/// Removes shell quotes and backslash escapes from an os-release value.
fn unquote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (None, '#') if out.is_empty() => break,
            (_, c) => out.push(c),
        }
    }
    out
}

fn first_line(text: &str) -> Option<String> {
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// `12.5` from `etc/debian_version`; names such as `bookworm/sid` are not versions.
fn debian_version(text: &str) -> Option<String> {
    let line = first_line(text)?;
    line.starts_with(|c: char| c.is_ascii_digit())
        .then_some(line)
}

/// `DISTRIB_ID=Ubuntu` and `DISTRIB_RELEASE=18.04` give `ubuntu` version `18.04`.
fn parse_lsb_release(text: &str) -> Option<Distro> {
    let mut fields = parse_os_release(text);
    let id = fields.remove("DISTRIB_ID").filter(|v| !v.is_empty())?;
    Some(Distro {
        id: id.to_lowercase(),
        version_id: fields.remove("DISTRIB_RELEASE").filter(|v| !v.is_empty()),
        codename: fields.remove("DISTRIB_CODENAME").filter(|v| !v.is_empty()),
        pretty_name: fields
            .remove("DISTRIB_DESCRIPTION")
            .filter(|v| !v.is_empty()),
        ..Distro::default()
    })
}

/// `cpe:/o:centos:linux:6:GA` gives `centos` version `6`.
fn parse_system_release_cpe(text: &str) -> Option<Distro> {
    let line = first_line(text)?;
    let parts: Vec<&str> = line.split(':').collect();
    if parts.len() < 5 || parts[0] != "cpe" || parts[1] != "/o" {
        return None;
    }
    let version = parts[4];
    if parts[2].is_empty() || !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(Distro {
        id: parts[2].to_lowercase(),
        version_id: Some(version.to_owned()),
        ..Distro::default()
    })
}

/// `Red Hat Enterprise Linux release 8.10 (Ootpa)` gives `rhel` version `8.10`.
fn parse_redhat_release(text: &str) -> Option<Distro> {
    let line = first_line(text)?;
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?.to_owned();
    if !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let lower = name.to_lowercase();
    let id = [
        ("red hat enterprise linux", "rhel"),
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("almalinux", "almalinux"),
        ("scientific", "scientific"),
        ("fedora", "fedora"),
        ("oracle", "ol"),
        ("amazon", "amzn"),
    ]
    .iter()
    .find(|(prefix, _)| lower.starts_with(prefix))
    .map(|(_, id)| (*id).to_owned())
    .or_else(|| lower.split_whitespace().next().map(str::to_owned))?;
    Some(Distro {
        id,
        version_id: Some(version),
        pretty_name: Some(line.clone()),
        ..Distro::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FileEntry;
    use std::path::Path;
    use std::sync::Arc;

    fn set(files: &[(&str, &[u8])]) -> FileSet {
        let mut fs = FileSet::new();
        for (path, contents) in files {
            fs.insert(FileEntry {
                path: (*path).into(),
                layer: None,
                mode: 0o644,
                contents: Arc::from(*contents),
            });
        }
        fs
    }

    fn fixture_set(root: &str) -> FileSet {
        let root = dockwatch_testdata::fixture(root);
        let mut files = Vec::new();
        for p in PATHS {
            if let Ok(bytes) = std::fs::read(root.join(p)) {
                files.push((*p, bytes));
            }
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
        set(&refs)
    }

    fn check(root: &str, id: &str, version: Option<&str>) {
        let d = detect(&fixture_set(root)).unwrap_or_else(|| panic!("no distro in {root}"));
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            (id, version),
            "{root}"
        );
    }

    #[test]
    fn syft_release_fixtures() {
        let base = "syft/os-pkgdb/syft/linux/testdata/os";
        for (dir, id, version) in [
            ("alpine", "alpine", Some("3.11.6")),
            ("debian/from-os-release", "debian", Some("8")),
            ("debian/with-point-release", "debian", Some("13")),
            ("redhat/from-redhat-release", "rhel", Some("8.10")),
            ("rockylinux/from-redhat-release", "rocky", Some("8.10")),
            ("almalinux/from-redhat-release", "almalinux", Some("8.10")),
            ("centos5", "centos", Some("5.7")),
            ("centos6", "centos", Some("6")),
            ("ubuntu", "ubuntu", Some("20.04")),
            ("amazon", "amzn", Some("2")),
            ("wolfi", "wolfi", Some("20220914")),
        ] {
            check(&format!("{base}/{dir}"), id, version);
        }
        assert!(detect(&fixture_set(&format!("{base}/empty"))).is_none());
        assert!(detect(&set(&[("etc/system-release-cpe", b"cpe:/o:centos:6:GA")])).is_none());
    }

    #[test]
    fn trivy_alpine_release_and_debian_version_fallbacks() {
        check(
            "trivy/os-pkgdb/pkg/fanal/artifact/local/testdata/alpine",
            "alpine",
            Some("3.11.6"),
        );
        check(
            "trivy/os-pkgdb/pkg/fanal/analyzer/os/debian/testdata/debian_9",
            "debian",
            Some("9.8"),
        );
        let lsb = std::fs::read(dockwatch_testdata::fixture(
            "trivy/os-pkgdb/pkg/fanal/analyzer/os/ubuntu/testdata/lsb-release",
        ))
        .unwrap();
        check_distro(&set(&[("etc/lsb-release", &lsb)]), "ubuntu", Some("18.04"));
        assert!(detect(&set(&[("etc/lsb-release", b"invalid\n")])).is_none());
        let sid = set(&[
            (
                "etc/os-release",
                b"ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n",
            ),
            ("etc/debian_version", b"trixie/sid\n"),
        ]);
        assert_eq!(detect(&sid).unwrap().version_id, None);
    }

    #[test]
    fn os_release_symlinked_to_usr_lib() {
        let mut fs = set(&[("usr/lib/os-release", b"ID=\"fedora\"\nVERSION_ID=40\n")]);
        fs.insert_symlink("etc/os-release".into(), "../usr/lib/os-release".into());
        check_distro(&fs, "fedora", Some("40"));
    }

    fn check_distro(fs: &FileSet, id: &str, version: Option<&str>) {
        let d = detect(fs).unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_deref()), (id, version));
    }

    /// claircore's os-release samples come with the fields they parse to (`Parsed`).
    #[test]
    fn claircore_parsed_fields() {
        let dir = dockwatch_testdata::fixture("claircore/os-pkgdb/osrelease/testdata");
        let mut compared = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let case = entry.unwrap().path();
            if !case.is_dir() || !Path::new(&case.join("Parsed")).exists() {
                continue;
            }
            let text = std::fs::read_to_string(case.join("os-release")).unwrap();
            let want: BTreeMap<String, String> =
                serde_json::from_str(&std::fs::read_to_string(case.join("Parsed")).unwrap())
                    .unwrap();
            assert_eq!(parse_os_release(&text), want, "{}", case.display());
            compared += 1;
        }
        assert!(compared >= 5, "only {compared} claircore cases");
    }

    /// claircore's Alpine release samples, each with the distribution it expects (`want`): the
    /// same ID and pretty name. (Its `version` is claircore's minor-release key, not VERSION_ID.)
    #[test]
    fn claircore_alpine_wants() {
        let dir = dockwatch_testdata::fixture("claircore/os-pkgdb/alpine/testdata");
        let mut compared = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let case = entry.unwrap().path();
            let Ok(want) = std::fs::read_to_string(case.join("want")) else {
                continue;
            };
            let want: Vec<BTreeMap<String, String>> = serde_json::from_str(&want).unwrap();
            let rel = case.strip_prefix(dockwatch_testdata::shared_fixtures());
            let root = rel.map_or_else(
                |_| case.to_string_lossy().into_owned(),
                |r| r.to_string_lossy().into_owned(),
            );
            let d = detect(&fixture_set(&root)).unwrap();
            assert_eq!(d.id, want[0]["did"], "{}", case.display());
            assert_eq!(
                d.pretty_name.as_deref(),
                Some(want[0]["pretty_name"].as_str()),
                "{}",
                case.display()
            );
            compared += 1;
        }
        assert!(compared >= 10, "only {compared} claircore cases");
    }

    #[test]
    fn hostile_release_files_give_nothing() {
        assert!(distro_from_os_release("").is_none());
        assert!(distro_from_os_release("ID=\n").is_none());
        assert!(distro_from_os_release("ID=\"unterminated\n").is_some());
        let huge = vec![b'A'; MAX_LEN + 1];
        assert!(detect(&set(&[("etc/os-release", &huge)])).is_none());
        assert!(detect(&set(&[("etc/redhat-release", b"garbage")])).is_none());
        assert_eq!(unquote(r#""a \"b\" c""#), r#"a "b" c"#);
        assert_eq!(unquote("'x y'"), "x y");
    }
}
