//! Executables held as a small summary instead of whole: while a layer streams by, the
//! [`EXTRACTOR`] keeps only the Go build info and the cargo-auditable dependency list, in bounded
//! memory, so peak memory does not grow with the number or size of the executables in an image.
//!
//! A stream cannot seek back to a section whose offset is only known from the section headers at
//! the end of the file, so both are found by signature, the way they are laid out:
//! - Go: the `\xff Go buildinf:` header, 16-byte aligned; Go 1.18+ puts the version and module
//!   text right after it. Older toolchains (pointer format) point into data already streamed
//!   past; their module text is recognised by the sentinels the linker puts around it, and the
//!   toolchain version stays unknown.
//! - cargo-auditable: a zlib stream (`78 01|5e|9c|da`) whose first inflated bytes are a JSON
//!   object naming `packages` or `format`; each candidate is tried on a few KiB only.
//!
//! Files given whole (a `dir:` tree read by older code, tests) are still read structurally by
//! [`super::golang`] and [`super::rust`]: [`go_build_info`] and [`dependency_list`] accept both.

use super::golang::buildinfo::{self, BuildInfo};
use super::langpkg;
use super::{Extract, Extractor};
use crate::fs::FileEntry;
use flate2::{Decompress, FlushDecompress, Status};

/// Shared by the Go and Rust catalogers: one pass over each executable feeds both.
pub static EXTRACTOR: Extractor = Extractor {
    name: "executable",
    start: || Box::new(Summarizer::default()),
};

/// How a summary starts; no executable format starts with a NUL byte.
const MAGIC: &[u8; 16] = b"\0dockwatch-exe1\0";
const TAG_GO_VERSION: u8 = 1;
const TAG_GO_MODINFO: u8 = 2;
const TAG_GO_ERROR: u8 = 3;
const TAG_DEP_JSON: u8 = 4;
const TAG_DEP_ERROR: u8 = 5;

/// The most the dependency list may inflate to (real lists are a few KiB to a few hundred).
pub(crate) const MAX_DEP_JSON: usize = 8 << 20;
/// How many bytes after a zlib header a candidate is tried on.
const LOOKAHEAD: usize = 4096;
/// Go build info candidates followed at once (a literal copy of the header in a string table
/// must not hide the real one after it).
const MAX_GO_CANDIDATES: usize = 4;
/// The Go header: magic, pointer size, flags, then two pointers or inline strings.
const GO_HEADER_LEN: usize = 32;
const GO_FLAG_INLINE: u8 = 0x2;
/// Longest Go string kept (module lists of huge programs are some tens of KiB).
const GO_MAX_STRING: usize = 4 << 20;
/// Longest toolchain version accepted (`go1.22.1 X:boringcrypto,loopvar`).
const GO_MAX_VERSION: usize = 256;
/// The markers the Go linker puts around the module text.
const MODINFO_START: &[u8] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
const MODINFO_END: &[u8] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

/// Whether `entry` holds a summary made by [`EXTRACTOR`].
pub(crate) fn is_summary(contents: &[u8]) -> bool {
    contents.starts_with(MAGIC)
}

/// Whether `entry` is an executable for the binary catalogers: a summary, or a whole file that
/// looks like one.
pub(crate) fn is_executable(entry: &FileEntry) -> bool {
    let head = &entry.contents[..entry.contents.len().min(super::HEAD_LEN)];
    is_summary(&entry.contents) || langpkg::is_executable(&entry.path, entry.mode, head)
}

/// The Go build info of an executable (summary or whole file); `None` when it has none.
pub(crate) fn go_build_info(contents: &[u8]) -> Option<Result<BuildInfo, String>> {
    if !is_summary(contents) {
        return buildinfo::read(contents).transpose();
    }
    let (mut version, mut modinfo, mut error) = (None, None, None);
    for (tag, value) in records(contents) {
        let text = || String::from_utf8_lossy(value).into_owned();
        match tag {
            TAG_GO_VERSION => version = Some(text()),
            TAG_GO_MODINFO => modinfo = Some(text()),
            TAG_GO_ERROR => error = Some(text()),
            _ => {}
        }
    }
    match (version, modinfo, error) {
        (None, None, Some(e)) => Some(Err(e)),
        (None, None, None) => None,
        (version, modinfo, _) => Some(Ok(BuildInfo {
            go_version: version.unwrap_or_default(),
            modinfo: modinfo.unwrap_or_default(),
        })),
    }
}

