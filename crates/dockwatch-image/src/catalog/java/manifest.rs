//! The small text formats inside a Java archive: `MANIFEST.MF` (RFC 822 style with 72-byte
//! continuation lines), `pom.properties` (`key=value`) and the `<licenses>` of a `pom.xml`.

use std::collections::BTreeMap;

/// The main section of a manifest: attributes up to the first blank line, continuations joined.
pub(super) fn manifest(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(value) = last.as_ref().and_then(|k| out.get_mut(k)) {
                let value: &mut String = value;
                value.push_str(cont);
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let key = key.trim().to_owned();
            out.insert(key.clone(), value.trim().to_owned());
            last = Some(key);
        }
    }
    out
}

/// `key=value` (or `key: value`) lines of a Java properties file; `#` and `!` start comments.
pub(super) fn properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['#', '!']))
        .filter_map(|l| {
            let i = l.find(['=', ':'])?;
            Some((l[..i].trim().to_owned(), l[i + 1..].trim().to_owned()))
        })
        .collect()
}

/// The `<name>` of each `<license>` in a POM's `<licenses>` (a plain scan: a POM is XML, but this
/// one list needs no parser).
pub(super) fn pom_licenses(text: &str) -> Vec<String> {
    let Some(start) = text.find("<licenses>") else {
        return Vec::new();
    };
    let end = text[start..]
        .find("</licenses>")
        .map_or(text.len(), |e| start + e);
    let mut out = Vec::new();
    let mut rest = &text[start..end];
    while let Some(i) = rest.find("<name>") {
        rest = &rest[i + "<name>".len()..];
        let Some(j) = rest.find("</name>") else { break };
        let name = rest[..j].trim();
        if !name.is_empty() {
            out.push(name.to_owned());
        }
        rest = &rest[j..];
    }
    out
}

/// Splits a file stem like `commons-lang3-3.11` at the first `-` followed by a digit.
pub(super) fn name_and_version(stem: &str) -> (&str, Option<&str>) {
    let bytes = stem.as_bytes();
    for i in 0..bytes.len().saturating_sub(1) {
        if bytes[i] == b'-' && bytes[i + 1].is_ascii_digit() {
            return (&stem[..i], Some(&stem[i + 1..]));
        }
    }
    (stem, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_join_continuations() {
        let m = manifest(
            "Manifest-Version: 1.0\r\nBundle-Description: a long\r\n  text\r\nImplementation-Version: 2.1.9\r\n\r\nName: other\r\n",
        );
        assert_eq!(m["Bundle-Description"], "a long text");
        assert_eq!(m["Implementation-Version"], "2.1.9");
        assert!(!m.contains_key("Name"));
    }

    #[test]
    fn file_names_and_poms() {
        assert_eq!(
            name_and_version("commons-lang3-3.11"),
            ("commons-lang3", Some("3.11"))
        );
        assert_eq!(name_and_version("jbcrypt-0.3m"), ("jbcrypt", Some("0.3m")));
        assert_eq!(name_and_version("app"), ("app", None));
        let pom = "<project><licenses><license><name>Apache License, Version 2.0</name></license><license><name>MIT</name></license></licenses><name>x</name></project>";
        assert_eq!(pom_licenses(pom), ["Apache License, Version 2.0", "MIT"]);
        let p = properties("#c\ngroupId=g\nartifactId = a\nversion=1.0\n");
        assert_eq!(p["artifactId"], "a");
    }
}
