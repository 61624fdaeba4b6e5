//! The BerkeleyDB rpmdb (`Packages`, rpm < 4.16: RHEL/CentOS ≤ 8, Amazon Linux 2, older SUSE): a
//! BerkeleyDB hash database whose values are header blobs.
//!
//! Read-only, by hand: no maintained Rust crate reads BerkeleyDB files (the one rpmdb crate is a
//! single 2023 release that opens paths and pins an older libsqlite3-sys). We read the metadata
//! page for byte order, page size and last page, then every hash page's values: inline
//! (`H_KEYDATA`) or off-page (`H_OFFPAGE`, a chain of overflow pages). Layout from BerkeleyDB's
//! `db_page.h`; both byte orders and checksummed pages (the checksum is not verified) are read,
//! encrypted databases are refused.

use super::{Budget, Malformed};

const HASH_MAGIC: u32 = 0x0006_1561;
/// Page header size (`SIZEOF_PAGE`).
const PAGE_HEADER: usize = 26;
/// What a checksummed database adds after each page header (`PG_CHKSUM`: 2 unused + 4 bytes).
const CHECKSUM_LEN: usize = 6;
/// Metadata flag: pages carry a checksum (`DBMETA_CHKSUM`).
const DBMETA_CHKSUM: u8 = 0x01;
/// Page types (`P_*`).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
/// Item types on hash pages (`H_*`).
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// A value larger than this is not an rpm header.
const MAX_VALUE: usize = 256 * 1024 * 1024;

/// Whether `db` starts like a BerkeleyDB hash database (either byte order).
pub fn is_bdb_hash(db: &[u8]) -> bool {
    db.get(12..16).is_some_and(|m| {
        let m = [m[0], m[1], m[2], m[3]];
        u32::from_le_bytes(m) == HASH_MAGIC || u32::from_be_bytes(m) == HASH_MAGIC
    })
}

struct Db<'a> {
    bytes: &'a [u8],
    big_endian: bool,
    page_size: usize,
    last_page: usize,
    /// Where a page's index array (hash pages) or data (overflow pages) starts.
    overhead: usize,
}

impl<'a> Db<'a> {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at + 4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at + 2)?;
        Some(if self.big_endian {
            u16::from_be_bytes([s[0], s[1]])
        } else {
            u16::from_le_bytes([s[0], s[1]])
        })
    }

    fn page(&self, n: usize) -> Result<&'a [u8], Malformed> {
        let start = n
            .checked_mul(self.page_size)
            .ok_or_else(|| Malformed(format!("page {n} overflows")))?;
        self.bytes
            .get(start..start + self.page_size)
            .ok_or_else(|| Malformed(format!("page {n} is outside the file (truncated?)")))
    }
}

