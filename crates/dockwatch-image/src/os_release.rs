//! The operating system of a filesystem, from `etc/os-release` (or `usr/lib/os-release`).

use crate::fs::FileSet;
use dockwatch_core::Distro;

/// The distro named by the filesystem's os-release, if it has one with an `ID`.
pub fn find(files: &FileSet) -> Option<Distro> {
    ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .filter_map(|p| files.get(p))
        .find_map(|f| parse(&String::from_utf8_lossy(&f.contents)))
}

/// Parses os-release text (`KEY=value`, values optionally quoted); `None` without an `ID`.
pub fn parse(text: &str) -> Option<Distro> {
    let mut distro = Distro::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        let value = (!value.is_empty()).then_some(value);
        match key.trim() {
            "ID" => distro.id = value.unwrap_or_default(),
            "VERSION_ID" => distro.version_id = value,
            "VERSION_CODENAME" => distro.codename = value,
            "PRETTY_NAME" => distro.pretty_name = value,
            "ID_LIKE" => {
                distro.id_like = value
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
            }
            _ => {}
        }
    }
    (!distro.id.is_empty()).then_some(distro)
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_debian_os_release() {
        let d = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        )
        .unwrap();
        assert_eq!(d.id, "debian");
        assert_eq!(d.version_id.as_deref(), Some("12"));
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn fixtures_of_other_distros_parse() {
        let path = dockwatch_testdata::fixture(
            "syft/os-pkgdb/syft/linux/testdata/os/alpine/etc/os-release",
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let d = parse(&text).unwrap();
        assert_eq!(d.id, "alpine");
        assert!(parse("NAME=nothing\n").is_none());
    }
}
