//! dpkg version ordering: `[epoch:]upstream[-revision]`, compared as dpkg's `verrevcmp` does.
//!
//! Hand-written: the dpkg rule is twenty lines and compares in place; the crates that implement
//! it parse into owned strings first.

use std::cmp::Ordering;

use super::Invalid;

/// A version split into its three parts, borrowing the text.
struct DebVersion<'a> {
    epoch: &'a [u8],
    upstream: &'a [u8],
    revision: &'a [u8],
}

/// Reads `version` as dpkg's `parseversion` does, with the same hard errors (dpkg only warns
/// about odd characters and still compares, so do we).
fn parse(version: &str) -> Result<DebVersion<'_>, Invalid> {
    let text = version.trim();
    if text.is_empty() {
        return Err(Invalid::new(version, "version string is empty"));
    }
    if text.bytes().any(|c| c.is_ascii_whitespace()) {
        return Err(Invalid::new(version, "version string has embedded spaces"));
    }
    let bytes = text.as_bytes();
    let (epoch, rest) = match text.find(':') {
        Some(colon) => {
            let epoch = &bytes[..colon];
            if epoch.is_empty() {
                return Err(Invalid::new(version, "epoch in version is empty"));
            }
            if !epoch.iter().all(u8::is_ascii_digit) {
                return Err(Invalid::new(version, "epoch in version is not a number"));
            }
            // dpkg keeps the epoch in an int.
            if super::cmp_digits(epoch, b"2147483647") == Ordering::Greater {
                return Err(Invalid::new(version, "epoch in version is too big"));
            }
            if colon + 1 == bytes.len() {
                return Err(Invalid::new(
                    version,
                    "nothing after colon in version number",
                ));
            }
            (epoch, &bytes[colon + 1..])
        }
        None => (&b""[..], bytes),
    };
    let (upstream, revision) = match rest.iter().rposition(|&c| c == b'-') {
        Some(hyphen) => {
            if hyphen + 1 == rest.len() {
                return Err(Invalid::new(version, "revision number is empty"));
            }
            (&rest[..hyphen], &rest[hyphen + 1..])
        }
        None => (rest, &b""[..]),
    };
    if upstream.is_empty() {
        return Err(Invalid::new(version, "version number is empty"));
    }
    Ok(DebVersion {
        epoch,
        upstream,
        revision,
    })
}

/// Checks that `version` is a dpkg version.
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    parse(version).map(|_| ())
}

/// Compares two dpkg versions: epoch numerically, then upstream and revision with `verrevcmp`.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    let a = parse(a)?;
    let b = parse(b)?;
    Ok(super::cmp_digits(a.epoch, b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision)))
}

/// The weight of a non-digit character: `~` before the end, the end before letters, letters
/// before everything else.
fn order(c: Option<&u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(*c),
        Some(b'~') => -1,
        Some(c) => i32::from(*c) + 256,
    }
}

/// dpkg's comparison of one part: alternate non-digit runs (by [`order`]) and digit runs
/// (numerically, of any length).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (ac, bc) = (order(a.get(i)), order(b.get(j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        let a_digits = a[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let b_digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        let numbers = super::cmp_digits(&a[i..i + a_digits], &b[j..j + b_digits]);
        if numbers != Ordering::Equal {
            return numbers;
        }
        i += a_digits;
        j += b_digits;
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn tilde_sorts_before_everything_even_the_end() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(cmp("1.2.3-1~deb12u1", "1.2.3-1"), Ordering::Less);
    }

    #[test]
    fn letters_sort_before_non_letters() {
        assert_eq!(cmp("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(cmp("1.0a", "1.0"), Ordering::Greater);
        assert_eq!(cmp("1.0Z", "1.0a"), Ordering::Less);
    }

    #[test]
    fn epoch_wins_and_missing_parts_are_zero() {
        assert_eq!(cmp("1:0.1", "9.9"), Ordering::Greater);
        assert_eq!(cmp("0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1.0-0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1.01", "1.1"), Ordering::Equal);
    }

    #[test]
    fn hyphens_belong_to_upstream_up_to_the_last() {
        assert_eq!(cmp("1.0-2-1", "1.0-1-2"), Ordering::Greater);
    }

    #[test]
    fn invalid_versions_are_named() {
        for (bad, reason) in [
            ("", "version string is empty"),
            ("a:1.0", "epoch in version is not a number"),
            (":1.0", "epoch in version is empty"),
            ("1:", "nothing after colon in version number"),
            ("1.0-", "revision number is empty"),
            ("-1", "version number is empty"),
            ("1.0 2", "version string has embedded spaces"),
            ("99999999999:1", "epoch in version is too big"),
        ] {
            let error = check(bad).unwrap_err();
            assert_eq!((error.version.as_str(), error.reason), (bad, reason));
        }
    }
}
