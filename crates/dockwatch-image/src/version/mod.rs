//! Version comparison with each ecosystem's own rules: one module per scheme.
//!
//! To add a scheme: write `version/<scheme>.rs` with a `compare(a, b)` and a `check(v)`, add a
//! variant to [`Scheme`] and a line to [`compare`] and [`parse_check`]. The rules, with the
//! reference each scheme is tested against, are in `docs/version-comparison.md`.
//!
//! Hot path: the matcher calls [`compare`] millions of times, so every scheme compares the two
//! strings in place, without allocating, except Maven and PEP 440 for versions that are more
//! than dotted numbers.

use std::cmp::Ordering;

mod apk;
mod composer;
mod deb;
mod gem;
mod golang;
mod maven;
mod nuget;
mod pep440;
mod rpm;
mod semver;

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod vector_tests;

/// A version ordering rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// dpkg: epoch, upstream, revision, `~` sorts before everything.
    Deb,
    /// rpmvercmp, with epoch and release.
    Rpm,
    /// apk-tools' version ordering.
    Apk,
    /// Semantic Versioning 2.0 (npm, crates.io, Hex, Bitnami, OSV `SEMVER` ranges).
    Semver,
    /// Go modules: SemVer with `v`, `+incompatible` and pseudo-versions.
    Go,
    /// Python's PEP 440.
    Pep440,
    /// Maven's ComparableVersion.
    Maven,
    /// RubyGems' Gem::Version.
    Gem,
    /// NuGet's SemVer 2 with four-part versions.
    Nuget,
    /// Composer (Packagist).
    Composer,
}

/// A version that cannot be read under its scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme:?} version {version:?}: {reason}")]
pub struct VersionError {
    /// The scheme.
    pub scheme: Scheme,
    /// The text.
    pub version: String,
    /// Why it is invalid.
    pub reason: String,
}

impl Scheme {
    /// The scheme for an OSV `affected[].package.ecosystem` value (`Debian:12`, `PyPI`...).
    pub fn for_osv_ecosystem(ecosystem: &str) -> Option<Self> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Self::Deb,
            "Alpine" | "Wolfi" | "Chainguard" => Self::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "SUSE" | "openSUSE" | "Mageia"
            | "Photon OS" | "Azure Linux" | "Amazon Linux" | "openEuler" => Self::Rpm,
            // Hex (Elixir) and Bitnami publish SemVer 2.0 versions.
            "npm" | "crates.io" | "Hex" | "Bitnami" => Self::Semver,
            "Go" => Self::Go,
            "PyPI" => Self::Pep440,
            "Maven" => Self::Maven,
            "RubyGems" => Self::Gem,
            "NuGet" => Self::Nuget,
            "Packagist" => Self::Composer,
            _ => return None,
        })
    }
}

/// Compares two versions under `scheme`; an error names the version that cannot be read.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let result = match scheme {
        Scheme::Deb => deb::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Apk => apk::compare(a, b),
        Scheme::Semver => semver::compare(a, b),
        Scheme::Go => golang::compare(a, b),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::Maven => maven::compare(a, b),
        Scheme::Gem => gem::compare(a, b),
        Scheme::Nuget => nuget::compare(a, b),
        Scheme::Composer => composer::compare(a, b),
    };
    result.map_err(|invalid| invalid.into_error(scheme))
}

/// Checks that `version` can be read under `scheme`, so an advisory's range can be rejected
/// once at import rather than at every comparison.
pub fn parse_check(scheme: Scheme, version: &str) -> Result<(), VersionError> {
    let result = match scheme {
        Scheme::Deb => deb::check(version),
        Scheme::Rpm => rpm::check(version),
        Scheme::Apk => apk::check(version),
        Scheme::Semver => semver::check(version),
        Scheme::Go => golang::check(version),
        Scheme::Pep440 => pep440::check(version),
        Scheme::Maven => maven::check(version),
        Scheme::Gem => gem::check(version),
        Scheme::Nuget => nuget::check(version),
        Scheme::Composer => composer::check(version),
    };
    result.map_err(|invalid| invalid.into_error(scheme))
}

