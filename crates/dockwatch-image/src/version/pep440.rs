//! Python versions under PEP 440: epochs, pre-, post- and dev-releases, local versions, and
//! the spec's normalisation (`1.0-1` is `1.0.post1`, `1.0RC1` is `1.0rc1`, `v1.0` is `1.0`).
//!
//! Uses `pep440_rs` (uv's implementation), which follows the spec as Python's `packaging`
//! does; the tests check it against `packaging` itself. It parses into an owned value, the one
//! allocation per version this scheme costs, except for plain dotted numbers, which compare in
//! place.
//!
//! PyPI still serves releases named before PEP 440 (`0.3m1`, `2013-01-21T20:33:09`). [`check`]
//! refuses them, but [`compare`] orders them as pip did until `packaging` 22 dropped
//! `LegacyVersion`: before every PEP 440 version, by setuptools' old key. Hand-written, since
//! no crate keeps that rule.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::Version;

use super::Invalid;

fn parse(version: &str) -> Result<Version, Invalid> {
    Version::from_str(version).map_err(|_| Invalid::new(version, "not a PEP 440 version"))
}

/// Checks that `version` is a PEP 440 version.
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    parse(version).map(|_| ())
}

/// A version as it is ordered: PEP 440, or legacy (which sorts first).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Ordered {
    Legacy(Vec<String>),
    Pep440(Version),
}

fn ordered(version: &str) -> Result<Ordered, Invalid> {
    match Version::from_str(version) {
        Ok(parsed) => Ok(Ordered::Pep440(parsed)),
        Err(_) if version.trim().is_empty() => {
            Err(Invalid::new(version, "version string is empty"))
        }
        Err(_) => Ok(Ordered::Legacy(legacy_key(version))),
    }
}

/// Compares two PyPI versions: PEP 440 ones by the spec, legacy ones before them.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    // Fast path: dotted numbers compare as zero-padded lists, without parsing.
    if super::is_plain_release(a) && super::is_plain_release(b) {
        return Ok(super::cmp_plain_releases(a, b));
    }
    if a == b {
        return ordered(a).map(|_| Ordering::Equal);
    }
    Ok(ordered(a)?.cmp(&ordered(b)?))
}

/// setuptools' legacy sort key, as `packaging` 21 computed it: runs of digits (zero-padded to
/// eight), runs of letters (`pre`, `preview`, `rc` read as `c`, `dev` as `@`) and anything
/// else, each word marked with `*`; `-` reads as `final-`; trailing zero runs dropped.
fn legacy_key(version: &str) -> Vec<String> {
    let lower = version.to_lowercase();
    let mut pieces: Vec<String> = Vec::new();
    let mut rest = lower.as_str();
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_digit() {
            rest.bytes().take_while(u8::is_ascii_digit).count()
        } else if c.is_ascii_lowercase() {
            rest.bytes().take_while(u8::is_ascii_lowercase).count()
        } else if c == '.' || c == '-' {
            1
        } else {
            rest.find(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                .unwrap_or(rest.len())
        };
        let (piece, tail) = rest.split_at(len);
        rest = tail;
        let piece = match piece {
            "pre" | "preview" | "rc" => "c",
            "-" => "final-",
            "dev" => "@",
            "." => continue,
            other => other,
        };
        if piece.starts_with(|c: char| c.is_ascii_digit()) {
            pieces.push(format!("{piece:0>8}"));
        } else {
            pieces.push(format!("*{piece}"));
        }
    }
    pieces.push("*final".to_owned());
    let mut key: Vec<String> = Vec::new();
    for piece in pieces {
        if piece.starts_with('*') {
            if piece.as_str() < "*final" {
                while key.last().is_some_and(|p| p == "*final-") {
                    key.pop();
                }
            }
            while key.last().is_some_and(|p| p == "00000000") {
                key.pop();
            }
        }
        key.push(piece);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn release_phases_in_order() {
        let chain = [
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0a2.post1",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+local.1",
            "1.0.post1.dev0",
            "1.0.post1",
            "1.1.dev0",
            "1!0.1",
        ];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn normalisation() {
        assert_eq!(cmp("1.0-1", "1.0.post1"), Ordering::Equal);
        assert_eq!(cmp("1.0RC1", "1.0rc1"), Ordering::Equal);
        assert_eq!(cmp("v1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0alpha1", "1.0a1"), Ordering::Equal);
        assert_eq!(cmp("1.0c1", "1.0rc1"), Ordering::Equal);
        assert_eq!(cmp("0!1.0", "1.0"), Ordering::Equal);
    }

    #[test]
    fn local_versions() {
        assert_eq!(cmp("1.0+abc", "1.0+1"), Ordering::Less);
        assert_eq!(cmp("1.0+1.2", "1.0+1"), Ordering::Greater);
        assert_eq!(cmp("1.0+ABC", "1.0+abc"), Ordering::Equal);
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in ["", "1.0-bulbasaur", "one", "1.0+", "1..0"] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
        assert_eq!(compare("1.0", "").unwrap_err().version, "");
    }

    #[test]
    fn legacy_versions_sort_first_by_the_old_key() {
        assert_eq!(cmp("0.9-ivysaur", "0.0.1.dev0"), Ordering::Less);
        assert_eq!(cmp("0.3m1", "0.3m2"), Ordering::Less);
        assert_eq!(cmp("1.0-dev", "1.0-a"), Ordering::Less);
        assert_eq!(cmp("1.0-final", "1.0-foo"), Ordering::Less);
        assert_eq!(
            cmp("2013-01-21T20:33:09", "2013-01-23T17:11:52"),
            Ordering::Less
        );
        assert_eq!(
            legacy_key("1.0.0-x"),
            ["00000001", "*final-", "*x", "*final"]
        );
    }
}