/// The cargo-auditable dependency list (inflated JSON) of an executable, summary or whole file;
/// `None` when it has none.
pub(crate) fn dependency_list(contents: &[u8]) -> Option<Result<Vec<u8>, String>> {
    if !is_summary(contents) {
        return section_json(contents).transpose();
    }
    records(contents).find_map(|(tag, value)| match tag {
        TAG_DEP_JSON => Some(Ok(value.to_vec())),
        TAG_DEP_ERROR => Some(Err(String::from_utf8_lossy(value).into_owned())),
        _ => None,
    })
}

/// The `.dep-v0` (ELF, PE) or `__dep_v0` (Mach-O) section of a whole executable, inflated.
fn section_json(data: &[u8]) -> Result<Option<Vec<u8>>, String> {
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
    langpkg::read_bounded(flate2::read::ZlibDecoder::new(compressed), MAX_DEP_JSON)
        .map(Some)
        .map_err(|e| format!("inflating .dep-v0: {e}"))
}

/// The `(tag, value)` records of a summary.
fn records(summary: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut rest = &summary[MAGIC.len().min(summary.len())..];
    std::iter::from_fn(move || {
        let (&tag, after) = rest.split_first()?;
        let len = u32::from_le_bytes(after.get(..4)?.try_into().ok()?) as usize;
        let value = after.get(4..4 + len)?;
        rest = &after[4 + len..];
        Some((tag, value))
    })
}

fn push_record(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(value);
}

/// What a Go header candidate turned out to be.
enum GoParse {
    More,
    Inline(BuildInfo),
    /// The pre-1.18 layout: strings elsewhere in the file.
    Pointer,
    Broken(String),
    /// Not a header: a copy of the magic in a string table (a tool that reads Go binaries).
    NotGo,
}

/// A Go header candidate and the bytes from it on.
struct GoCandidate {
    bytes: Vec<u8>,
}

impl GoCandidate {
    fn parse(&self) -> GoParse {
        let b = &self.bytes;
        if b.len() < GO_HEADER_LEN {
            return GoParse::More;
        }
        if !matches!(b[14], 4 | 8) || b[15] > 3 {
            return GoParse::NotGo;
        }
        if b[15] & GO_FLAG_INLINE == 0 {
            return GoParse::Pointer;
        }
        let (version, rest) = match varint_string(&b[GO_HEADER_LEN..]) {
            Ok(Some(v)) => v,
            Ok(None) => return GoParse::More,
            Err(e) => return GoParse::Broken(e),
        };
        if version.len() > GO_MAX_VERSION {
            return GoParse::NotGo;
        }
        let modinfo = match varint_string(rest) {
            Ok(Some((m, _))) => m,
            Ok(None) => return GoParse::More,
            Err(e) => return GoParse::Broken(e),
        };
        GoParse::Inline(BuildInfo {
            go_version: String::from_utf8_lossy(version).into_owned(),
            modinfo: String::from_utf8_lossy(buildinfo::strip_sentinels(modinfo)).into_owned(),
        })
    }
}

/// A varint-prefixed string; `Ok(None)` when more bytes are needed.
type Split<'a> = (&'a [u8], &'a [u8]);
fn varint_string(data: &[u8]) -> Result<Option<Split<'_>>, String> {
    let mut len: u64 = 0;
    for (i, byte) in data.iter().enumerate().take(10) {
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let len = usize::try_from(len).map_err(|_| "string length overflows")?;
            if len > GO_MAX_STRING {
                return Err(format!("build info string of {len} bytes is too long"));
            }
            let rest = &data[i + 1..];
            if rest.len() < len {
                return Ok(None);
            }
            return Ok(Some((&rest[..len], &rest[len..])));
        }
    }
    if data.len() < 10 {
        return Ok(None);
    }
    Err("bad varint in build info".into())
}

/// The dependency list being inflated from a confirmed zlib candidate.
struct DepCapture {
    inflate: Decompress,
    json: Vec<u8>,
}

