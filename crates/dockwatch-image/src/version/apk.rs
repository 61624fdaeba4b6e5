//! apk-tools version ordering: `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`.
//!
//! Hand-written: no crate implements apk's ordering. It follows apk-tools' token walk: the
//! first token kind that differs decides, a pre-release suffix (`_alpha`, `_beta`, `_pre`,
//! `_rc`) sorts before the end and the post-release ones (`_cvs`, `_svn`, `_git`, `_hg`, `_p`)
//! after it. Like apk-tools 2 (the apk of every Alpine 3.x release), a digit may follow a
//! letter (`1.9.5p1`); like apk-tools 3, an invalid tail sorts before any valid token. Two
//! invalid tails at the same place compare as text (`0..8 > 0...8`), as the osv-scalibr
//! vectors expect.

use std::cmp::Ordering;

use super::Invalid;

/// Suffix ranks: the pre-releases are negative, "no suffix" is zero.
const SUFFIXES: [(&[u8], i8); 9] = [
    (b"alpha", -4),
    (b"beta", -3),
    (b"pre", -2),
    (b"rc", -1),
    (b"cvs", 1),
    (b"svn", 2),
    (b"git", 3),
    (b"hg", 4),
    (b"p", 5),
];

/// The kinds of token, in the order that decides when two versions differ in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
    Invalid,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    /// Digits, the letter, the suffix word, the hash, or the invalid rest.
    text: &'a [u8],
    /// Whether this is the first number (compared numerically even with a leading zero).
    first: bool,
}

/// Walks the tokens of one version.
struct Tokens<'a> {
    rest: &'a [u8],
    previous: Option<Kind>,
}

impl<'a> Tokens<'a> {
    fn new(version: &'a str) -> Self {
        Self {
            rest: version.as_bytes(),
            previous: None,
        }
    }

    fn digits(&mut self) -> &'a [u8] {
        let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (digits, rest) = self.rest.split_at(n);
        self.rest = rest;
        digits
    }

    fn next_token(&mut self) -> Token<'a> {
        let token = self.read();
        self.previous = Some(token.kind);
        token
    }

    fn read(&mut self) -> Token<'a> {
        let invalid = |rest: &'a [u8]| Token {
            kind: Kind::Invalid,
            text: rest,
            first: false,
        };
        let token = |kind, text| Token {
            kind,
            text,
            first: false,
        };
        let Some(previous) = self.previous else {
            let digits = self.digits();
            if digits.is_empty() {
                return invalid(self.rest);
            }
            return Token {
                kind: Kind::Digit,
                text: digits,
                first: true,
            };
        };
        let start = self.rest;
        let Some(&c) = self.rest.first() else {
            return token(Kind::End, b"");
        };
        match c {
            b'.' if previous == Kind::Digit => {
                self.rest = &self.rest[1..];
                let digits = self.digits();
                if digits.is_empty() {
                    return invalid(start);
                }
                token(Kind::Digit, digits)
            }
            b'0'..=b'9' if previous == Kind::Letter => token(Kind::Digit, self.digits()),
            b'0'..=b'9' if previous == Kind::Suffix => token(Kind::SuffixNumber, self.digits()),
            b'a'..=b'z' if previous == Kind::Digit => {
                self.rest = &self.rest[1..];
                token(Kind::Letter, &start[..1])
            }
            b'_' if previous <= Kind::SuffixNumber => {
                let n = 1 + self.rest[1..]
                    .iter()
                    .take_while(|c| c.is_ascii_lowercase())
                    .count();
                let word = &self.rest[1..n];
                if !SUFFIXES.iter().any(|(name, _)| *name == word) {
                    return invalid(start);
                }
                self.rest = &self.rest[n..];
                token(Kind::Suffix, word)
            }
            b'~' if previous < Kind::CommitHash => {
                let n = 1 + self.rest[1..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if n == 1 {
                    return invalid(start);
                }
                let hash = &self.rest[1..n];
                self.rest = &self.rest[n..];
                token(Kind::CommitHash, hash)
            }
            b'-' if previous < Kind::Revision && self.rest.get(1) == Some(&b'r') => {
                self.rest = &self.rest[2..];
                let digits = self.digits();
                if digits.is_empty() && !self.rest.is_empty() {
                    return invalid(start);
                }
                token(Kind::Revision, digits)
            }
            _ => invalid(start),
        }
    }
}