/// Why one version is invalid, before the scheme is known: the schemes' own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    version: String,
    reason: &'static str,
}

impl Invalid {
    /// `version` is invalid because of `reason`.
    pub(crate) fn new(version: &str, reason: &'static str) -> Self {
        Self {
            version: version.to_owned(),
            reason,
        }
    }

    fn into_error(self, scheme: Scheme) -> VersionError {
        VersionError {
            scheme,
            version: self.version,
            reason: self.reason.to_owned(),
        }
    }
}

/// Compares two runs of ASCII digits as unbounded numbers: versions carry dates and hashes
/// longer than any integer type, and the reference tools compare them digit by digit.
pub(crate) fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = trim_leading_zeros(a);
    let b = trim_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| cmp_bytes(a, b))
}

/// Whether `version` is only numbers separated by single dots (`1.2.10`), the shape most
/// versions have, which PEP 440 and Maven both order as zero-padded number lists.
pub(crate) fn is_plain_release(version: &str) -> bool {
    let bytes = version.as_bytes();
    !bytes.is_empty()
        && bytes.first() != Some(&b'.')
        && bytes.last() != Some(&b'.')
        && bytes.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && !bytes.windows(2).any(|w| w == b"..")
}

/// Compares two plain releases as number lists, the shorter padded with zeros.
pub(crate) fn cmp_plain_releases(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (
        a.as_bytes().split(|&c| c == b'.'),
        b.as_bytes().split(|&c| c == b'.'),
    );
    loop {
        let order = match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => cmp_digits(x.unwrap_or(b"0"), y.unwrap_or(b"0")),
        };
        if order.is_ne() {
            return order;
        }
    }
}

/// Byte-wise comparison of short slices. `<[u8]>::cmp` calls `memcmp`, whose call costs more
/// than the few bytes of a version segment; this loop is inlined.
#[inline]
pub(crate) fn cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

fn trim_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros..]
}

/// Whether a run of digits is zero (or empty).
pub(crate) fn is_zero(digits: &[u8]) -> bool {
    digits.iter().all(|&c| c == b'0')
}