/// Every header blob in the database, in page order. Values that cannot be read are reported in
/// the second list and skipped.
pub fn read_blobs(bytes: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<String>), Malformed> {
    let magic = bytes
        .get(12..16)
        .ok_or_else(|| Malformed("file is too short for a BerkeleyDB metadata page".into()))?;
    let magic = [magic[0], magic[1], magic[2], magic[3]];
    let big_endian = if u32::from_le_bytes(magic) == HASH_MAGIC {
        false
    } else if u32::from_be_bytes(magic) == HASH_MAGIC {
        true
    } else {
        return Err(Malformed("not a BerkeleyDB hash database".into()));
    };
    let mut db = Db {
        bytes,
        big_endian,
        page_size: 0,
        last_page: 0,
        overhead: PAGE_HEADER,
    };
    if bytes.get(26).is_some_and(|f| f & DBMETA_CHKSUM != 0) {
        db.overhead += CHECKSUM_LEN;
    }
    let page_size = db.u32_at(bytes, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(Malformed(format!("invalid page size {page_size}")));
    }
    if bytes.get(24).copied().unwrap_or(0) != 0 {
        return Err(Malformed(
            "encrypted BerkeleyDB databases are not read".into(),
        ));
    }
    db.page_size = page_size;
    let last_page = db.u32_at(bytes, 32).unwrap_or(0) as usize;
    // A truncated file still gives what its whole pages hold.
    db.last_page = last_page.min((bytes.len() / page_size).saturating_sub(1));
    let mut blobs = Vec::new();
    let mut problems = Vec::new();
    let mut budget = Budget::for_file(bytes.len());
    'pages: for n in 1..=db.last_page {
        let Ok(page) = db.page(n) else {
            break;
        };
        if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(db.u16_at(page, 20).unwrap_or(0));
        let max_entries = (page_size - db.overhead) / 2;
        if entries > max_entries {
            problems.push(format!("page {n}: {entries} entries do not fit"));
            continue;
        }
        let offset = |i: usize| db.u16_at(page, db.overhead + 2 * i).map(usize::from);
        // Items alternate key, value; values are the odd ones.
        for i in (1..entries).step_by(2) {
            let (Some(at), Some(key_at)) = (offset(i), offset(i - 1)) else {
                problems.push(format!("page {n}: item {i} index is truncated"));
                continue;
            };
            match value(&db, page, at, key_at, &mut budget) {
                Ok(Some(v)) => blobs.push(v),
                Err(e) if e.0.contains("loop") => {
                    problems.push(format!("page {n} item {i}: {}", e.0));
                    break 'pages;
                }
                Ok(None) => {}
                Err(e) => problems.push(format!("page {n} item {i}: {}", e.0)),
            }
        }
    }
    Ok((blobs, problems))
}

