//! NuGet versions: up to four numbers (`1.0` = `1.0.0.0`), SemVer 2.0 pre-release labels
//! compared without regard to case, build metadata ignored.
//!
//! Hand-written on top of [`super::semver`]: no Rust crate implements NuGet.Versioning's
//! ordering.

use std::cmp::Ordering;

use super::Invalid;
use super::semver::{Rules, check_with, compare_with};

/// NuGet's reading: four numbers, labels case-insensitive, a leading `v` refused.
const NUGET: Rules = Rules {
    parts: 4,
    extra_parts_are_build: false,
    allow_v: false,
    ignore_case: true,
};

/// Checks that `version` is a NuGet version.
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    check_with(version, &NUGET)
}

/// Compares two NuGet versions.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    compare_with(a, b, &NUGET)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn four_numbers_padded_with_zeros() {
        assert_eq!(cmp("1.0", "1.0.0.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.0.1", "1.0.0"), Ordering::Greater);
        assert_eq!(cmp("1.0.0.1-alpha", "1.0.0"), Ordering::Greater);
    }

    #[test]
    fn labels_ignore_case() {
        assert_eq!(cmp("1.0.0-BETA", "1.0.0-beta"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-Beta.2", "1.0.0-beta.10"), Ordering::Less);
        assert_eq!(cmp("1.0.0-beta", "1.0.0"), Ordering::Less);
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in ["", "1.0.0.0.0", "v1.0", "1.0-", "one"] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
    }
}
