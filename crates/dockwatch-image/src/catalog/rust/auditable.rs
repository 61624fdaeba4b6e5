//! The dependency list cargo-auditable embeds in a binary: zlib-compressed JSON in a section
//! named `.dep-v0` (ELF, PE) or `__dep_v0` (Mach-O).

use serde::Deserialize;

/// The most the dependency list may inflate to (real lists are a few KiB to a few hundred).
const MAX_JSON: usize = 8 << 20;

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

/// The crates listed in executable `data`; `Ok(None)` when it has no list.
pub(super) fn read(data: &[u8]) -> Result<Option<Vec<Crate>>, String> {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(data) else {
        return Ok(None); // not an executable object parses: nothing to read
    };
    let Some(section) = file
        .sections()
        .find(|s| matches!(s.name(), Ok(".dep-v0" | "__dep_v0")))
    else {
        return Ok(None);
    };
    let compressed = section.data().map_err(|e| e.to_string())?;
    let json = super::langpkg::read_bounded(flate2::read::ZlibDecoder::new(compressed), MAX_JSON)
        .map_err(|e| format!("inflating .dep-v0: {e}"))?;
    let list: DepList = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
    Ok(Some(list.packages))
}

#[cfg(test)]
pub(super) mod tests {
    /// zlib-compresses `data` as cargo-auditable does.
    pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }
}