/// The value item at offset `at` (its key item is at `key_at`, just above it on the page).
fn value(
    db: &Db<'_>,
    page: &[u8],
    at: usize,
    key_at: usize,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, Malformed> {
    let kind = *page
        .get(at)
        .ok_or_else(|| Malformed(format!("item offset {at} is outside the page")))?;
    match kind {
        H_KEYDATA => {
            if key_at <= at || key_at > page.len() {
                return Err(Malformed(format!("inline item at {at} has no length")));
            }
            let data = &page[at + 1..key_at];
            budget.take(data.len())?;
            // rpm keeps a 4-byte counter under key 0; anything that short is not a header.
            Ok((data.len() >= 16).then(|| data.to_vec()))
        }
        H_OFFPAGE => {
            let first = db
                .u32_at(page, at + 4)
                .ok_or_else(|| Malformed("off-page item is truncated".into()))?
                as usize;
            let total = db
                .u32_at(page, at + 8)
                .ok_or_else(|| Malformed("off-page item is truncated".into()))?
                as usize;
            if total > MAX_VALUE || total > db.bytes.len() {
                return Err(Malformed(format!("off-page value claims {total} bytes")));
            }
            budget.take(total)?;
            let mut out = Vec::with_capacity(total);
            let mut next = first;
            let mut hops = 0;
            while out.len() < total {
                hops += 1;
                if next == 0 || hops > db.last_page + 1 {
                    return Err(Malformed(format!(
                        "overflow chain ends after {} of {total} bytes",
                        out.len()
                    )));
                }
                let ov = db.page(next)?;
                if ov[25] != P_OVERFLOW {
                    return Err(Malformed(format!("page {next} is not an overflow page")));
                }
                let len = usize::from(db.u16_at(ov, 22).unwrap_or(0));
                let chunk = ov
                    .get(db.overhead..db.overhead + len)
                    .ok_or_else(|| Malformed(format!("overflow page {next} claims {len} bytes")))?;
                out.extend_from_slice(&chunk[..chunk.len().min(total - out.len())]);
                next = db.u32_at(ov, 16).unwrap_or(0) as usize;
            }
            Ok(Some(out))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::rpm::header::RpmInfo;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/catalog/rpm/bdb");
        std::fs::read(dir.join(name)).unwrap()
    }

    /// `rpm -qa` (bdb_ro backend) over the same file, written by `make.sh`.
    fn reference(name: &str) -> Vec<String> {
        let text = String::from_utf8(fixture(&format!("{name}.ref.tsv"))).unwrap();
        let mut rows: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').take(4).collect::<Vec<_>>().join("\t"))
            .collect();
        rows.sort();
        rows
    }

    fn listing(db: &[u8]) -> Vec<String> {
        let (blobs, problems) = read_blobs(db).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let mut rows: Vec<String> = blobs
            .iter()
            .map(|b| {
                let i = RpmInfo::from_blob(b).unwrap();
                let epoch = i.epoch.map_or("(none)".to_owned(), |e| e.to_string());
                format!("{}\t{epoch}\t{}\t{}", i.name, i.version, i.release)
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn matches_rpm_on_little_endian_overflow_pages() {
        assert_eq!(listing(&fixture("Packages")), reference("Packages"));
    }

    #[test]
    fn matches_rpm_on_big_endian_inline_values() {
        assert_eq!(
            listing(&fixture("Packages.be64k")),
            reference("Packages.be64k")
        );
    }

    #[test]
    fn reads_checksummed_pages() {
        // rpm's bdb_ro refuses this file, so it has no listing: its 4 packages are the 4
        // smallest of `Packages`, built from the same headers by make.sh.
        let rows = listing(&fixture("Packages.chksum"));
        assert_eq!(rows.len(), 4);
        let all = reference("Packages");
        assert!(rows.iter().all(|r| all.contains(r)), "{rows:?}");
    }

    /// 16,000 values on one page all naming the same 60 KB overflow chain: without a budget that
    /// is a gigabyte of copies from a 192 KB file.
    #[test]
    fn reused_overflow_chains_are_cut_off() {
        const PS: usize = 65536;
        let mut db = vec![0u8; 3 * PS];
        let put16 = |db: &mut Vec<u8>, at: usize, v: u16| {
            db[at..at + 2].copy_from_slice(&v.to_le_bytes());
        };
        let put32 = |db: &mut Vec<u8>, at: usize, v: u32| {
            db[at..at + 4].copy_from_slice(&v.to_le_bytes());
        };
        put32(&mut db, 12, HASH_MAGIC);
        put32(&mut db, 16, 9);
        put32(&mut db, 20, PS as u32);
        db[25] = 8;
        put32(&mut db, 32, 2);
        let page = PS;
        let entries = 32_000u16;
        put16(&mut db, page + 20, entries);
        db[page + 25] = P_HASH;
        let (key_at, value_at) = (65_000usize, 64_900usize);
        db[page + key_at..page + key_at + 5].copy_from_slice(&[H_KEYDATA, 1, 0, 0, 0]);
        db[page + value_at] = H_OFFPAGE;
        put32(&mut db, page + value_at + 4, 2);
        put32(&mut db, page + value_at + 8, 60_000);
        for i in 0..usize::from(entries) {
            let at = if i % 2 == 0 { key_at } else { value_at };
            put16(&mut db, page + PAGE_HEADER + 2 * i, at as u16);
        }
        let ov = 2 * PS;
        put16(&mut db, ov + 22, 60_000);
        db[ov + 25] = P_OVERFLOW;
        let (blobs, problems) = read_blobs(&db).unwrap();
        assert!(blobs.len() < 40, "{}", blobs.len());
        assert!(problems.iter().any(|p| p.contains("loop")), "{problems:?}");
    }

    #[test]
    fn truncated_and_corrupted_databases_fail_cleanly() {
        for name in ["Packages", "Packages.be64k", "Packages.chksum"] {
            let db = fixture(name);
            for cut in (0..db.len()).step_by(1021) {
                match read_blobs(&db[..cut]) {
                    Ok((blobs, _)) => assert!(blobs.len() <= 12),
                    Err(e) => assert!(!e.0.is_empty()),
                }
            }
            for i in (0..db.len()).step_by(211) {
                let mut bad = db.clone();
                bad[i] ^= 0xa5;
                if let Ok((blobs, _)) = read_blobs(&bad) {
                    for b in blobs {
                        let _ = RpmInfo::from_blob(&b);
                    }
                }
            }
        }
        assert!(read_blobs(b"short").is_err());
        assert!(read_blobs(&[0u8; 8192]).is_err());
    }
}