impl DepCapture {
    /// Feeds compressed bytes; `Some` when the list is complete or broken.
    fn feed(&mut self, mut input: &[u8]) -> Option<Result<(), String>> {
        let mut out = [0u8; 16 << 10];
        while !input.is_empty() {
            let before_in = self.inflate.total_in();
            let before_out = self.inflate.total_out();
            let status = self
                .inflate
                .decompress(input, &mut out, FlushDecompress::None);
            let used = (self.inflate.total_in() - before_in) as usize;
            let made = (self.inflate.total_out() - before_out) as usize;
            input = &input[used..];
            self.json.extend_from_slice(&out[..made]);
            if self.json.len() > MAX_DEP_JSON {
                return Some(Err(format!(
                    "inflating .dep-v0: member larger than {MAX_DEP_JSON} bytes"
                )));
            }
            match status {
                Ok(Status::StreamEnd) => return Some(Ok(())),
                Ok(_) if used == 0 && made == 0 => break,
                Ok(_) => {}
                Err(e) => return Some(Err(format!("inflating .dep-v0: {e}"))),
            }
        }
        None
    }
}

/// Scans one executable as it streams by (see the module documentation).
#[derive(Default)]
struct Summarizer {
    /// Bytes not yet scanned for candidates, plus [`LOOKAHEAD`] bytes already seen.
    window: Vec<u8>,
    /// The file offset of `window[0]`.
    window_start: u64,
    /// Candidates are looked for from this file offset on.
    scanned: u64,
    go: Vec<GoCandidate>,
    go_found: Option<BuildInfo>,
    go_pointer_format: bool,
    go_error: Option<String>,
    modinfo: Option<Vec<u8>>,
    modinfo_done: bool,
    dep: Option<DepCapture>,
    dep_result: Option<Result<Vec<u8>, String>>,
    trial: Option<Decompress>,
}

impl Summarizer {
    /// Looks for candidates starting before file offset `limit`, in the window.
    fn scan(&mut self, limit: u64) {
        let from = (self.scanned - self.window_start) as usize;
        let to = (limit.saturating_sub(self.window_start) as usize).min(self.window.len());
        if from >= to {
            return;
        }
        self.scan_go(from, to);
        self.scan_modinfo(from, to);
        self.scan_dep(from, to);
        self.scanned = self.window_start + to as u64;
    }

    fn scan_go(&mut self, from: usize, to: usize) {
        if self.go_found.is_some() {
            return;
        }
        let hits: Vec<usize> = memchr::memmem::find_iter(&self.window[from..], buildinfo::MAGIC)
            .map(|i| from + i)
            .take_while(|&i| i < to)
            .filter(|&i| (self.window_start + i as u64).is_multiple_of(16))
            .collect();
        for i in hits {
            if self.go.len() < MAX_GO_CANDIDATES {
                self.go.push(GoCandidate {
                    bytes: self.window[i..].to_vec(),
                });
            }
        }
        self.settle_go();
    }

    /// Resolves the Go candidates that have enough bytes.
    fn settle_go(&mut self) {
        let mut pending = Vec::new();
        for candidate in std::mem::take(&mut self.go) {
            match candidate.parse() {
                GoParse::More
                    if candidate.bytes.len() <= GO_HEADER_LEN + 2 * (10 + GO_MAX_STRING) =>
                {
                    pending.push(candidate);
                }
                GoParse::More => self.go_error = Some("truncated build info".into()),
                // A literal copy of the magic in a string table parses to garbage; the real
                // header's version starts with `go`.
                GoParse::Inline(info) if info.go_version.starts_with("go") => {
                    self.go_found = Some(info);
                    return;
                }
                GoParse::Inline(_) | GoParse::NotGo => {}
                GoParse::Pointer => self.go_pointer_format = true,
                GoParse::Broken(e) => self.go_error = Some(e),
            }
        }
        self.go = pending;
    }

    fn scan_modinfo(&mut self, from: usize, to: usize) {
        if self.modinfo.is_some() || self.modinfo_done {
            return;
        }
        if let Some(i) = memchr::memmem::find(&self.window[from..], MODINFO_START)
            .map(|i| from + i)
            .filter(|&i| i < to)
        {
            self.modinfo = Some(self.window[i..].to_vec());
            self.settle_modinfo();
        }
    }

