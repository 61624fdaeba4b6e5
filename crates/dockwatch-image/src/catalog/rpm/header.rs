//! The rpm header blob, as every rpmdb format stores one per package: an index of
//! (tag, type, offset, count) entries followed by a data store, all big-endian.
//!
//! Read by hand because the header is the payload of all three database formats we read by hand
//! (see `rpm/mod.rs`); every offset and count is checked against the blob before use.

use super::Malformed;

/// rpm's own limits (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX`): larger values are corruption.
const MAX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 0x0fff_ffff;

/// Tags we read (rpmtag.h).
pub mod tag {
    /// `NAME`.
    pub const NAME: u32 = 1000;
    /// `VERSION`.
    pub const VERSION: u32 = 1001;
    /// `RELEASE`.
    pub const RELEASE: u32 = 1002;
    /// `EPOCH`.
    pub const EPOCH: u32 = 1003;
    /// `SIZE` (installed size in bytes).
    pub const SIZE: u32 = 1009;
    /// `VENDOR`.
    pub const VENDOR: u32 = 1011;
    /// `LICENSE`.
    pub const LICENSE: u32 = 1014;
    /// `PACKAGER`.
    pub const PACKAGER: u32 = 1015;
    /// `ARCH`.
    pub const ARCH: u32 = 1022;
    /// `SOURCERPM`.
    pub const SOURCERPM: u32 = 1044;
    /// `BASENAMES` (only counted).
    pub const BASENAMES: u32 = 1117;
    /// `MODULARITYLABEL`.
    pub const MODULARITYLABEL: u32 = 5096;
}

