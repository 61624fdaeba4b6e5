//! License text as packages write it, normalized to SPDX identifiers and expressions.
//!
//! Order: empty and placeholder values are dropped; a small alias table maps common free-text
//! names ("Apache 2.0", "MIT License", "BSD"); a valid SPDX expression is kept; one the `spdx`
//! crate can canonicalize (lower-case operators, `/` for OR, `GPL-2.0+`, imprecise names) is
//! rewritten; anything else is kept as written, so no information is lost.

use spdx::Expression;

/// Free-text names seen in package metadata, lower-cased, and the SPDX identifier they mean.
const ALIASES: &[(&str, &str)] = &[
    ("apache 2", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"),
    ("apache license 2.0", "Apache-2.0"),
    ("apache license, version 2.0", "Apache-2.0"),
    ("apache license version 2.0", "Apache-2.0"),
    ("apache software license", "Apache-2.0"),
    ("apache software license 2.0", "Apache-2.0"),
    ("the apache software license, version 2.0", "Apache-2.0"),
    ("the apache license, version 2.0", "Apache-2.0"),
    ("asl 2.0", "Apache-2.0"),
    ("asl 2", "Apache-2.0"),
    ("apache software licenses", "Apache-2.0"),
    ("the apache software licenses", "Apache-2.0"),
    ("mit license", "MIT"),
    ("the mit license", "MIT"),
    ("mit/x11", "MIT"),
    ("expat", "MIT"),
    ("expat (mit/x11)", "MIT"),
    ("expat license", "MIT"),
    ("bsd", "BSD-3-Clause"),
    ("bsd license", "BSD-3-Clause"),
    ("new bsd license", "BSD-3-Clause"),
    ("new bsd", "BSD-3-Clause"),
    ("modified bsd license", "BSD-3-Clause"),
    ("3-clause bsd license", "BSD-3-Clause"),
    ("bsd 3-clause", "BSD-3-Clause"),
    ("bsd 3-clause license", "BSD-3-Clause"),
    ("bsd-3-clause license", "BSD-3-Clause"),
    ("bsd 2-clause license", "BSD-2-Clause"),
    ("bsd-3", "BSD-3-Clause"),
    ("simplified bsd", "BSD-2-Clause"),
    ("bsd 2-clause", "BSD-2-Clause"),
    ("2-clause bsd license", "BSD-2-Clause"),
    ("isc license", "ISC"),
    ("isc license (iscl)", "ISC"),
    ("mozilla public license 2.0 (mpl 2.0)", "MPL-2.0"),
    ("mozilla public license 2.0", "MPL-2.0"),
    ("mpl 2.0", "MPL-2.0"),
    ("python software foundation license", "PSF-2.0"),
    ("psf", "PSF-2.0"),
    ("psfl", "PSF-2.0"),
    ("gnu general public license v2 (gplv2)", "GPL-2.0-only"),
    ("gnu general public license v3 (gplv3)", "GPL-3.0-only"),
    (
        "gnu general public license v2 or later (gplv2+)",
        "GPL-2.0-or-later",
    ),
    (
        "gnu general public license v3 or later (gplv3+)",
        "GPL-3.0-or-later",
    ),
    (
        "gnu lesser general public license v2 or later (lgplv2+)",
        "LGPL-2.0-or-later",
    ),
    (
        "gnu lesser general public license v3 (lgplv3)",
        "LGPL-3.0-only",
    ),
    (
        "gnu lesser general public license v3 or later (lgplv3+)",
        "LGPL-3.0-or-later",
    ),
    (
        "gnu library or lesser general public license (lgpl)",
        "LGPL-2.0-or-later",
    ),
    ("lgpl", "LGPL-2.0-or-later"),
    ("lgpl v3", "LGPL-3.0-only"),
    ("lgplv3", "LGPL-3.0-only"),
    ("lgpl v2.1", "LGPL-2.1-only"),
    ("gpl", "GPL-2.0-or-later"),
    ("eclipse public license 1.0", "EPL-1.0"),
    ("eclipse public license - v 1.0", "EPL-1.0"),
    ("eclipse public license v2.0", "EPL-2.0"),
    ("eclipse public license - v 2.0", "EPL-2.0"),
    (
        "cddl + gplv2 with classpath exception",
        "CDDL-1.0 OR GPL-2.0-only WITH Classpath-exception-2.0",
    ),
    ("the unlicense", "Unlicense"),
    ("unlicense", "Unlicense"),
    ("public domain", "LicenseRef-Public-Domain"),
    ("zlib/libpng", "Zlib"),
    ("ruby", "Ruby"),
    ("artistic", "Artistic-1.0-Perl"),
];

/// License URLs (as Java manifests and POMs give them), by a distinctive part, and their id.
const URLS: &[(&str, &str)] = &[
    ("apache.org/licenses/license-2.0", "Apache-2.0"),
    ("opensource.org/licenses/mit", "MIT"),
    ("opensource.org/licenses/apache-2.0", "Apache-2.0"),
    ("opensource.org/licenses/bsd-3-clause", "BSD-3-Clause"),
    ("opensource.org/licenses/bsd-2-clause", "BSD-2-Clause"),
    ("creativecommons.org/publicdomain/zero/1.0", "CC0-1.0"),
    ("eclipse.org/legal/epl-v10", "EPL-1.0"),
    ("eclipse.org/legal/epl-2.0", "EPL-2.0"),
    ("eclipse.org/org/documents/edl-v10", "BSD-3-Clause"),
    ("gnu.org/licenses/lgpl-2.1", "LGPL-2.1-only"),
    ("gnu.org/licenses/old-licenses/lgpl-2.1", "LGPL-2.1-only"),
    ("gnu.org/licenses/gpl-2.0", "GPL-2.0-only"),
    ("gnu.org/licenses/old-licenses/gpl-2.0", "GPL-2.0-only"),
    ("mozilla.org/mpl/2.0", "MPL-2.0"),
];

/// Values that mean "no license given".
const PLACEHOLDERS: &[&str] = &[
    "unknown",
    "none",
    "n/a",
    "unlicensed",
    "see license",
    "other",
];

/// The SPDX form of one license text, or `None` when it says nothing.
pub fn normalize(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches(';').trim();
    if text.is_empty() || PLACEHOLDERS.iter().any(|p| text.eq_ignore_ascii_case(p)) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let unquoted = lower.trim_end_matches('.');
    if let Some((_, id)) = ALIASES.iter().find(|(alias, _)| *alias == unquoted) {
        return Some((*id).to_owned());
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(
            URLS.iter()
                .find(|(part, _)| lower.contains(part))
                .map_or_else(|| text.to_owned(), |(_, id)| (*id).to_owned()),
        );
    }
    // Long prose (a whole license text pasted into a field) is no identifier.
    if text.len() > 200 || text.contains('\n') {
        return Some(text.to_owned());
    }
    if let Ok(Some(canonical)) = Expression::canonicalize(text)
        && Expression::parse(&canonical).is_ok()
    {
        return Some(canonical);
    }
    if Expression::parse(text).is_ok() {
        return Some(text.to_owned());
    }
    if let Some(id) = spdx::license_id(text) {
        return Some(id.name.to_owned());
    }
    // Case-insensitive match of a bare identifier ("mit", "apache-2.0").
    if let Some(id) = case_insensitive_id(text) {
        return Some(id.to_owned());
    }
    Some(text.to_owned())
}

/// Normalizes a Python trove classifier such as `License :: OSI Approved :: MIT License`.
pub fn from_classifier(classifier: &str) -> Option<String> {
    let rest = classifier.trim().strip_prefix("License ::")?;
    let last = rest.rsplit("::").next()?.trim();
    if last.eq_ignore_ascii_case("OSI Approved") {
        return None;
    }
    normalize(last)
}

/// An SPDX identifier whose short or full name matches `text` ignoring case.
fn case_insensitive_id(text: &str) -> Option<&'static str> {
    // The SPDX list is sorted case-sensitively; a linear scan over ~700 names is cheap here.
    spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(text) || l.full_name.eq_ignore_ascii_case(text))
        .map(|l| l.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, Option<&str>)]) {
        for (input, want) in cases {
            assert_eq!(normalize(input).as_deref(), *want, "input {input:?}");
        }
    }

    #[test]
    fn normalizes_common_names_and_expressions() {
        check(&[
            ("MIT", Some("MIT")),
            ("MIT License", Some("MIT")),
            ("Apache 2.0", Some("Apache-2.0")),
            ("Apache License, Version 2.0", Some("Apache-2.0")),
            ("BSD", Some("BSD-3-Clause")),
            ("mit", Some("MIT")),
            ("apache-2.0", Some("Apache-2.0")),
            ("MIT OR Apache-2.0", Some("MIT OR Apache-2.0")),
            ("MIT/Apache-2.0", Some("MIT OR Apache-2.0")),
            ("(MIT or Apache-2.0)", Some("(MIT OR Apache-2.0)")),
            ("GPL-2.0+", Some("GPL-2.0-or-later")),
            ("UNKNOWN", None),
            ("", None),
            ("  ", None),
            ("Some Custom License", Some("Some Custom License")),
            ("BSD 3-Clause License", Some("BSD-3-Clause")),
            ("Expat (MIT/X11)", Some("MIT")),
            ("Dual License", Some("Dual License")),
            (
                "http://www.apache.org/licenses/LICENSE-2.0.txt",
                Some("Apache-2.0"),
            ),
            (
                "https://example.org/my-license",
                Some("https://example.org/my-license"),
            ),
        ]);
    }

    #[test]
    fn reads_trove_classifiers() {
        assert_eq!(
            from_classifier("License :: OSI Approved :: MIT License").as_deref(),
            Some("MIT")
        );
        assert_eq!(
            from_classifier("License :: OSI Approved :: Python Software Foundation License")
                .as_deref(),
            Some("PSF-2.0")
        );
        assert_eq!(from_classifier("License :: OSI Approved"), None);
        assert_eq!(from_classifier("Programming Language :: Python"), None);
    }
}