    fn settle_modinfo(&mut self) {
        let Some(bytes) = &mut self.modinfo else {
            return;
        };
        if let Some(end) = memchr::memmem::find(&bytes[MODINFO_START.len()..], MODINFO_END) {
            bytes.truncate(MODINFO_START.len() + end + MODINFO_END.len());
            self.modinfo_done = true;
        } else if bytes.len() > GO_MAX_STRING {
            self.modinfo = None;
            self.modinfo_done = true;
        }
    }

    fn scan_dep(&mut self, from: usize, to: usize) {
        if self.dep.is_some() || self.dep_result.is_some() {
            return;
        }
        let mut at = from;
        while let Some(i) = memchr::memchr(0x78, &self.window[at..to]).map(|i| at + i) {
            at = i + 1;
            let Some(&[flg, block]) = self.window.get(i + 1..i + 3) else {
                continue;
            };
            // A zlib header without a preset dictionary, then a deflate block of a valid type.
            if !matches!(flg, 0x01 | 0x5e | 0x9c | 0xda) || (block >> 1) & 3 == 3 {
                continue;
            }
            let end = (i + LOOKAHEAD).min(self.window.len());
            if !self.is_dependency_list(i, end) {
                continue;
            }
            let mut capture = DepCapture {
                inflate: Decompress::new(true),
                json: Vec::new(),
            };
            match capture.feed(&self.window[i..]) {
                Some(done) => self.dep_result = Some(done.map(|()| capture.json)),
                None => self.dep = Some(capture),
            }
            return;
        }
    }

    /// Whether the zlib stream at `window[start..end]` inflates to the start of a dependency list.
    fn is_dependency_list(&mut self, start: usize, end: usize) -> bool {
        let trial = self.trial.get_or_insert_with(|| Decompress::new(true));
        trial.reset(true);
        let mut out = [0u8; 64];
        let _ = trial.decompress(&self.window[start..end], &mut out, FlushDecompress::None);
        let made = &out[..trial.total_out() as usize];
        made.starts_with(b"{\"")
            && (memchr::memmem::find(made, b"\"packages\"").is_some()
                || memchr::memmem::find(made, b"\"format\"").is_some())
    }

    fn feed_captures(&mut self, chunk: &[u8]) {
        for candidate in &mut self.go {
            candidate.bytes.extend_from_slice(chunk);
        }
        if !self.go.is_empty() {
            self.settle_go();
        }
        if let (Some(bytes), false) = (&mut self.modinfo, self.modinfo_done) {
            bytes.extend_from_slice(chunk);
            self.settle_modinfo();
        }
        if let Some(capture) = &mut self.dep
            && let Some(done) = capture.feed(chunk)
        {
            let capture = self.dep.take().expect("capture present");
            self.dep_result = Some(done.map(|()| capture.json));
        }
    }
}

impl Extract for Summarizer {
    fn update(&mut self, chunk: &[u8]) {
        // Captures started earlier have seen the whole window already.
        self.feed_captures(chunk);
        self.window.extend_from_slice(chunk);
        let end = self.window_start + self.window.len() as u64;
        self.scan(end.saturating_sub(LOOKAHEAD as u64));
        // Keep only what later candidates may still need.
        let keep_from = self.scanned.saturating_sub(self.window_start) as usize;
        self.window.drain(..keep_from);
        self.window_start = self.scanned;
    }

    fn finish(mut self: Box<Self>) -> Vec<u8> {
        let end = self.window_start + self.window.len() as u64;
        self.scan(end);
        let mut out = MAGIC.to_vec();
        match (&self.go_found, self.go_pointer_format, &self.modinfo) {
            (Some(info), _, _) => {
                push_record(&mut out, TAG_GO_VERSION, info.go_version.as_bytes());
                push_record(&mut out, TAG_GO_MODINFO, info.modinfo.as_bytes());
            }
            (None, true, Some(modinfo)) if self.modinfo_done => {
                push_record(
                    &mut out,
                    TAG_GO_MODINFO,
                    buildinfo::strip_sentinels(modinfo),
                );
            }
            (None, true, _) => {
                push_record(&mut out, TAG_GO_MODINFO, b"");
            }
            (None, false, _) => {
                if let Some(e) = &self.go_error {
                    push_record(&mut out, TAG_GO_ERROR, e.as_bytes());
                }
            }
        }
        match (self.dep_result.take(), self.dep.is_some()) {
            (Some(Ok(json)), _) => push_record(&mut out, TAG_DEP_JSON, &json),
            (Some(Err(e)), _) => push_record(&mut out, TAG_DEP_ERROR, e.as_bytes()),
            (None, true) => push_record(
                &mut out,
                TAG_DEP_ERROR,
                b"inflating .dep-v0: the stream ends before the list does",
            ),
            (None, false) => {}
        }
        out
    }
}