fn suffix_rank(word: &[u8]) -> i8 {
    SUFFIXES
        .iter()
        .find(|(name, _)| *name == word)
        .map_or(0, |(_, rank)| *rank)
}

/// Compares two tokens of the same kind.
fn cmp_same_kind(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        // Gentoo's rule, kept by apk: a later number with a leading zero compares as text.
        Kind::Digit
            if !a.first && (a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0')) =>
        {
            super::cmp_bytes(a.text, b.text)
        }
        Kind::Digit | Kind::SuffixNumber | Kind::Revision => super::cmp_digits(a.text, b.text),
        Kind::Suffix => suffix_rank(a.text).cmp(&suffix_rank(b.text)),
        Kind::Letter | Kind::CommitHash | Kind::Invalid => super::cmp_bytes(a.text, b.text),
        Kind::End => Ordering::Equal,
    }
}

/// Checks that `version` is a valid apk version.
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    let mut tokens = Tokens::new(version);
    loop {
        match tokens.next_token().kind {
            Kind::End => return Ok(()),
            Kind::Invalid => {
                return Err(Invalid::new(
                    version,
                    "not an apk version (digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#})",
                ));
            }
            _ => {}
        }
    }
}

/// Compares two apk versions. Like `apk version -t`, it orders invalid versions too (their
/// invalid tails compare as text); only an empty version is refused.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    for version in [a, b] {
        if version.is_empty() {
            return Err(Invalid::new(version, "version string is empty"));
        }
    }
    let (mut ta, mut tb) = (Tokens::new(a), Tokens::new(b));
    loop {
        let (x, y) = (ta.next_token(), tb.next_token());
        if x.kind != y.kind {
            return Ok(cmp_kinds(&x, &y));
        }
        let order = cmp_same_kind(&x, &y);
        if order != Ordering::Equal || matches!(x.kind, Kind::End | Kind::Invalid) {
            return Ok(order);
        }
    }
}

/// Two versions equal so far continue with tokens of different kinds: the one that goes on is
/// newer, unless it goes on with a pre-release suffix; an invalid tail is older than anything.
fn cmp_kinds(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    if a.kind == Kind::Suffix && suffix_rank(a.text) < 0 {
        return Ordering::Less;
    }
    if b.kind == Kind::Suffix && suffix_rank(b.text) < 0 {
        return Ordering::Greater;
    }
    b.kind.cmp(&a.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn suffixes_before_and_after_the_release() {
        assert_eq!(cmp("1.2_rc1", "1.2"), Ordering::Less);
        assert_eq!(cmp("1.2_alpha", "1.2_beta"), Ordering::Less);
        assert_eq!(cmp("1.2_p1", "1.2"), Ordering::Greater);
        assert_eq!(cmp("1.2_git20240101", "1.2_hg1"), Ordering::Less);
        assert_eq!(cmp("0.1.0_alpha_pre2", "0.1.0_alpha"), Ordering::Less);
    }

    #[test]
    fn revisions_and_letters() {
        assert_eq!(cmp("1.2.3-r10", "1.2.3-r9"), Ordering::Greater);
        assert_eq!(cmp("1.2.3", "1.2.3-r0"), Ordering::Less);
        assert_eq!(cmp("1.2.3a", "1.2.3"), Ordering::Greater);
        assert_eq!(cmp("1.2.3a", "1.2.4"), Ordering::Less);
        assert_eq!(cmp("1.9.5p1-r1", "1.9.5p2-r0"), Ordering::Less);
    }

    #[test]
    fn leading_zeros_after_the_first_number_compare_as_text() {
        assert_eq!(cmp("1.02", "1.1"), Ordering::Less);
        assert_eq!(cmp("1.010", "1.01"), Ordering::Greater);
        assert_eq!(cmp("01.1", "1.1"), Ordering::Equal);
    }

    #[test]
    fn commit_hash_sorts_before_the_revision() {
        assert_eq!(cmp("1.0~abc1-r1", "1.0~abc1-r0"), Ordering::Greater);
        assert_eq!(cmp("1.0~abc1", "1.0"), Ordering::Greater);
    }

    #[test]
    fn invalid_versions_are_named_but_still_ordered() {
        let error = check("1.2_blah").unwrap_err();
        assert_eq!(error.version, "1.2_blah");
        assert!(check("1.2.3_rc1-r2").is_ok());
        assert!(check("").is_err());
        assert_eq!(cmp("1.2", "1.2_blah"), Ordering::Greater);
    }
}
