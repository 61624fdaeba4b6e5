//! Reads one layer tar as a stream, in one pass: detects gzip, zstd or no compression by magic
//! bytes, keeps only the files some cataloger wants (plus every symlink), records whiteouts, and
//! verifies the blob digest and the diff id of what it read. Nothing is written to disk.

use crate::catalog::{self, Cataloger, HEAD_LEN, Keep, Warning};
use crate::digest::{BoundedReader, HashingReader, limit_hit};
use crate::error::{Error, Result};
use crate::fs::{FileEntry, FileSet};
use crate::limits::{Limits, human_bytes};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{Arc, mpsc};

/// Decides which files are kept: those a cataloger wants by path or by first bytes.
#[derive(Clone, Copy)]
pub struct Selector<'a> {
    catalogers: &'a [Box<dyn Cataloger>],
}

impl<'a> Selector<'a> {
    /// A selector asking `catalogers`.
    pub fn new(catalogers: &'a [Box<dyn Cataloger>]) -> Self {
        Self { catalogers }
    }

    /// Whether the file at `path` is kept by its name.
    pub fn wants(&self, path: &str) -> bool {
        catalog::os_release::wants(path) || catalog::any_wants(self.catalogers, path)
    }

    /// Whether a file declined by name is kept by its first bytes.
    pub fn wants_content(&self, path: &str, mode: u32, head: &[u8]) -> bool {
        catalog::any_wants_content(self.catalogers, path, mode, head)
    }

    /// How a file declined by name is kept, judged by its first bytes; `None`: not kept.
    pub fn keep_by_content(&self, path: &str, mode: u32, head: &[u8]) -> Option<Keep> {
        catalog::keep_by_content(self.catalogers, path, mode, head)
    }
}

/// How many skipped entries of one layer are reported one by one.
const MAX_WARNINGS_PER_LAYER: usize = 100;

/// How a layer blob is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`1f 8b`).
    Gzip,
    /// zstd (`28 b5 2f fd`).
    Zstd,
    /// A plain tar.
    None,
}

impl Compression {
    /// Detects the compression from the first bytes of a blob.
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Self::Zstd
        } else {
            Self::None
        }
    }
}

/// What an image says about a layer blob, checked while reading it.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// Names the layer in messages (its digest, or its path in an archive).
    pub location: String,
    /// The digest of the blob as stored, when the image names it.
    pub digest: Option<String>,
    /// The digest of the uncompressed tar, from the image config.
    pub diff_id: Option<String>,
}

/// One entry of a layer that survives into the final filesystem unless an upper layer hides it.
#[derive(Debug, Clone)]
enum Node {
    File(FileEntry),
    Symlink(String),
}

/// The kept content of one layer: what it adds and what it deletes from the layers below.
#[derive(Debug, Clone, Default)]
pub struct LayerIndex {
    /// The digest of the uncompressed tar, as read.
    pub diff_id: String,
    /// The digest of the blob, as read.
    pub digest: String,
    /// How many tar entries the layer has.
    pub entries: u64,
    /// The size of the uncompressed tar.
    pub uncompressed_bytes: u64,
    /// Entries skipped as unsafe or unreadable (path traversal, oversized, dangling hardlinks).
    pub warnings: Vec<Warning>,
    nodes: BTreeMap<String, Node>,
    whiteouts: Vec<String>,
    opaque_dirs: Vec<String>,
}

impl LayerIndex {
    /// Applies this layer over `fs`: opaque folders and whiteouts hide the layers below, then
    /// this layer's files and symlinks are added.
    pub fn apply(&self, fs: &mut FileSet) {
        for dir in &self.opaque_dirs {
            fs.clear_dir(dir);
        }
        for path in &self.whiteouts {
            fs.remove_tree(path);
        }
        for (path, node) in &self.nodes {
            // A file or symlink replacing a lower folder hides everything below it (as when
            // usrmerge turns `lib/` into a symlink).
            fs.clear_dir(path);
            match node {
                Node::File(entry) => fs.insert(entry.clone()),
                Node::Symlink(target) => fs.insert_symlink(path.clone(), target.clone()),
            }
        }
    }

    /// The number of kept files (not symlinks).
    pub fn kept_files(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| matches!(n, Node::File(_)))
            .count()
    }

    /// The paths this layer deletes from the layers below (plain whiteouts).
    pub fn whiteouts(&self) -> &[String] {
        &self.whiteouts
    }

    /// The folders whose lower content this layer hides (opaque whiteouts).
    pub fn opaque_dirs(&self) -> &[String] {
        &self.opaque_dirs
    }
}

/// Decompressed bytes go from the decompressing thread to the tar reader in pieces this size,
/// at most [`PIECES_IN_FLIGHT`] queued: the two halves of a layer's work overlap on two CPUs.
const PIECE: usize = 256 << 10;
const PIECES_IN_FLIGHT: usize = 4;

