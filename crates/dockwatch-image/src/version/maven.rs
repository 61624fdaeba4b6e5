//! Maven versions, ordered as Maven's `ComparableVersion`: tokens split at `.`, `-` and
//! digit/letter changes, `-` and letter changes opening a sub-list, trailing "null" items
//! (0, `ga`, `final`, `release`, empty) dropped, qualifiers ranked
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < others`.
//!
//! Two flavours: OSV's (Maven before MNG-7644, which OSV's ranges and test vectors follow, the
//! default) and Maven 3.8.7's, which the tests check against Maven itself.
//!
//! Hand-written: no Rust crate implements `ComparableVersion`. Its nested lists need a small
//! tree per version, the one scheme here that allocates more than once.

use std::cmp::Ordering;

use super::Invalid;

/// The known qualifiers, lowest first; an unknown one sorts after all of them.
const QUALIFIERS: [&[u8]; 7] = [
    b"alpha",
    b"beta",
    b"milestone",
    b"rc",
    b"snapshot",
    b"",
    b"sp",
];
/// The rank of the release itself (`""`, `ga`, `final`, `release`).
const RELEASE: usize = 5;

/// One item of a parsed version.
#[derive(Debug)]
enum Item<'a> {
    /// A number, as its digits.
    Int(&'a [u8]),
    /// A qualifier.
    Qualifier(Qualifier<'a>),
    /// A sub-list, opened by `-` or a digit/letter change.
    List(Vec<Item<'a>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier<'a> {
    Known(usize),
    Other(&'a [u8]),
}

impl Ord for Qualifier<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Known(a), Self::Known(b)) => a.cmp(b),
            (Self::Known(_), Self::Other(_)) => Ordering::Less,
            (Self::Other(_), Self::Known(_)) => Ordering::Greater,
            (Self::Other(a), Self::Other(b)) => super::cmp_ignore_ascii_case(a, b),
        }
    }
}

impl PartialOrd for Qualifier<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reads a qualifier: `a`, `b`, `m` directly followed by a number are alpha, beta, milestone;
/// `ga`, `final`, `release` are the release; `cr` is `rc`.
fn qualifier(text: &[u8], followed_by_digit: bool) -> Qualifier<'_> {
    let is = |word: &[u8]| text.eq_ignore_ascii_case(word);
    let known = if followed_by_digit && text.len() == 1 {
        match text[0].to_ascii_lowercase() {
            b'a' => Some(0),
            b'b' => Some(1),
            b'm' => Some(2),
            _ => None,
        }
    } else {
        None
    };
    let known = known.or_else(|| {
        if is(b"ga") || is(b"final") || is(b"release") {
            Some(RELEASE)
        } else if is(b"cr") {
            Some(3)
        } else {
            QUALIFIERS.iter().position(|q| is(q))
        }
    });
    known.map_or(Qualifier::Other(text), Qualifier::Known)
}

impl Item<'_> {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(digits) => super::is_zero(digits),
            Item::Qualifier(q) => *q == Qualifier::Known(RELEASE),
            Item::List(items) => items.is_empty(),
        }
    }

    /// `ComparableVersion`'s `compareTo`, where `None` is the padding of a shorter list.
    fn cmp_to(&self, other: Option<&Item<'_>>) -> Ordering {
        match (self, other) {
            (Item::Int(a), None) => {
                if super::is_zero(a) {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => super::cmp_digits(a, b),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Qualifier(a), None) => a.cmp(&Qualifier::Known(RELEASE)),
            (Item::Qualifier(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Qualifier(a), Some(Item::Qualifier(b))) => a.cmp(b),
            (Item::Qualifier(_), Some(Item::List(_))) => Ordering::Less,
            (Item::List(items), None) => items
                .iter()
                .map(|item| item.cmp_to(None))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Qualifier(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => cmp_lists(a, b),
        }
    }
}

fn cmp_lists(a: &[Item<'_>], b: &[Item<'_>]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let order = match (a.get(i), b.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(r)) => r.cmp_to(None).reverse(),
            (Some(l), r) => l.cmp_to(r),
        };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

/// Drops trailing null items, looking past non-null sub-lists as Maven does.
fn normalize(items: &mut Vec<Item<'_>>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if items[i].is_null() {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

/// Which `ComparableVersion` to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    /// Maven before MNG-7644, the order OSV's Maven ranges and vectors use: a qualifier after
    /// a `.` stays in its list (`1.0.RC1` = `1.0-RC1` only when nothing precedes it there).
    Osv,
    /// Maven 3.8.7 and later (MNG-7644): `.X1` and a trailing `.X` open a sub-list, as `-X` does.
    Mng7644,
}

/// Parses `text` into its item tree, as `ComparableVersion.parseVersion` does.
fn parse(version: &str, flavor: Flavor) -> Result<Vec<Item<'_>>, Invalid> {
    if version.is_empty() {
        return Err(Invalid::new(version, "version string is empty"));
    }
    if version
        .bytes()
        .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(Invalid::new(version, "version string has whitespace"));
    }
    let text = version.as_bytes();
    // The open lists, outermost first; each is the last item of the one before.
    let mut stack: Vec<Vec<Item<'_>>> = vec![Vec::new()];
    fn item(digits: bool, token: &[u8]) -> Item<'_> {
        if digits {
            Item::Int(token)
        } else {
            Item::Qualifier(qualifier(token, false))
        }
    }
    let (mut is_digit, mut start) = (false, 0);
    for (i, &c) in text.iter().enumerate() {
        let list = stack
            .last_mut()
            .expect("the root list is never popped here");
        match c {
            b'.' | b'-' => {
                list.push(if i == start {
                    Item::Int(b"0")
                } else {
                    item(is_digit, &text[start..i])
                });
                start = i + 1;
                if c == b'-' {
                    stack.push(Vec::new());
                }
            }
            b'0'..=b'9' => {
                if !is_digit && i > start {
                    // Maven 3.8.7 (MNG-7644): `1.0.0.X1` < `1.0.0-X2`, `.X` opens a list as `-X`.
                    let opens = flavor == Flavor::Mng7644 && !list.is_empty();
                    let qualifier = Item::Qualifier(qualifier(&text[start..i], true));
                    if opens {
                        stack.push(vec![qualifier]);
                    } else {
                        list.push(qualifier);
                    }
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    list.push(Item::Int(&text[start..i]));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
    }
    if text.len() > start {
        let last = item(is_digit, &text[start..]);
        let list = stack.last_mut().expect("root");
        // A trailing `.X` qualifier opens a list too.
        if flavor == Flavor::Mng7644 && !is_digit && !list.is_empty() {
            stack.push(vec![last]);
        } else {
            list.push(last);
        }
    }
    while stack.len() > 1 {
        let mut list = stack.pop().expect("more than one");
        normalize(&mut list);
        stack.last_mut().expect("parent").push(Item::List(list));
    }
    let mut root = stack.pop().expect("root");
    normalize(&mut root);
    Ok(root)
}

/// Checks that `version` can be read as a Maven version (anything without whitespace).
pub(super) fn check(version: &str) -> Result<(), Invalid> {
    parse(version, Flavor::Osv).map(|_| ())
}

/// Compares two Maven versions as OSV does.
pub(super) fn compare(a: &str, b: &str) -> Result<Ordering, Invalid> {
    compare_as(a, b, Flavor::Osv)
}

/// Compares two Maven versions as `flavor` does.
pub(super) fn compare_as(a: &str, b: &str, flavor: Flavor) -> Result<Ordering, Invalid> {
    // Fast path: dotted numbers are a flat list of numbers with trailing zeros dropped.
    if super::is_plain_release(a) && super::is_plain_release(b) {
        return Ok(super::cmp_plain_releases(a, b));
    }
    Ok(cmp_lists(&parse(a, flavor)?, &parse(b, flavor)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn qualifier_order() {
        let chain = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-xyz",
            "1-1",
        ];
        for pair in chain.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
        assert_eq!(cmp("1-cr", "1-RC"), Ordering::Equal);
        assert_eq!(cmp("1.0.Final", "1"), Ordering::Equal);
        assert_eq!(cmp("1a1", "1-alpha-1"), Ordering::Equal);
    }

    #[test]
    fn padding_and_separators() {
        assert_eq!(cmp("1", "1.0.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.0", "1-0"), Ordering::Equal);
        assert_eq!(cmp("2.0-1", "2.0.1"), Ordering::Less);
        assert_eq!(cmp("2.0.1-xyz", "2.0.1-123"), Ordering::Less);
        assert_eq!(cmp("5.3.18.RELEASE", "5.3.18"), Ordering::Equal);
    }

    #[test]
    fn invalid_versions_are_named() {
        for bad in ["", "1.0 beta"] {
            assert_eq!(check(bad).unwrap_err().version, bad);
        }
    }
}
