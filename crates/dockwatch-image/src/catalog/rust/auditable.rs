//! The dependency list cargo-auditable embeds in a binary: zlib-compressed JSON in a section
//! named `.dep-v0` (ELF, PE) or `__dep_v0` (Mach-O).

use serde::Deserialize;

/// One crate of the list.
#[derive(Debug, Deserialize)]
pub(super) struct Crate {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry`...
    #[serde(default)]
    pub source: String,
    /// `runtime` (the default, often omitted) or `build`.
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DepList {
    packages: Vec<Crate>,
}

/// The crates listed in executable `contents` (whole, or as summarized while streaming);
/// `Ok(None)` when it has no list.
pub(super) fn read(contents: &[u8]) -> Result<Option<Vec<Crate>>, String> {
    let Some(json) = super::super::executable::dependency_list(contents) else {
        return Ok(None);
    };
    let list: DepList = serde_json::from_slice(&json?).map_err(|e| e.to_string())?;
    Ok(Some(list.packages))
}

#[cfg(test)]
pub(crate) mod tests {
    /// zlib-compresses `data` as cargo-auditable does.
    pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }
}
