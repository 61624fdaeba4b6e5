//! Semantic Versioning 2.0 precedence (npm, crates.io, OSV `SEMVER` ranges), shared with Go
//! and NuGet, which differ only in how many numbers they take and in letter case.
//!
//! Hand-written rather than the `semver` crate: that crate refuses `0` (OSV's "since the
//! beginning" bound), `v1.2.3`, and numbers past `u64`, all of which advisories contain; the
//! tests check this module against the crate on the versions the crate accepts.

use std::cmp::Ordering;

use super::Invalid;

/// How one SemVer-like scheme reads versions.
pub(super) struct Rules {
    /// How many dot-separated numbers make the release (3, or 4 for NuGet); more are refused
    /// unless `extra_parts_are_build`.
    pub(super) parts: usize,
    /// OSV's reading of `1.2.3.4`: everything past the third number is build metadata.
    pub(super) extra_parts_are_build: bool,
    /// Whether a leading `v` is allowed (`v1.2.3`).
    pub(super) allow_v: bool,
    /// Whether pre-release labels compare without regard to ASCII case (NuGet).
    pub(super) ignore_case: bool,
}

/// SemVer as OSV reads it: `v` allowed, missing minor and patch are zero.
const SEMVER: Rules = Rules {
    parts: 3,
    extra_parts_are_build: true,
    allow_v: true,
    ignore_case: false,
};

/// A version borrowing its text: the release numbers and the pre-release (build is dropped).
struct Parsed<'a> {
    release: [&'a [u8]; 4],
    pre: Option<&'a [u8]>,
}

fn parse<'a>(version: &'a str, rules: &Rules) -> Result<Parsed<'a>, Invalid> {
    let invalid = |reason| Err(Invalid::new(version, reason));
    let mut text = version.as_bytes();
    if text.is_empty() {
        return invalid("version string is empty");
    }
    if rules.allow_v && matches!(text.first(), Some(b'v' | b'V')) {
        text = &text[1..];
    }
    let core_end = text
        .iter()
        .position(|&c| c == b'-' || c == b'+')
        .unwrap_or(text.len());
    let (core, tail) = text.split_at(core_end);
    let mut release: [&[u8]; 4] = [b"0"; 4];
    let mut extra = false;
    for (index, part) in core.split(|&c| c == b'.').enumerate() {
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return invalid("release numbers must be digits separated by dots");
        }
        if index < rules.parts {
            release[index] = part;
        } else if rules.extra_parts_are_build {
            extra = true;
        } else {
            return invalid("too many release numbers");
        }
    }
    let (pre, build) = match tail.first() {
        Some(b'-') => {
            let plus = tail.iter().position(|&c| c == b'+').unwrap_or(tail.len());
            (Some(&tail[1..plus]), &tail[plus..])
        }
        _ => (None, tail),
    };
    if let Some(pre) = pre {
        let valid = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-';
        if pre
            .split(|&c| c == b'.')
            .any(|id| id.is_empty() || !id.iter().all(valid))
        {
            return invalid("pre-release identifiers must be non-empty [0-9A-Za-z-]");
        }
    }
    if let Some(build) = build.strip_prefix(b"+") {
        let valid = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.';
        if build.is_empty() || !build.iter().all(valid) {
            return invalid("build metadata must be non-empty [0-9A-Za-z.-]");
        }
    }
    // After an extra release number everything is build metadata, pre-release included.
    Ok(Parsed {
        release,
        pre: if extra { None } else { pre },
    })
}

/// Checks `version` under `rules`.
pub(super) fn check_with(version: &str, rules: &Rules) -> Result<(), Invalid> {
    parse(version, rules).map(|_| ())
}

/// Compares under `rules`: release numbers, then a pre-release sorts before the release,
/// identifier by identifier; build metadata is ignored.
pub(super) fn compare_with(a: &str, b: &str, rules: &Rules) -> Result<Ordering, Invalid> {
    let a = parse(a, rules)?;
    let b = parse(b, rules)?;
    let release = a
        .release
        .iter()
        .zip(&b.release)
        .map(|(x, y)| super::cmp_digits(x, y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal);
    Ok(release.then_with(|| match (a.pre, b.pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => cmp_pre_release(x, y, rules.ignore_case),
    }))
}

/// Pre-release precedence: numeric identifiers numerically and before alphanumeric ones,
/// which compare as ASCII text; a longer list wins when all before are equal.
fn cmp_pre_release(a: &[u8], b: &[u8], ignore_case: bool) -> Ordering {
    let numeric = |id: &[u8]| id.iter().all(u8::is_ascii_digit);
    let mut xs = a.split(|&c| c == b'.');
    let mut ys = b.split(|&c| c == b'.');
    loop {
        let order = match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match (numeric(x), numeric(y)) {
                (true, true) => super::cmp_digits(x, y),
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) if ignore_case => super::cmp_ignore_ascii_case(x, y),
                (false, false) => super::cmp_bytes(x, y),
            },
        };
        if order.is_ne() {
            return order;
        }
    }
}

/// Checks that `version` is SemVer (leniently, as OSV reads it).
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    check_with(version, &SEMVER)
}

/// Compares two SemVer versions.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    compare_with(a, b, &SEMVER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn spec_example_chain_is_increasing() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn build_metadata_is_ignored_and_missing_numbers_are_zero() {
        assert_eq!(cmp("1.2.3+build.1", "1.2.3+other"), Ordering::Equal);
        assert_eq!(cmp("0", "0.0.0"), Ordering::Equal);
        assert_eq!(cmp("v1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(cmp("1.2.3-R2", "1.2.3-r100"), Ordering::Less);
    }

    #[test]
    fn numbers_past_u64_compare() {
        assert_eq!(
            cmp("18446744073709551616.0.0", "18446744073709551615.0.0"),
            Ordering::Greater
        );
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in [
            "",
            "1.x",
            "1..2",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+",
            "1.2.3-a_b",
        ] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
    }

    /// The `semver` crate is the reference for the versions it accepts.
    #[test]
    fn agrees_with_the_semver_crate() {
        let versions = [
            "0.0.0",
            "0.0.1",
            "1.0.0-0",
            "1.0.0-0.0",
            "1.0.0-1",
            "1.0.0-a",
            "1.0.0-a.1",
            "1.0.0-a.b",
            "1.0.0-A",
            "1.0.0-a-b",
            "1.0.0-10",
            "1.0.0-9",
            "1.0.0",
            "1.0.0+x",
            "1.0.1-rc.1+b",
            "1.10.0",
            "1.9.0",
            "2.0.0-alpha.10",
            "2.0.0-alpha.9",
        ];
        for a in versions {
            for b in versions {
                let reference = ::semver::Version::parse(a)
                    .unwrap()
                    .cmp_precedence(&::semver::Version::parse(b).unwrap());
                assert_eq!(cmp(a, b), reference, "{a} vs {b}");
            }
        }
    }
}
