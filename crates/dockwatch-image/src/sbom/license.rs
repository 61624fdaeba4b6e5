//! Tells SPDX license identifiers, SPDX expressions and free-text license names apart, since
//! CycloneDX and SPDX write each differently.

/// One license string of a package, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License<'a> {
    /// An identifier on the SPDX license list (`MIT`, `GPL-2.0-only`).
    Id(&'a str),
    /// A valid SPDX expression that is not a single listed id (`MIT OR Apache-2.0`, `GPL-2.0+`,
    /// `LicenseRef-x`).
    Expression(&'a str),
    /// Anything else, as the package database wrote it (`GPL`, `BSD-like`, `Artistic`).
    Name(&'a str),
}

impl<'a> License<'a> {
    /// Classifies `text` (trimmed).
    pub(crate) fn classify(text: &'a str) -> Self {
        let text = text.trim();
        // `license_id` ignores a trailing `+`; an id with `+` is an expression (`GPL-2.0+`).
        if !text.ends_with('+') && spdx::license_id(text).is_some_and(|id| id.name == text) {
            return Self::Id(text);
        }
        let mode = spdx::ParseMode {
            allow_deprecated: true,
            // `GPL-2.0+` is how the deprecated GNU ids are written.
            allow_postfix_plus_on_gpl: true,
            ..spdx::ParseMode::STRICT
        };
        if spdx::Expression::parse_mode(text, mode).is_ok() {
            Self::Expression(text)
        } else {
            Self::Name(text)
        }
    }

    /// The text as written.
    pub(crate) fn text(&self) -> &'a str {
        match self {
            Self::Id(t) | Self::Expression(t) | Self::Name(t) => t,
        }
    }
}

/// The licenses worth writing: trimmed, without empty entries and SPDX's "no information"
/// words, which are not licenses.
pub(crate) fn classify_all(texts: &[String]) -> Vec<License<'_>> {
    texts
        .iter()
        .map(|t| License::classify(t))
        .filter(|l| !matches!(l.text(), "" | "NOASSERTION" | "NONE"))
        .collect()
}

/// The license ids CycloneDX 1.6 accepts in `license.id`: its schema's enum, which can lag the
/// SPDX list the `spdx` crate knows. Ids outside it are written as expressions.
pub(crate) fn is_cyclonedx_license_id(id: &str) -> bool {
    static IDS: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../testdata/schemas/spdx.schema.json"))
                .unwrap_or_default();
        schema["enum"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    })
    .contains(id)
}

/// Whether `expression` needs parentheses to be one operand of `AND`.
pub(crate) fn needs_parentheses(expression: &str) -> bool {
    let upper = expression.to_ascii_uppercase();
    upper.contains(" OR ") || upper.contains(" AND ") || upper.contains(" WITH ")
}

/// Splits an SPDX expression at its top-level `AND`s, dropping one pair of parentheses around
/// each operand: the inverse of joining a package's licenses with `AND`.
pub(crate) fn split_top_level_and(expression: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let tokens: Vec<&str> = expression.split_whitespace().collect();
    for token in tokens {
        if depth == 0 && token.eq_ignore_ascii_case("AND") {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        depth += token.matches('(').count() as i32 - token.matches(')').count() as i32;
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(token);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| strip_outer_parentheses(&p).to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// `(a OR b)` → `a OR b`, only when the parentheses enclose the whole text.
fn strip_outer_parentheses(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return text;
                }
            }
            _ => {}
        }
    }
    if depth == 0 { inner } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_expressions_and_names_are_told_apart() {
        assert_eq!(License::classify("MIT"), License::Id("MIT"));
        assert_eq!(
            License::classify(" GPL-2.0-only "),
            License::Id("GPL-2.0-only")
        );
        assert_eq!(License::classify("GPL-2.0"), License::Id("GPL-2.0"));
        assert_eq!(
            License::classify("MIT OR Apache-2.0"),
            License::Expression("MIT OR Apache-2.0")
        );
        assert_eq!(
            License::classify("GPL-2.0+"),
            License::Expression("GPL-2.0+")
        );
        assert_eq!(
            License::classify("LicenseRef-custom"),
            License::Expression("LicenseRef-custom")
        );
        assert_eq!(License::classify("mit"), License::Name("mit"));
        assert_eq!(License::classify("BSD-like"), License::Name("BSD-like"));
        assert_eq!(License::classify("GPL v2"), License::Name("GPL v2"));
        assert_eq!(License::classify("Artistic"), License::Name("Artistic"));
    }

    #[test]
    fn cyclonedx_ids_come_from_its_schema() {
        assert!(is_cyclonedx_license_id("MIT"));
        assert!(is_cyclonedx_license_id("GPL-2.0-or-later"));
        assert!(!is_cyclonedx_license_id("NOASSERTION"));
        assert!(!is_cyclonedx_license_id("mit"));
    }

    #[test]
    fn no_information_is_not_a_license() {
        let texts = [
            "NOASSERTION".to_string(),
            " ".into(),
            "NONE".into(),
            "MIT".into(),
        ];
        assert_eq!(classify_all(&texts), vec![License::Id("MIT")]);
    }

    #[test]
    fn top_level_and_splits_but_nested_and_does_not() {
        assert_eq!(
            split_top_level_and("MIT AND (Apache-2.0 OR BSD-3-Clause) AND (A AND B)"),
            vec!["MIT", "Apache-2.0 OR BSD-3-Clause", "A AND B"]
        );
        assert_eq!(split_top_level_and("(MIT) OR (X)"), vec!["(MIT) OR (X)"]);
    }
}
