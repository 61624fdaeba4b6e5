//! A table for people: NAME, VERSION, TYPE, sorted and aligned, without colour.

use super::{Sbom, SbomFormat};
use std::borrow::Cow;

/// The text with control characters escaped: names come from strangers' images, and an escape
/// sequence printed to a terminal could rewrite what the user sees.
fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `--format table`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Table;

impl SbomFormat for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    // Written by hand: three left-aligned columns need no table crate.
    fn render(&self, sbom: &Sbom, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if sbom.packages.is_empty() {
            return writeln!(out, "No packages found.");
        }
        let mut rows: Vec<[Cow<'_, str>; 3]> = sbom
            .packages
            .iter()
            .map(|p| {
                [
                    printable(&p.name),
                    printable(&p.version),
                    p.kind.as_str().into(),
                ]
            })
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let header: [Cow<'_, str>; 3] = ["NAME".into(), "VERSION".into(), "TYPE".into()];
        let mut widths = header.each_ref().map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            writeln!(
                out,
                "{:<w0$}  {:<w1$}  {}",
                row[0],
                row[1],
                row[2],
                w0 = widths[0],
                w1 = widths[1]
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_core::{Package, PackageType};

    fn package(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind: PackageType::Deb,
            arch: None,
            source_name: None,
            source_version: None,
            licenses: vec![],
            purl: String::new(),
            cpes: vec![],
            locations: vec![],
            found_by: "dpkg".into(),
            metadata: Default::default(),
        }
    }

    #[test]
    fn control_characters_are_escaped_and_columns_stay_aligned() {
        let sbom = Sbom {
            packages: vec![package("evil\u{1b}[2J", "1\n2"), package("ok", "1")],
            ..Default::default()
        };
        let mut out = Vec::new();
        Table.render(&sbom, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert_eq!(
            text,
            "NAME           VERSION  TYPE\n\
             evil\\u{1b}[2J  1\\n2     deb\n\
             ok             1        deb\n"
        );
    }
}