/// Reads the layer `blob` (compressed or not) in one pass, keeping what `selector` wants.
///
/// Two threads share the pass: one reads the blob, hashes it (the blob digest) and decompresses
/// it; the other hashes the tar (the diff id) and walks its entries. Errors from either side
/// end both and are reported as before: the first one met in stream order.
pub fn read_layer(
    blob: impl Read + Send,
    expected: &Expected,
    selector: Selector<'_>,
    limits: &Limits,
) -> Result<LayerIndex> {
    let location = expected.location.as_str();
    let io_error = |e: io::Error| io_to_error(e, location, limits);
    let mut index = LayerIndex::default();
    let (pieces, received) = mpsc::sync_channel::<io::Result<Vec<u8>>>(PIECES_IN_FLIGHT);
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    let (blob_digest, tar) = std::thread::scope(|scope| {
        let producer = scope.spawn(move || decompress(blob, limits, &pieces, &recycled));
        let mut tar_stream = HashingReader::new(BoundedReader::new(
            PieceReader {
                received,
                recycle,
                current: Vec::new(),
                pos: 0,
            },
            limits.max_uncompressed_layer_bytes,
            "decompressed layer size",
        ));
        let tar = read_entries(&mut tar_stream, &mut index, selector, limits, location)
            // The digests cover the whole stream, including what follows the end-of-archive marker.
            .and_then(|()| tar_stream.drain().map_err(io_error))
            .map(|_| tar_stream.digest());
        // Dropping the reader stops the producer early when the tar side failed.
        drop(tar_stream);
        let blob_digest = producer
            .join()
            .expect("the decompressing thread does not panic");
        (blob_digest, tar)
    });
    let (diff_id, size) = tar?;
    index.diff_id = diff_id;
    index.uncompressed_bytes = size;
    // The producer's errors reached the tar side through the pieces; none is left here.
    index.digest = blob_digest.ok_or_else(|| Error::Malformed {
        what: "layer",
        location: location.to_owned(),
        reason: "the layer stream ended unexpectedly".into(),
    })?;
    verify("layer", location, expected.digest.as_deref(), &index.digest)?;
    verify(
        "layer diff id of",
        location,
        expected.diff_id.as_deref(),
        &index.diff_id,
    )?;
    for node in index.nodes.values_mut() {
        if let Node::File(entry) = node {
            entry.layer = Some(index.diff_id.clone());
        }
    }
    Ok(index)
}

/// The decompressing half of [`read_layer`]: sends the tar in pieces, or the error that stopped
/// it; returns the blob digest when the whole blob was read.
fn decompress(
    blob: impl Read,
    limits: &Limits,
    pieces: &mpsc::SyncSender<io::Result<Vec<u8>>>,
    recycled: &mpsc::Receiver<Vec<u8>>,
) -> Option<String> {
    let mut raw = HashingReader::new(BoundedReader::new(
        blob,
        limits.max_layer_bytes,
        "layer blob size",
    ));
    let sent = (|| -> io::Result<bool> {
        let mut head = [0u8; 4];
        let got = read_up_to(&mut raw, &mut head)?;
        let head = &head[..got];
        let stream = io::Cursor::new(head.to_vec()).chain(&mut raw);
        let mut decompressed: Box<dyn Read + '_> = match Compression::detect(head) {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
                io::BufReader::with_capacity(PIECE, stream),
            )),
            Compression::Zstd => Box::new(zstd::Decoder::new(stream)?),
            Compression::None => Box::new(stream),
        };
        loop {
            let mut piece = recycled.try_recv().unwrap_or_default();
            piece.resize(PIECE, 0);
            let n = read_up_to(&mut decompressed, &mut piece)?;
            if n == 0 {
                break;
            }
            piece.truncate(n);
            if pieces.send(Ok(piece)).is_err() {
                return Ok(false); // the tar side stopped: its error is the one reported
            }
        }
        drop(decompressed);
        raw.drain()?;
        Ok(true)
    })();
    match sent {
        Ok(true) => Some(raw.digest().0),
        Ok(false) => None,
        Err(e) => {
            let _ = pieces.send(Err(e));
            None
        }
    }
}