/// Summarizes whole `bytes` as the layer reader would while streaming them in `chunk`-byte pieces.
#[cfg(test)]
pub(crate) fn summarize(bytes: &[u8], chunk: usize) -> Vec<u8> {
    let mut s: Box<dyn Extract> = (EXTRACTOR.start)();
    for piece in bytes.chunks(chunk.max(1)) {
        s.update(piece);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::langpkg::testkit;
    use crate::catalog::rust::auditable;

    fn go_elf(modinfo: &str) -> Vec<u8> {
        let mut elf = b"\x7fELF".to_vec();
        // A literal copy of the magic, as a scanner's string table holds, must not win.
        elf.resize(32, 0);
        elf.extend_from_slice(buildinfo::MAGIC);
        elf.extend_from_slice(b"\x08\x02\x05\x00junk");
        elf.resize(4096 + 7, 0x41);
        elf.resize(8192, 0);
        elf.extend(buildinfo::tests::inline_blob("go1.22.1", modinfo));
        elf.resize(elf.len() + 100_000, 0x90);
        elf
    }

    #[test]
    fn go_build_info_survives_any_chunking() {
        let modinfo = "path\tx\nmod\tx\t(devel)\t\ndep\tgithub.com/a/b\tv1.2.3\th1:x=\n";
        let elf = go_elf(modinfo);
        for chunk in [1, 7, 16, 4095, 65536, elf.len()] {
            let summary = summarize(&elf, chunk);
            assert!(summary.len() < 300, "{} bytes", summary.len());
            let info = go_build_info(&summary).unwrap().unwrap();
            assert_eq!(info.go_version, "go1.22.1", "chunk {chunk}");
            assert_eq!(info.modinfo, modinfo, "chunk {chunk}");
            assert!(dependency_list(&summary).is_none());
        }
    }

    #[test]
    fn the_pointer_format_keeps_its_module_text_by_sentinels() {
        let mut elf = b"\x7fELF".to_vec();
        elf.resize(64, 0);
        elf.extend(buildinfo::tests::with_sentinels(
            "path\tp\nmod\tp\tv1.0.0\t\n",
        ));
        elf.resize(1024, 0);
        elf.extend_from_slice(buildinfo::MAGIC);
        elf.extend_from_slice(&[8, 0]);
        elf.resize(2048, 0xee);
        let info = go_build_info(&summarize(&elf, 100)).unwrap().unwrap();
        assert_eq!(info.go_version, "");
        assert_eq!(info.modinfo, "path\tp\nmod\tp\tv1.0.0\t\n");
    }

    #[test]
    fn dependency_lists_are_found_in_the_stream_and_bombs_stop() {
        let json =
            br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true}]}"#;
        let mut noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        // Fake zlib headers in the noise are tried and rejected.
        noise[1000..1003].copy_from_slice(&[0x78, 0x9c, 0x00]);
        let elf = testkit::elf64(
            0x40_0000,
            &noise,
            &[(".dep-v0", &auditable::tests::zlib(json))],
        );
        for chunk in [13, 4096, 1 << 20] {
            let summary = summarize(&elf, chunk);
            assert_eq!(
                dependency_list(&summary).unwrap().unwrap(),
                json,
                "chunk {chunk}"
            );
            assert!(go_build_info(&summary).is_none());
        }
        let mut bomb_json = br#"{"packages":["#.to_vec();
        bomb_json.resize(64 << 20, b' ');
        let bomb = testkit::elf64(
            0x40_0000,
            b"code",
            &[(".dep-v0", &auditable::tests::zlib(&bomb_json))],
        );
        let err = dependency_list(&summarize(&bomb, 1 << 16))
            .unwrap()
            .unwrap_err();
        assert!(err.contains("larger than"), "{err}");
    }

    #[test]
    fn plain_executables_summarize_to_nothing() {
        let summary = summarize(b"\x7fELF plain C program", 4);
        assert_eq!(summary, MAGIC);
        assert!(go_build_info(&summary).is_none());
        assert!(dependency_list(&summary).is_none());
    }
}
