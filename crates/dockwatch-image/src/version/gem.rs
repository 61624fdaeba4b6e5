//! RubyGems versions, ordered as `Gem::Version#<=>`: segments are runs of digits or letters,
//! a `-` reads as `.pre.`, a letter segment makes a pre-release and sorts before any number,
//! and trailing zeros of the release part and of the pre-release part do not count.
//!
//! Hand-written: no Rust crate implements `Gem::Version`. It walks both strings in place.

use std::cmp::Ordering;

use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Number(&'a [u8]),
    Letters(&'a [u8]),
}

/// The raw segments: `[0-9]+|[a-zA-Z]+`, with each `-` giving a `pre` segment.
struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        loop {
            let &c = self.rest.first()?;
            let run = |pred: fn(&u8) -> bool| self.rest.iter().take_while(|c| pred(c)).count();
            let (n, segment) = if c.is_ascii_digit() {
                let n = run(u8::is_ascii_digit);
                (n, Segment::Number(&self.rest[..n]))
            } else if c.is_ascii_alphabetic() {
                let n = run(u8::is_ascii_alphabetic);
                (n, Segment::Letters(&self.rest[..n]))
            } else if c == b'-' {
                (1, Segment::Letters(b"pre"))
            } else {
                self.rest = &self.rest[1..];
                continue;
            };
            self.rest = &self.rest[n..];
            return Some(segment);
        }
    }
}

/// The canonical segments: zeros in the release part (before the first letters) that are
/// followed by no other number there are dropped, as `canonical_segments` does; trailing zeros
/// of the pre-release part equal the padding, so they need no dropping.
struct Canonical<'a> {
    raw: Segments<'a>,
    in_release: bool,
    pending_zeros: usize,
    held: Option<Segment<'a>>,
}

impl<'a> Canonical<'a> {
    fn new(version: &'a str) -> Self {
        Self {
            raw: Segments {
                rest: version.trim().as_bytes(),
            },
            in_release: true,
            pending_zeros: 0,
            held: None,
        }
    }
}

impl<'a> Iterator for Canonical<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        if self.pending_zeros > 0 {
            self.pending_zeros -= 1;
            return Some(Segment::Number(b"0"));
        }
        if let Some(held) = self.held.take() {
            return Some(held);
        }
        match self.raw.next()? {
            Segment::Number(digits) if self.in_release && super::is_zero(digits) => {
                let mut zeros = 1;
                loop {
                    match self.raw.next() {
                        Some(Segment::Number(d)) if super::is_zero(d) => zeros += 1,
                        Some(number @ Segment::Number(_)) => {
                            self.pending_zeros = zeros - 1;
                            self.held = Some(number);
                            return Some(Segment::Number(b"0"));
                        }
                        Some(letters) => {
                            self.in_release = false;
                            return Some(letters);
                        }
                        None => return None,
                    }
                }
            }
            letters @ Segment::Letters(_) => {
                self.in_release = false;
                Some(letters)
            }
            number => Some(number),
        }
    }
}

/// Checks that `version` is a gem version: a number first, then numbers and letters separated
/// by `.`, `-` starting the pre-release part (letters may follow a number directly, as
/// advisories write `1.0beta`).
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    let text = version.trim().as_bytes();
    if text.is_empty() {
        // Gem::Version.new("") is "0".
        return Ok(());
    }
    if !text[0].is_ascii_digit() {
        return Err(Invalid::new(version, "a gem version starts with a number"));
    }
    if !text
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'-')
    {
        return Err(Invalid::new(
            version,
            "a gem version has only [0-9A-Za-z.-]",
        ));
    }
    if text
        .windows(2)
        .any(|w| w == b".." || w == b".-" || w == b"-.")
        || text.ends_with(b".")
        || text.ends_with(b"-")
    {
        return Err(Invalid::new(version, "a gem version has an empty segment"));
    }
    Ok(())
}

/// Compares two gem versions.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    check(a)?;
    check(b)?;
    let (mut xs, mut ys) = (Canonical::new(a), Canonical::new(b));
    loop {
        let order = match (xs.next(), ys.next()) {
            (None, None) => return Ok(Ordering::Equal),
            (x, y) => {
                let zero = Segment::Number(b"0");
                match (x.unwrap_or(zero), y.unwrap_or(zero)) {
                    (Segment::Number(x), Segment::Number(y)) => super::cmp_digits(x, y),
                    (Segment::Letters(x), Segment::Letters(y)) => super::cmp_bytes(x, y),
                    (Segment::Letters(_), Segment::Number(_)) => Ordering::Less,
                    (Segment::Number(_), Segment::Letters(_)) => Ordering::Greater,
                }
            }
        };
        if order.is_ne() {
            return Ok(order);
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
    fn letters_make_a_pre_release() {
        assert_eq!(cmp("1.0.a", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0.rc1", "1.0.b2"), Ordering::Greater);
        assert_eq!(cmp("1.0.0.pre", "0.9"), Ordering::Greater);
        assert_eq!(cmp("2.0.0-rc1", "2.0.0.pre.rc1"), Ordering::Equal);
    }

    #[test]
    fn trailing_zeros_do_not_count() {
        assert_eq!(cmp("1.0.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0.a", "1.a"), Ordering::Equal);
        assert_eq!(cmp("1.0.0.1", "1"), Ordering::Greater);
        assert_eq!(cmp("1.a.0", "1.a"), Ordering::Equal);
        assert_eq!(cmp("", "0"), Ordering::Equal);
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in ["a.1", "1..2", "1.0_1", "1.", "1.0 2"] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
    }
}
