//! The NDB rpmdb (`Packages.db`, SUSE since SLE 15 SP3 / openSUSE): a slot table naming where
//! each package's header blob lies, all little-endian.
//!
//! Layout (rpm `lib/backend/ndb/rpmpkg.c`): a 16-byte header (`RpmP`, version, generation, slot
//! page count) plus 16 reserved bytes, then 16-byte slots (`Slot`, package index, block offset,
//! block count) filling the slot pages; each blob starts at block offset × 16 with a 16-byte blob
//! header (`BlbS`, package index, checksum, length). Read by hand: see `rpm/mod.rs`.

use super::{Budget, Malformed};

const HEADER_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_MAGIC: &[u8; 4] = b"BlbS";
const SLOT_PAGE: usize = 4096;
const BLOCK: usize = 16;
/// A database claiming more slot pages than this is corrupt (it would list over a million
/// packages).
const MAX_SLOT_PAGES: usize = 4096;

/// Whether `db` starts like an NDB package database.
pub fn is_ndb(db: &[u8]) -> bool {
    db.starts_with(HEADER_MAGIC)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The header blob of every used slot, in slot order. A slot whose blob is damaged is reported
/// in the second list and skipped.
pub fn read_blobs(db: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<String>), Malformed> {
    if !is_ndb(db) || db.len() < 32 {
        return Err(Malformed("not an NDB package database".into()));
    }
    let version = le32(db, 4).unwrap_or(u32::MAX);
    if version != 0 {
        return Err(Malformed(format!("unsupported NDB version {version}")));
    }
    let slot_pages = le32(db, 12).unwrap_or(0) as usize;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        return Err(Malformed(format!("invalid slot page count {slot_pages}")));
    }
    let slots_end = slot_pages * SLOT_PAGE;
    if db.len() < slots_end {
        return Err(Malformed(format!(
            "slot table of {slots_end} bytes does not fit in {} bytes (truncated?)",
            db.len()
        )));
    }
    let mut blobs = Vec::new();
    let mut problems = Vec::new();
    let mut budget = Budget::for_file(db.len());
    // The first two slot-sized units hold the database header.
    for at in (2 * BLOCK..slots_end).step_by(BLOCK) {
        if &db[at..at + 4] != SLOT_MAGIC {
            problems.push(format!(
                "bad slot magic at offset {at}; later slots not read"
            ));
            break;
        }
        let (Some(index), Some(offset), Some(count)) =
            (le32(db, at + 4), le32(db, at + 8), le32(db, at + 12))
        else {
            continue;
        };
        if index == 0 {
            continue;
        }
        match blob_at(db, index, offset as usize, count as usize) {
            Ok(b) => {
                if let Err(e) = budget.take(b.len()) {
                    problems.push(e.0);
                    break;
                }
                blobs.push(b.to_vec());
            }
            Err(e) => problems.push(format!("package index {index}: {e}")),
        }
    }
    Ok((blobs, problems))
}

fn blob_at(db: &[u8], index: u32, offset: usize, count: usize) -> Result<&[u8], Malformed> {
    let start = offset
        .checked_mul(BLOCK)
        .ok_or_else(|| Malformed("blob offset overflows".into()))?;
    let area = count
        .checked_mul(BLOCK)
        .and_then(|len| db.get(start..start.checked_add(len)?))
        .ok_or_else(|| Malformed(format!("blob at offset {start} is outside the file")))?;
    if area.len() < 16 || &area[..4] != BLOB_MAGIC {
        return Err(Malformed(format!("bad blob magic at offset {start}")));
    }
    if le32(area, 4) != Some(index) {
        return Err(Malformed(format!(
            "blob at offset {start} belongs to another package"
        )));
    }
    let len = le32(area, 12).unwrap_or(0) as usize;
    area.get(16..16 + len)
        .ok_or_else(|| Malformed(format!("blob at offset {start} claims {len} bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::rpm::header::RpmInfo;

    fn sle15() -> Vec<u8> {
        std::fs::read(dockwatch_testdata::fixture(
            "go-rpmdb/os-pkgdb/pkg/testdata/sle15-bci/Packages.db",
        ))
        .unwrap()
    }

    #[test]
    fn reads_the_sle15_database() {
        let (blobs, problems) = read_blobs(&sle15()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let infos: Vec<RpmInfo> = blobs
            .iter()
            .map(|b| RpmInfo::from_blob(b).unwrap())
            .collect();
        // The file holds 35 blob records (`BlbS`), all referenced by a slot.
        assert_eq!(infos.len(), 35);
        assert!(infos.iter().any(|i| i.name == "sles-release"));
        assert!(infos.iter().any(|i| i.name == "rpm-ndb"));
        assert!(infos.iter().any(|i| i.name == "bash"));
    }

    #[test]
    fn truncated_and_corrupted_databases_fail_cleanly() {
        let db = sle15();
        for cut in (0..db.len()).step_by(4099) {
            match read_blobs(&db[..cut]) {
                Ok((blobs, problems)) => assert!(blobs.len() + problems.len() < 200),
                Err(e) => assert!(!e.0.is_empty()),
            }
        }
        for i in (0..8192).step_by(5) {
            let mut bad = db.clone();
            bad[i] ^= 0x41;
            let _ = read_blobs(&bad);
        }
        let mut huge = db[..32].to_vec();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_blobs(&huge).is_err());
    }
}