/// The tar half's view of the pieces: a plain reader, ending when the producer is done.
struct PieceReader {
    received: mpsc::Receiver<io::Result<Vec<u8>>>,
    recycle: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.received.recv() {
                Ok(Ok(piece)) => {
                    let used = std::mem::replace(&mut self.current, piece);
                    // Pieces are reused: fresh 256 KiB buffers would each cost page faults.
                    let _ = self.recycle.send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn verify(what: &'static str, location: &str, expected: Option<&str>, actual: &str) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => Err(Error::DigestMismatch {
            what,
            location: location.to_owned(),
            expected: expected.to_owned(),
            actual: actual.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Turns a read failure into an error naming the layer, and the limit when one was hit.
pub(crate) fn io_to_error(error: io::Error, location: &str, limits: &Limits) -> Error {
    if let Some(hit) = limit_hit(&error) {
        return Error::LimitExceeded {
            what: hit.what,
            location: location.to_owned(),
            limit: human_bytes(hit.limit),
        };
    }
    let _ = limits;
    Error::Malformed {
        what: "layer",
        location: location.to_owned(),
        reason: error.to_string(),
    }
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read_entries(
    stream: &mut impl Read,
    index: &mut LayerIndex,
    selector: Selector<'_>,
    limits: &Limits,
    location: &str,
) -> Result<()> {
    let io_error = |e: io::Error| io_to_error(e, location, limits);
    let mut archive = tar::Archive::new(stream);
    let mut unreported = 0u64;
    let mut warn = |index: &mut LayerIndex, path: &str, message: String| {
        tracing::debug!(layer = location, path, %message, "Skipped a layer entry.");
        // A hostile layer may hold millions of bad entries: report the first ones, count the rest.
        if index.warnings.len() >= MAX_WARNINGS_PER_LAYER {
            unreported += 1;
            return;
        }
        index.warnings.push(Warning {
            path: format!("/{path}"),
            message: format!("layer {location}: {message}"),
        });
    };
    for entry in archive.entries().map_err(io_error)? {
        let mut entry = entry.map_err(io_error)?;
        index.entries += 1;
        if index.entries > limits.max_layer_entries {
            return Err(Error::LimitExceeded {
                what: "number of tar entries",
                location: location.to_owned(),
                limit: limits.max_layer_entries.to_string(),
            });
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = normalize(&raw_path) else {
            warn(
                index,
                &raw_path,
                "path leaves the root; entry skipped".into(),
            );
            continue;
        };
        if path.is_empty() {
            continue;
        }
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (dir, name),
            None => ("", path.as_str()),
        };
        if name == ".wh..wh..opq" {
            index.opaque_dirs.push(dir.to_owned());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            if !hidden.is_empty() && !hidden.starts_with(".wh.") {
                index.whiteouts.push(join(dir, hidden));
            }
            continue;
        }
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644);
        match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let size = entry.size();
                let mut head = Vec::new();
                let keep = if selector.wants(&path) {
                    Keep::Whole
                } else {
                    // On the stack: most files are judged and dropped, and there are many.
                    let mut first = [0u8; HEAD_LEN];
                    let want = HEAD_LEN.min(usize::try_from(size).unwrap_or(HEAD_LEN));
                    let got = read_up_to(&mut entry, &mut first[..want]).map_err(io_error)?;
                    let first = &first[..got];
                    match selector.keep_by_content(&path, mode, first) {
                        Some(keep) if !first.is_empty() => {
                            head.extend_from_slice(first);
                            keep
                        }
                        _ => {
                            // Not kept: an earlier kept version of this path in this layer is stale.
                            index.nodes.remove(&path);
                            continue;
                        }
                    }
                };
                // An extractor holds bounded memory whatever the size; a whole file does not.
                if matches!(keep, Keep::Whole) && size > limits.max_file_bytes {
                    warn(
                        index,
                        &path,
                        format!(
                            "file of {size} bytes exceeds the limit of {}; not analyzed",
                            human_bytes(limits.max_file_bytes)
                        ),
                    );
                    continue;
                }
                let contents = keep
                    .read(head, entry.by_ref(), size, limits.max_file_bytes)
                    .map_err(io_error)?;
                index.nodes.insert(
                    path.clone(),
                    Node::File(FileEntry {
                        path,
                        layer: None,
                        mode,
                        contents: Arc::from(contents),
                    }),
                );
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                // Kept as written: FileSet resolves it without ever leaving the root.
                index.nodes.insert(path, Node::Symlink(target));
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let Some(target) = normalize(&target) else {
                    warn(
                        index,
                        &path,
                        format!("hardlink to {target:?} leaves the root; skipped"),
                    );
                    continue;
                };
                match index.nodes.get(&target) {
                    Some(Node::File(file)) => {
                        let mut copy = file.clone();
                        copy.path.clone_from(&path);
                        index.nodes.insert(path, Node::File(copy));
                    }
                    _ if selector.wants(&path) => warn(
                        index,
                        &path,
                        format!(
                            "hardlink to {target:?}, which this layer does not hold as a kept file; skipped"
                        ),
                    ),
                    _ => {}
                }
            }
            // Folders carry nothing the catalogers read; devices and fifos are never opened.
            _ => {}
        }
    }
    if unreported > 0 {
        index.warnings.push(Warning {
            path: String::new(),
            message: format!("layer {location}: {unreported} more entries skipped"),
        });
    }
    Ok(())
}

/// `a/b/c` from `/a/./b//c` or `./a/b/c`; `None` when a `..` component appears (traversal).
pub fn normalize(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests;
