//! A table for people: NAME, VERSION, TYPE, sorted and aligned, without colour.

use super::{Sbom, SbomFormat};

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
        let mut rows: Vec<[&str; 3]> = sbom
            .packages
            .iter()
            .map(|p| [p.name.as_str(), p.version.as_str(), p.kind.as_str()])
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let header = ["NAME", "VERSION", "TYPE"];
        let mut widths = header.map(|h| h.chars().count());
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
