//! rpm version ordering: `[epoch:]version[-release]` compared with `rpmvercmp`, as rpm 4.18's
//! `rpm.vercmp` does (a version without a release sorts before the same version with one).
//!
//! Hand-written: no maintained crate compares EVR strings in place with `~` and `^`.

use std::cmp::Ordering;

use super::Invalid;

/// An `[epoch:]version[-release]` split as rpm's `parseEVR` does.
struct Evr<'a> {
    epoch: &'a [u8],
    version: &'a [u8],
    release: Option<&'a [u8]>,
}

fn parse(text: &str) -> Result<Evr<'_>, Invalid> {
    if text.is_empty() {
        return Err(Invalid::new(text, "version string is empty"));
    }
    let bytes = text.as_bytes();
    // An epoch is leading digits followed by a colon; `a:1` has none and `:1` has epoch 0.
    let digits = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
    let (epoch, rest) = if bytes.get(digits) == Some(&b':') {
        let epoch = &bytes[..digits];
        (
            if epoch.is_empty() { &b"0"[..] } else { epoch },
            &bytes[digits + 1..],
        )
    } else {
        (&b"0"[..], bytes)
    };
    let (version, release) = match rest.iter().rposition(|&c| c == b'-') {
        Some(hyphen) => (&rest[..hyphen], Some(&rest[hyphen + 1..])),
        None => (rest, None),
    };
    Ok(Evr {
        epoch,
        version,
        release,
    })
}

/// Checks that `version` is an rpm EVR (rpm only refuses the empty string).
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    parse(version).map(|_| ())
}

/// Compares two EVRs: epoch, version, then release (absent before present).
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    let a = parse(a)?;
    let b = parse(b)?;
    Ok(rpmvercmp(a.epoch, b.epoch)
        .then_with(|| rpmvercmp(a.version, b.version))
        .then_with(|| match (a.release, b.release) {
            (Some(a), Some(b)) => rpmvercmp(a, b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }))
}

/// Whether rpm skips `c` as a separator: anything but ASCII letters, digits, `~` and `^`.
fn is_separator(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || c == b'~' || c == b'^')
}

/// rpm's `rpmvercmp`: alphanumeric segments, digits numerically and above letters; `~` sorts
/// before everything, `^` after the end but before anything else.
pub(super) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && is_separator(a[i]) {
            i += 1;
        }
        while j < b.len() && is_separator(b[j]) {
            j += 1;
        }
        let (ac, bc) = (a.get(i).copied(), b.get(j).copied());
        if ac == Some(b'~') || bc == Some(b'~') {
            if ac != Some(b'~') {
                return Ordering::Greater;
            }
            if bc != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ac == Some(b'^') || bc == Some(b'^') {
            match (ac, bc) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(b'^'), Some(b'^')) => {}
                (_, Some(b'^')) => return Ordering::Greater,
                _ => return Ordering::Less,
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (ac, bc) else {
            break;
        };
        let numeric = first.is_ascii_digit();
        let in_segment = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let a_len = a[i..].iter().take_while(|c| in_segment(c)).count();
        let b_len = b[j..].iter().take_while(|c| in_segment(c)).count();
        // Segments of different kinds: a number is newer than letters.
        if b_len == 0 {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[i..i + a_len], &b[j..j + b_len]);
        let segments = if numeric {
            super::cmp_digits(sa, sb)
        } else {
            super::cmp_bytes(sa, sb)
        };
        if segments != Ordering::Equal {
            return segments;
        }
        i += a_len;
        j += b_len;
    }
    // The one with segments left is newer.
    (i < a.len()).cmp(&(j < b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn tilde_before_and_caret_after() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(cmp("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(cmp("1.0~rc1^git1", "1.0~rc1"), Ordering::Greater);
    }

    #[test]
    fn numbers_beat_letters_and_separators_do_not_count() {
        assert_eq!(cmp("1.0", "1.a"), Ordering::Greater);
        assert_eq!(cmp("2_0", "2.0"), Ordering::Equal);
        assert_eq!(cmp("10.0001", "10.1"), Ordering::Equal);
        assert_eq!(cmp("6.0.rc1", "6.0"), Ordering::Greater);
    }

    #[test]
    fn epoch_and_release() {
        assert_eq!(cmp("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(cmp("0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1.0", "1.0-1"), Ordering::Less);
        assert_eq!(cmp("1.0-1.el9", "1.0-1.el9_1"), Ordering::Less);
        // Not an epoch: the colon is not after leading digits.
        assert_eq!(cmp("a:1", "b:1"), Ordering::Less);
    }

    #[test]
    fn only_the_empty_string_is_invalid() {
        let error = check("").unwrap_err();
        assert_eq!(error.reason, "version string is empty");
        assert!(check("1:").is_ok());
    }
}
