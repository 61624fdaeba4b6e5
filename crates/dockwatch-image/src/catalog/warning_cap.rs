//! Keeps a hostile file from flooding the output with warnings: each file gets a few, then one
//! line saying how many more were dropped.

use super::{CatalogOutput, Warning};

/// How many warnings one database file may add.
pub(crate) const MAX_PER_FILE: usize = 20;

/// Caps the warnings added since index `start` (all about `path`) at [`MAX_PER_FILE`].
pub(crate) fn cap_since(out: &mut CatalogOutput, start: usize, path: &str) {
    let added = out.warnings.len().saturating_sub(start);
    if added <= MAX_PER_FILE {
        return;
    }
    out.warnings.truncate(start + MAX_PER_FILE);
    out.warnings.push(Warning {
        path: path.to_owned(),
        message: format!("{} more warnings like these", added - MAX_PER_FILE),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_only_the_new_warnings() {
        let w = |m: &str| Warning {
            path: "/x".into(),
            message: m.into(),
        };
        let mut out = CatalogOutput::default();
        out.warnings.push(w("earlier"));
        for i in 0..100 {
            out.warnings.push(w(&i.to_string()));
        }
        cap_since(&mut out, 1, "/x");
        assert_eq!(out.warnings.len(), 1 + MAX_PER_FILE + 1);
        assert_eq!(out.warnings[0].message, "earlier");
        assert_eq!(
            out.warnings.last().unwrap().message,
            "80 more warnings like these"
        );
        let mut few = CatalogOutput::default();
        few.warnings.push(w("one"));
        cap_since(&mut few, 0, "/x");
        assert_eq!(few.warnings.len(), 1);
    }
}