/// Entry data types (rpmtag.h `rpmTagType`).
mod kind {
    pub const INT8: u32 = 2;
    pub const INT16: u32 = 3;
    pub const INT32: u32 = 4;
    pub const INT64: u32 = 5;
    pub const STRING: u32 = 6;
    pub const STRING_ARRAY: u32 = 8;
    pub const I18NSTRING: u32 = 9;
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: its index and a view of its data store.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Parses a header blob; fails if its index or data store do not fit in `blob`.
    pub fn parse(blob: &'a [u8]) -> Result<Self, Malformed> {
        let too_short = || Malformed(format!("header blob of {} bytes is truncated", blob.len()));
        let il = be32(blob, 0).ok_or_else(too_short)? as usize;
        let dl = be32(blob, 4).ok_or_else(too_short)? as usize;
        if il == 0 || il > MAX_ENTRIES || dl > MAX_DATA {
            return Err(Malformed(format!(
                "header claims {il} entries and {dl} data bytes"
            )));
        }
        let data_start = 8 + il * 16;
        let data = blob
            .get(data_start..data_start + dl)
            .ok_or_else(too_short)?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let (tag, kind, offset, count) = (
                be32(blob, at).ok_or_else(too_short)?,
                be32(blob, at + 4).ok_or_else(too_short)?,
                be32(blob, at + 8).ok_or_else(too_short)? as usize,
                be32(blob, at + 12).ok_or_else(too_short)? as usize,
            );
            entries.push(Entry {
                tag,
                kind,
                offset,
                count,
            });
        }
        Ok(Self { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// The strings of a STRING, STRING_ARRAY or I18NSTRING entry (at most `count`, each ending
    /// at a NUL inside the data store).
    pub fn strings(&self, tag: u32) -> Vec<String> {
        let Some(e) = self.entry(tag) else {
            return Vec::new();
        };
        let count = match e.kind {
            kind::STRING => 1,
            kind::STRING_ARRAY | kind::I18NSTRING => e.count,
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        let mut at = e.offset;
        for _ in 0..count {
            let Some(rest) = self.data.get(at..) else {
                break;
            };
            let Some(len) = rest.iter().position(|&b| b == 0) else {
                break;
            };
            out.push(String::from_utf8_lossy(&rest[..len]).into_owned());
            at += len + 1;
        }
        out
    }

    /// The first string of a string entry.
    pub fn string(&self, tag: u32) -> Option<String> {
        self.strings(tag).into_iter().next()
    }

    /// The first value of an integer entry.
    pub fn int(&self, tag: u32) -> Option<i64> {
        let e = self.entry(tag)?;
        if e.count == 0 {
            return None;
        }
        let d = self.data;
        let at = e.offset;
        Some(match e.kind {
            kind::INT8 => i64::from(*d.get(at)?),
            kind::INT16 => {
                let s = d.get(at..at + 2)?;
                i64::from(u16::from_be_bytes([s[0], s[1]]))
            }
            kind::INT32 => i64::from(be32(d, at)?),
            kind::INT64 => {
                let s = d.get(at..at + 8)?;
                i64::from_be_bytes(s.try_into().ok()?)
            }
            _ => return None,
        })
    }

    /// How many values an entry holds (0 when absent).
    pub fn count(&self, tag: u32) -> usize {
        self.entry(tag).map_or(0, |e| e.count)
    }
}

/// The fields of one installed rpm that a package needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmInfo {
    /// `NAME`.
    pub name: String,
    /// `EPOCH`, when the tag is present (even when 0).
    pub epoch: Option<i64>,
    /// `VERSION`.
    pub version: String,
    /// `RELEASE`.
    pub release: String,
    /// `ARCH` (absent for `gpg-pubkey`).
    pub arch: Option<String>,
    /// `SOURCERPM`, e.g. `bash-5.1.8-6.el9.src.rpm`.
    pub source_rpm: Option<String>,
    /// `LICENSE`.
    pub license: Option<String>,
    /// `VENDOR`.
    pub vendor: Option<String>,
    /// `PACKAGER`.
    pub packager: Option<String>,
    /// `SIZE`.
    pub size: Option<i64>,
    /// `MODULARITYLABEL`.
    pub modularity_label: Option<String>,
    /// How many files the package owns.
    pub file_count: usize,
}

impl RpmInfo {
    /// Reads the fields from a header blob; fails on a malformed blob or one without a name.
    pub fn from_blob(blob: &[u8]) -> Result<Self, Malformed> {
        let h = Header::parse(blob)?;
        let name = h
            .string(tag::NAME)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Malformed("header has no NAME".into()))?;
        let non_empty = |t| h.string(t).filter(|s: &String| !s.is_empty());
        Ok(Self {
            name,
            epoch: h.int(tag::EPOCH),
            version: h.string(tag::VERSION).unwrap_or_default(),
            release: h.string(tag::RELEASE).unwrap_or_default(),
            arch: non_empty(tag::ARCH),
            source_rpm: non_empty(tag::SOURCERPM),
            license: non_empty(tag::LICENSE),
            vendor: non_empty(tag::VENDOR),
            packager: non_empty(tag::PACKAGER),
            size: h.int(tag::SIZE),
            modularity_label: non_empty(tag::MODULARITYLABEL),
            file_count: h.count(tag::BASENAMES),
        })
    }

    /// `version-release`.
    pub fn version_release(&self) -> String {
        if self.release.is_empty() {
            self.version.clone()
        } else {
            format!("{}-{}", self.version, self.release)
        }
    }

    /// `epoch:version-release` when the epoch tag is present, as Syft writes it.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}", self.version_release()),
            None => self.version_release(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(name: &str) -> Vec<u8> {
        std::fs::read(dockwatch_testdata::fixture(name)).unwrap()
    }

    #[test]
    fn reads_peer_header_blobs() {
        let info = RpmInfo::from_blob(&blob("go-rpmdb/os-pkgdb/pkg/testdata/blob.bin")).unwrap();
        assert!(!info.name.is_empty());
        assert!(!info.version.is_empty());
        let claircore = RpmInfo::from_blob(&blob(
            "claircore/os-pkgdb/internal/rpm/rpmdb/testdata/package.header",
        ))
        .unwrap();
        assert!(!claircore.name.is_empty());
        assert!(claircore.source_rpm.unwrap().ends_with(".src.rpm"));
    }

    #[test]
    fn truncated_and_corrupted_blobs_fail_cleanly() {
        let full = blob("go-rpmdb/os-pkgdb/pkg/testdata/blob.bin");
        for cut in 0..full.len() {
            assert!(RpmInfo::from_blob(&full[..cut]).is_err(), "cut at {cut}");
        }
        // Flip bytes all over the index and data: never a panic.
        for i in (0..full.len()).step_by(7) {
            let mut bad = full.clone();
            bad[i] ^= 0xff;
            let _ = RpmInfo::from_blob(&bad);
        }
        assert!(RpmInfo::from_blob(&[0xff; 64]).is_err());
    }

    #[test]
    fn evr_as_syft_writes_it() {
        let mut i = RpmInfo {
            name: "bash".into(),
            version: "5.1.8".into(),
            release: "6.el9".into(),
            ..RpmInfo::default()
        };
        assert_eq!(i.evr(), "5.1.8-6.el9");
        i.epoch = Some(0);
        assert_eq!(i.evr(), "0:5.1.8-6.el9");
    }
}
