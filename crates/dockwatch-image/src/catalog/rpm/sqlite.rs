//! The SQLite rpmdb (`rpmdb.sqlite`, rpm ≥ 4.16): the header blobs of its `Packages` table.
//!
//! Read by hand, in memory: rusqlite 0.32 (the version our libsqlite3-sys allows) can load a
//! database from memory only through an `unsafe` constructor, the workspace forbids `unsafe`, and
//! catalogers do no IO (so no temporary file). We need one table of a file format that is
//! documented and stable (sqlite.org/fileformat2.html): walk its table b-tree, follow overflow
//! chains, decode records. Every page number, offset and length is checked; loops are cut.
//! Changes still in a `-wal` file (a database copied while rpm had it open) are applied with
//! [`with_wal`]: every frame up to the last valid commit, checked by salt and checksum.

use super::{Budget, Malformed};
use std::collections::HashSet;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// A payload larger than this is not an rpm header.
const MAX_PAYLOAD: u64 = 256 * 1024 * 1024;

/// Whether `db` starts like a SQLite database.
pub fn is_sqlite(db: &[u8]) -> bool {
    db.starts_with(MAGIC)
}

/// The `blob` column of every row of table `Packages`, in rowid order. A damaged table gives the
/// rows read before the damage, and the damage in the second list.
pub fn read_blobs(db: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<String>), Malformed> {
    let mut file = File::open(db)?;
    let mut root = None;
    file.walk_table(1, &mut |payload| {
        let cols = record(payload)?;
        if let (Some(Value::Text(kind)), Some(Value::Text(name)), Some(Value::Int(page))) =
            (cols.first(), cols.get(1), cols.get(3))
            && kind == b"table"
            && name == b"Packages"
        {
            root = Some(*page);
        }
        Ok(())
    })?;
    let root = root.ok_or_else(|| Malformed("no Packages table".into()))?;
    let root = u32::try_from(root).map_err(|_| Malformed(format!("bad root page {root}")))?;
    let mut blobs = Vec::new();
    file.budget = Budget::for_file(db.len());
    let walked = file.walk_table(root, &mut |payload| {
        let mut cols = record(payload)?;
        if cols.len() >= 2
            && let Value::Blob(b) = cols.swap_remove(1)
        {
            blobs.push(b);
        }
        Ok(())
    });
    let problems = walked.err().map(|e| e.0).into_iter().collect();
    Ok((blobs, problems))
}

struct File<'a> {
    db: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: usize,
    budget: Budget,
}