/// Byte-wise comparison ignoring ASCII case.
pub(crate) fn cmp_ignore_ascii_case(a: &[u8], b: &[u8]) -> Ordering {
    let lower = |c: &u8| c.to_ascii_lowercase();
    a.iter().map(lower).cmp(b.iter().map(lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_as_unbounded_numbers() {
        assert_eq!(cmp_digits(b"010", b"9"), Ordering::Greater);
        assert_eq!(cmp_digits(b"000", b""), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                b"999999999999999999999999999991",
                b"999999999999999999999999999999"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn plain_releases() {
        assert!(is_plain_release("1.2.10") && is_plain_release("7"));
        for not_plain in ["", ".1", "1.", "1..2", "1.2a", "v1"] {
            assert!(!is_plain_release(not_plain), "{not_plain}");
        }
        assert_eq!(cmp_plain_releases("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp_plain_releases("1.10", "1.9.9"), Ordering::Greater);
        assert_eq!(cmp_plain_releases("1.0.0.1", "1"), Ordering::Greater);
    }

    #[test]
    fn errors_name_the_scheme_and_the_version() {
        let error = compare(Scheme::Deb, "1.0", "").unwrap_err();
        assert_eq!(error.scheme, Scheme::Deb);
        assert_eq!(error.version, "");
        assert!(
            error.to_string().contains("invalid Deb version \"\""),
            "{error}"
        );
        let error = parse_check(Scheme::Pep440, "not a version").unwrap_err();
        assert_eq!(error.version, "not a version");
    }

    /// OSV writes `introduced: "0"` for "since the first version": every scheme reads it and
    /// puts it below a first release. It is not below everything: in SemVer and Go, `0` is
    /// `0.0.0`, above its pre-releases (`v0.0.0-2019...` pseudo-versions), so the matcher must
    /// treat OSV's `0` as a sentinel, not compare it.
    #[test]
    fn osv_zero_reads_in_every_scheme() {
        let first_releases = [
            (Scheme::Deb, "0.1-1"),
            (Scheme::Rpm, "0.1-1.el9"),
            (Scheme::Apk, "0.1-r0"),
            (Scheme::Semver, "0.0.1-alpha"),
            (Scheme::Go, "v0.0.1-20191109021931-daa7c04131f5"),
            (Scheme::Pep440, "0.0.1.dev0"),
            (Scheme::Maven, "0.0.1-alpha"),
            (Scheme::Gem, "0.0.1.pre"),
            (Scheme::Nuget, "0.0.1-alpha"),
            (Scheme::Composer, "0.0.1-dev"),
        ];
        for (scheme, first) in first_releases {
            assert_eq!(parse_check(scheme, "0"), Ok(()), "{scheme:?}");
            assert_eq!(
                compare(scheme, "0", first),
                Ok(Ordering::Less),
                "{scheme:?} {first}"
            );
        }
        let pseudo = "v0.0.0-20191109021931-daa7c04131f5";
        assert_eq!(compare(Scheme::Go, "0", pseudo), Ok(Ordering::Greater));
    }

    /// Arbitrary text never panics, and every answer is antisymmetric and reflexive.
    #[test]
    fn arbitrary_text_is_ordered_or_refused_never_a_panic() {
        const ALL: [Scheme; 10] = [
            Scheme::Deb,
            Scheme::Rpm,
            Scheme::Apk,
            Scheme::Semver,
            Scheme::Go,
            Scheme::Pep440,
            Scheme::Maven,
            Scheme::Gem,
            Scheme::Nuget,
            Scheme::Composer,
        ];
        let alphabet: Vec<char> = "0189.-_~^+:!#vVaArRpPzé α \t".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut text = || {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let len = (next() % 9) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect::<String>()
        };
        for _ in 0..3000 {
            let (a, b) = (text(), text());
            for scheme in ALL {
                let _ = parse_check(scheme, &a);
                match (compare(scheme, &a, &b), compare(scheme, &b, &a)) {
                    (Ok(x), Ok(y)) => assert_eq!(x, y.reverse(), "{scheme:?} {a:?} {b:?}"),
                    (Err(_), Err(_)) => {}
                    other => panic!("{scheme:?} {a:?} {b:?}: one way only: {other:?}"),
                }
                if let Ok(order) = compare(scheme, &a, &a) {
                    assert_eq!(order, Ordering::Equal, "{scheme:?} {a:?}");
                }
            }
        }
    }

    #[test]
    fn unknown_ecosystems_have_no_scheme() {
        assert_eq!(Scheme::for_osv_ecosystem("Pub"), None);
        assert_eq!(Scheme::for_osv_ecosystem(""), None);
    }

    #[test]
    fn every_osv_ecosystem_scheme_compares() {
        for ecosystem in [
            "Debian:12",
            "Alpine:v3.20",
            "Red Hat",
            "npm",
            "Go",
            "PyPI",
            "Maven",
            "RubyGems",
            "NuGet",
            "Packagist",
            "crates.io",
            "Hex",
            "Ubuntu:22.04:LTS",
            "Rocky Linux:9",
        ] {
            let scheme = Scheme::for_osv_ecosystem(ecosystem).unwrap();
            assert_eq!(
                compare(scheme, "1.0", "2.0"),
                Ok(Ordering::Less),
                "{ecosystem}"
            );
            assert_eq!(
                compare(scheme, "2.0", "2.0"),
                Ok(Ordering::Equal),
                "{ecosystem}"
            );
        }
    }
}
