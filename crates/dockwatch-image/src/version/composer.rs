//! Composer (Packagist) versions, ordered as Composer does: a leading `v` dropped, then PHP's
//! `version_compare`: parts split at `.`, `-`, `_`, `+` and at digit/letter changes, numbers
//! numerically, and the stability words ranked, by prefix and case-sensitively,
//! `unknown < dev < alpha = a < beta = b < RC = rc < # (a number) < pl = p (patch)`.
//!
//! Hand-written: no Rust crate implements `version_compare`. It walks both strings in place.

use std::cmp::Ordering;

use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part<'a> {
    Number(&'a [u8]),
    Word(&'a [u8]),
}

/// The parts of a version, as PHP's canonicalisation splits them.
struct Parts<'a> {
    rest: &'a [u8],
}

impl<'a> Parts<'a> {
    fn new(version: &'a str) -> Self {
        let text = version.trim().as_bytes();
        let text = match text.first() {
            Some(b'v' | b'V') if text.get(1).is_some_and(u8::is_ascii_digit) => &text[1..],
            _ => text,
        };
        Self { rest: text }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        loop {
            let &c = self.rest.first()?;
            // `#` is PHP's own marker for "a number" and survives as a word.
            let (n, part) = if c.is_ascii_digit() {
                let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
                (n, Part::Number(&self.rest[..n]))
            } else if c.is_ascii_alphabetic() || c == b'#' {
                let n = self
                    .rest
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic() || **c == b'#')
                    .count();
                (n, Part::Word(&self.rest[..n]))
            } else {
                self.rest = &self.rest[1..];
                continue;
            };
            self.rest = &self.rest[n..];
            return Some(part);
        }
    }
}

/// The rank of a stability word. PHP matches by prefix and with case, so `patch` is `p`,
/// `RC` and `rc` are release candidates, but `ALPHA` and `stable` are unknown words.
fn rank(word: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |(_, rank)| *rank)
}

/// The rank a number has when it meets a word.
const NUMBER: i8 = 4;

fn cmp_parts(a: Part<'_>, b: Part<'_>) -> Ordering {
    match (a, b) {
        (Part::Number(x), Part::Number(y)) => super::cmp_digits(x, y),
        (Part::Word(x), Part::Word(y)) => rank(x).cmp(&rank(y)),
        (Part::Number(_), Part::Word(y)) => NUMBER.cmp(&rank(y)),
        (Part::Word(x), Part::Number(_)) => rank(x).cmp(&NUMBER),
    }
}

/// How a part weighs against the end of the other version: a number is newer, a word is
/// weighed against "a number".
fn cmp_to_end(part: Part<'_>) -> Ordering {
    match part {
        Part::Number(_) => Ordering::Greater,
        Part::Word(word) => rank(word).cmp(&NUMBER),
    }
}

/// Once the shorter version ends, the longer one's parts are weighed one by one.
fn cmp_tail(first: Part<'_>, rest: Parts<'_>) -> Ordering {
    std::iter::once(first)
        .chain(rest)
        .map(cmp_to_end)
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Checks that `version` has something to compare.
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    if Parts::new(version).next().is_none() {
        return Err(Invalid::new(
            version,
            "a Composer version needs a number or a word",
        ));
    }
    Ok(())
}

/// Compares two Composer versions.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    check(a)?;
    check(b)?;
    let (mut xs, mut ys) = (Parts::new(a), Parts::new(b));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ok(Ordering::Equal),
            (Some(x), None) => return Ok(cmp_tail(x, xs)),
            (None, Some(y)) => return Ok(cmp_tail(y, ys).reverse()),
            (Some(x), Some(y)) => {
                let order = cmp_parts(x, y);
                if order.is_ne() {
                    return Ok(order);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn stabilities_in_order() {
        let chain = [
            "1.0-foo",
            "1.0-dev",
            "1.0-alpha1",
            "1.0-beta2",
            "1.0-RC1",
            "1.0",
            "1.0-p1",
        ];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn normalisation() {
        assert_eq!(cmp("v1.0.0", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-beta2", "1.0.0-b.2"), Ordering::Equal);
        assert_eq!(cmp("1.0.0rc2", "1.0.0.RC2"), Ordering::Equal);
        assert_eq!(cmp("1.0.0", "1.0"), Ordering::Greater);
        // PHP's words are case-sensitive: ALPHA is an unknown word, like BETA.
        assert_eq!(cmp("1.0-ALPHA", "1.0-BETA"), Ordering::Equal);
        // A patch level is newer than the next number, as in PHP.
        assert_eq!(cmp("1.0-p1", "1.0.1"), Ordering::Greater);
        assert_eq!(cmp("dev-main", "0.0.1"), Ordering::Less);
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in ["", "  ", "..."] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
    }
}