impl<'a> File<'a> {
    fn open(db: &'a [u8]) -> Result<Self, Malformed> {
        if db.len() < 100 || !is_sqlite(db) {
            return Err(Malformed("not a SQLite database".into()));
        }
        let raw = usize::from(u16::from_be_bytes([db[16], db[17]]));
        let page_size = if raw == 1 { 65536 } else { raw };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(Malformed(format!("invalid page size {raw}")));
        }
        let usable = page_size - usize::from(db[20]);
        if usable < 480 {
            return Err(Malformed(format!("invalid reserved space {}", db[20])));
        }
        Ok(Self {
            db,
            page_size,
            usable,
            pages: db.len() / page_size,
            budget: Budget::for_file(db.len()),
        })
    }

    fn page(&self, n: u32) -> Result<&'a [u8], Malformed> {
        let n = n as usize;
        if n == 0 || n > self.pages {
            return Err(Malformed(format!(
                "page {n} is outside the file ({} pages; truncated?)",
                self.pages
            )));
        }
        Ok(&self.db[(n - 1) * self.page_size..n * self.page_size])
    }

    /// Calls `row` with the payload of every cell of the table b-tree rooted at `root`.
    fn walk_table(
        &mut self,
        root: u32,
        row: &mut dyn FnMut(&[u8]) -> Result<(), Malformed>,
    ) -> Result<(), Malformed> {
        let mut seen = HashSet::new();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                return Err(Malformed(format!(
                    "b-tree page {n} is reached twice (loop)"
                )));
            }
            let page = self.page(n)?;
            let base = if n == 1 { 100 } else { 0 };
            let header = page
                .get(base..base + 12)
                .ok_or_else(|| Malformed(format!("page {n} is too short")))?;
            let cells = usize::from(u16::from_be_bytes([header[3], header[4]]));
            match header[0] {
                0x0d => {
                    for i in 0..cells {
                        let at = cell_offset(page, base + 8, i, n)?;
                        let payload = self.leaf_payload(page, at, n)?;
                        row(&payload)?;
                    }
                }
                0x05 => {
                    let right = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
                    let mut children = Vec::with_capacity(cells + 1);
                    for i in 0..cells {
                        let at = cell_offset(page, base + 12, i, n)?;
                        let child = page
                            .get(at..at + 4)
                            .ok_or_else(|| Malformed(format!("page {n}: cell {i} truncated")))?;
                        children.push(u32::from_be_bytes([child[0], child[1], child[2], child[3]]));
                    }
                    children.push(right);
                    stack.extend(children.into_iter().rev());
                }
                other => {
                    return Err(Malformed(format!(
                        "page {n} is not a table b-tree page (type {other:#04x})"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The full payload of the leaf cell at `at`, following its overflow chain.
    fn leaf_payload(&mut self, page: &[u8], at: usize, n: u32) -> Result<Vec<u8>, Malformed> {
        let bad = || Malformed(format!("page {n}: cell at offset {at} is truncated"));
        let (len, used) = varint(page.get(at..).ok_or_else(bad)?).ok_or_else(bad)?;
        let (_rowid, used2) = varint(page.get(at + used..).ok_or_else(bad)?).ok_or_else(bad)?;
        if len > MAX_PAYLOAD || len > self.db.len() as u64 {
            return Err(Malformed(format!("page {n}: payload of {len} bytes")));
        }
        let len = len as usize;
        self.budget.take(len)?;
        let start = at + used + used2;
        let u = self.usable;
        let max_local = u - 35;
        let local = if len <= max_local {
            len
        } else {
            let min_local = ((u - 12) * 32 / 255) - 23;
            let k = min_local + (len - min_local) % (u - 4);
            if k <= max_local { k } else { min_local }
        };
        let mut payload = Vec::with_capacity(len);
        payload.extend_from_slice(page.get(start..start + local).ok_or_else(bad)?);
        if local == len {
            return Ok(payload);
        }
        let next = page.get(start + local..start + local + 4).ok_or_else(bad)?;
        let mut next = u32::from_be_bytes([next[0], next[1], next[2], next[3]]);
        let mut hops = 0;
        while payload.len() < len {
            hops += 1;
            if next == 0 || hops > self.pages {
                return Err(Malformed(format!(
                    "page {n}: overflow chain ends after {} of {len} bytes",
                    payload.len()
                )));
            }
            let ov = self.page(next)?;
            let take = (len - payload.len()).min(u - 4);
            payload.extend_from_slice(ov.get(4..4 + take).ok_or_else(bad)?);
            next = u32::from_be_bytes([ov[0], ov[1], ov[2], ov[3]]);
        }
        Ok(payload)
    }
}

fn cell_offset(page: &[u8], array: usize, i: usize, n: u32) -> Result<usize, Malformed> {
    let p = page
        .get(array + 2 * i..array + 2 * i + 2)
        .ok_or_else(|| Malformed(format!("page {n}: cell pointer {i} is outside the page")))?;
    Ok(usize::from(u16::from_be_bytes([p[0], p[1]])))
}

/// A SQLite varint: its value and how many bytes it took.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

const WAL_MAGIC_LE: u32 = 0x377f_0682;
const WAL_MAGIC_BE: u32 = 0x377f_0683;

/// The database as it reads with its write-ahead log applied: the pages of every frame up to the
/// last valid commit frame replace the file's. Frames stop at the first bad salt or checksum, as
/// SQLite's own recovery does.
pub fn with_wal(db: &[u8], wal: &[u8]) -> Result<Vec<u8>, Malformed> {
    let be = |at: usize| -> Option<u32> {
        let s = wal.get(at..at + 4)?;
        Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    };
    let magic = be(0).ok_or_else(|| Malformed("WAL header is truncated".into()))?;
    let big_endian_sums = match magic {
        WAL_MAGIC_LE => false,
        WAL_MAGIC_BE => true,
        _ => return Err(Malformed("not a SQLite WAL file".into())),
    };
    let page_size = be(8).unwrap_or(0) as usize;
    let db_page_size = File::open(db)?.page_size;
    if page_size != db_page_size {
        return Err(Malformed(format!(
            "WAL page size {page_size} differs from the database's {db_page_size}"
        )));
    }
    let (salt1, salt2) = (be(16), be(20));
    let mut sums = wal_checksum(big_endian_sums, (0, 0), &wal[..24]);
    if Some(sums.0) != be(24) || Some(sums.1) != be(28) {
        return Err(Malformed("WAL header checksum does not match".into()));
    }
    let mut image = db.to_vec();
    let mut pending: Vec<(usize, &[u8])> = Vec::new();
    let mut at = 32;
    while let Some(frame) = wal.get(at..at + 24 + page_size) {
        let word =
            |i: usize| u32::from_be_bytes([frame[i], frame[i + 1], frame[i + 2], frame[i + 3]]);
        if Some(word(8)) != salt1 || Some(word(12)) != salt2 {
            break;
        }
        sums = wal_checksum(big_endian_sums, sums, &frame[..8]);
        sums = wal_checksum(big_endian_sums, sums, &frame[24..]);
        if sums != (word(16), word(20)) {
            break;
        }
        let page = word(0) as usize;
        if page == 0 {
            break;
        }
        pending.push((page, &frame[24..]));
        let commit_pages = word(4) as usize;
        if commit_pages > 0 {
            let new_len = commit_pages
                .checked_mul(page_size)
                .filter(|&l| l <= db.len() + wal.len())
                .ok_or_else(|| Malformed(format!("WAL commit claims {commit_pages} pages")))?;
            image.resize(new_len, 0);
            for (page, data) in pending.drain(..) {
                let start = (page - 1) * page_size;
                if let Some(dst) = image.get_mut(start..start + page_size) {
                    dst.copy_from_slice(data);
                }
            }
        }
        at += 24 + page_size;
    }
    Ok(image)
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `sums`.
fn wal_checksum(big_endian: bool, sums: (u32, u32), data: &[u8]) -> (u32, u32) {
    let (mut s0, mut s1) = sums;
    for chunk in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let a = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        s0 = s0.wrapping_add(word(&chunk[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&chunk[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

#[derive(Debug)]
enum Value {
    Null,
    Int(i64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// Decodes a record (header of serial types, then the values).
fn record(payload: &[u8]) -> Result<Vec<Value>, Malformed> {
    let bad = || Malformed("malformed record".into());
    let (header_len, mut at) = varint(payload).ok_or_else(bad)?;
    let header_len = usize::try_from(header_len).map_err(|_| bad())?;
    if header_len > payload.len() {
        return Err(bad());
    }
    let mut types = Vec::new();
    while at < header_len {
        let (t, used) = varint(&payload[at..header_len]).ok_or_else(bad)?;
        types.push(t);
        at += used;
    }
    let mut body = header_len;
    let mut values = Vec::with_capacity(types.len());
    for t in types {
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(bad()),
            _ => ((t - 12) / 2) as usize,
        };
        let bytes = payload.get(body..body + size).ok_or_else(bad)?;
        body += size;
        values.push(match t {
            0 => Value::Null,
            1..=6 => {
                let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
                for &b in bytes {
                    v = (v << 8) | i64::from(b);
                }
                Value::Int(v)
            }
            7 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            _ if t % 2 == 0 => Value::Blob(bytes.to_vec()),
            _ => Value::Text(bytes.to_vec()),
        });
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A database written by the real sqlite3 tool: several b-tree levels and overflow chains.
    fn sqlite3_db(rows: usize, blob_len: usize) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpmdb.sqlite");
        let sql = format!(
            "PRAGMA page_size=1024; \
             CREATE TABLE Other (x TEXT); INSERT INTO Other VALUES ('noise'); \
             CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < {rows}) \
             INSERT INTO Packages(blob) SELECT CAST(printf('%08d', i) || zeroblob({blob_len}) AS BLOB) FROM n;"
        );
        let status = Command::new("sqlite3")
            .arg(&path)
            .arg(sql)
            .status()
            .expect("sqlite3 is installed (see .ci/run)");
        assert!(status.success());
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn reads_every_row_written_by_sqlite3() {
        for (rows, len) in [(1, 10), (3, 5000), (700, 300), (60, 70_000)] {
            let db = sqlite3_db(rows, len);
            let (blobs, problems) = read_blobs(&db).unwrap();
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(blobs.len(), rows, "{rows} rows of {len}");
            for (i, b) in blobs.iter().enumerate() {
                assert_eq!(b.len(), 8 + len);
                assert_eq!(&b[..8], format!("{:08}", i + 1).as_bytes());
            }
        }
    }

    #[test]
    fn truncated_and_corrupted_databases_fail_cleanly() {
        let db = sqlite3_db(40, 3000);
        for cut in (0..db.len()).step_by(97) {
            let _ = read_blobs(&db[..cut]);
        }
        let (blobs, problems) = read_blobs(&db[..db.len() - 1024]).unwrap();
        assert!(blobs.len() < 40 && !problems.is_empty());
        for i in (0..db.len()).step_by(13) {
            let mut bad = db.clone();
            bad[i] = bad[i].wrapping_add(0x5a);
            let _ = read_blobs(&bad);
        }
        assert!(read_blobs(b"SQLite format 3\0").is_err());
        assert!(read_blobs(&[0u8; 4096]).is_err());
    }

    /// A database copied while a writer still had it open: its last rows are only in the WAL.
    /// Written by Python's sqlite3 module (the real SQLite) with automatic checkpoints off.
    #[test]
    fn rows_still_in_the_wal_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"
import shutil, sqlite3, sys
d = sys.argv[1]
c = sqlite3.connect(d + "/rpmdb.sqlite", isolation_level=None)
c.execute("PRAGMA page_size=4096")
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
for i in range(1, 4):
    c.execute("INSERT INTO Packages(blob) VALUES (?)", (b"%08d" % i + bytes(3000),))
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
for i in range(4, 31):
    c.execute("INSERT INTO Packages(blob) VALUES (?)", (b"%08d" % i + bytes(3000),))
c.execute("BEGIN")
c.execute("INSERT INTO Packages(blob) VALUES (?)", (b"uncommit" + bytes(3000),))
shutil.copy(d + "/rpmdb.sqlite", d + "/copy.sqlite")
shutil.copy(d + "/rpmdb.sqlite-wal", d + "/copy.sqlite-wal")
"#;
        let ok = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(dir.path())
            .status()
            .expect("python3 is installed")
            .success();
        assert!(ok);
        let db = std::fs::read(dir.path().join("copy.sqlite")).unwrap();
        let wal = std::fs::read(dir.path().join("copy.sqlite-wal")).unwrap();
        let (before, _) = read_blobs(&db).unwrap();
        assert_eq!(before.len(), 3, "the main file holds the checkpointed rows");
        let merged = with_wal(&db, &wal).unwrap();
        let (blobs, problems) = read_blobs(&merged).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(blobs.len(), 30, "committed rows only");
        assert_eq!(&blobs[29][..8], b"00000030");
        // A torn WAL keeps the commits before the tear.
        let torn = with_wal(&db, &wal[..wal.len() / 2]).unwrap();
        let (some, _) = read_blobs(&torn).unwrap();
        assert!((3..30).contains(&some.len()), "{}", some.len());
        assert!(with_wal(&db, b"not a wal").is_err());
    }

    #[test]
    fn empty_and_foreign_databases() {
        let empty = std::fs::read(dockwatch_testdata::fixture(
            "claircore/os-pkgdb/internal/rpm/sqlite/testdata/no_packages.sqlite",
        ))
        .unwrap();
        // claircore's "no packages" database has a Packages table with no rows, or none at all.
        match read_blobs(&empty) {
            Ok((blobs, problems)) => assert!(blobs.is_empty() && problems.is_empty()),
            Err(e) => assert!(e.0.contains("no Packages table"), "{e}"),
        }
    }
}
