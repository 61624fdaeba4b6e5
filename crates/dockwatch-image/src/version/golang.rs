//! Go module versions: SemVer with an optional `v` (OSV's Go ranges drop it), `+incompatible`
//! as build metadata, and pseudo-versions, which are SemVer pre-releases by construction.
//!
//! Hand-written on top of [`super::semver`]: Go's `golang.org/x/mod/semver` has no Rust port,
//! and its ordering is SemVer precedence.

use std::cmp::Ordering;

use super::Invalid;
use super::semver::{Rules, check_with, compare_with};

/// Go's reading: `v1` and `v1.2` are shorthands for `v1.0.0` and `v1.2.0`, no fourth number.
const GO: Rules = Rules {
    parts: 3,
    extra_parts_are_build: false,
    allow_v: true,
    ignore_case: false,
};

/// Checks that `version` is a Go module version.
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    check_with(version, &GO)
}

/// Compares two Go module versions.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    compare_with(a, b, &GO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn pseudo_versions_sort_as_pre_releases() {
        // No tag before: v0.0.0-timestamp-hash, ordered by timestamp, before any release.
        assert_eq!(
            cmp(
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200101000000-000000000000"
            ),
            Ordering::Less
        );
        assert_eq!(
            cmp("v0.0.0-20191109021931-daa7c04131f5", "v0.0.1"),
            Ordering::Less
        );
        // After v1.2.3: v1.2.4-0.timestamp-hash, between v1.2.3 and v1.2.4.
        let pseudo = "v1.2.4-0.20191109021931-daa7c04131f5";
        assert_eq!(cmp("v1.2.3", pseudo), Ordering::Less);
        assert_eq!(cmp(pseudo, "v1.2.4"), Ordering::Less);
        assert_eq!(cmp(pseudo, "v1.2.4-rc.1"), Ordering::Less);
        // After a pre-release v1.2.4-pre: v1.2.4-pre.0.timestamp-hash.
        assert_eq!(
            cmp("v1.2.4-pre", "v1.2.4-pre.0.20191109021931-daa7c04131f5"),
            Ordering::Less
        );
    }

    #[test]
    fn incompatible_is_build_metadata_and_v_is_optional() {
        assert_eq!(cmp("v2.0.0+incompatible", "2.0.0"), Ordering::Equal);
        assert_eq!(cmp("v2.1.0+incompatible", "v2.0.0"), Ordering::Greater);
        assert_eq!(cmp("v1", "v1.0.0"), Ordering::Equal);
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in ["", "v", "v1.2.3.4", "vx", "1.2.3-"] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
    }
}
