//! What the language catalogers share: building packages and purls, bounded reading of
//! untrusted files, warnings that name the file, and deterministic output.

use super::{CatalogOutput, Warning, license};
use crate::fs::FileEntry;
use dockwatch_core::{Location, Package, PackageType};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The largest metadata or lock file parsed (a bigger file named like one is skipped with a
/// warning: real lockfiles of huge monorepos stay well under this).
pub(crate) const MAX_TEXT_BYTES: usize = 64 << 20;

/// The file name part of `path`.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder part of `path` (empty at the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The longest warning message kept: parsers' errors may quote the offending line, and a hostile
/// file's line can be megabytes long.
const MAX_WARNING_CHARS: usize = 400;

/// A warning about `path` (relative, as in the [`crate::fs::FileSet`]); a message longer than
/// [`MAX_WARNING_CHARS`] is cut, saying so.
pub(crate) fn warning(path: &str, message: impl Into<String>) -> Warning {
    let mut message = message.into();
    if let Some((cut, _)) = message.char_indices().nth(MAX_WARNING_CHARS) {
        let total = message.len();
        message.truncate(cut);
        message.push_str(&format!("… (message of {total} bytes cut)"));
    }
    Warning {
        path: format!("/{}", path.trim_start_matches('/')),
        message,
    }
}

/// A TOML parse error as one short line: `line L, column C: what` (the error's own text
/// quotes the whole offending line).
pub(crate) fn toml_reason(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim();
    let Some(span) = error.span() else {
        return message.to_owned();
    };
    let before = &text.as_bytes()[..span.start.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!("line {line}, column {column}: {message}")
}

/// The location of a kept file.
pub(crate) fn location(entry: &FileEntry) -> Location {
    Location {
        path: format!("/{}", entry.path.trim_start_matches('/')),
        layer: entry.layer.clone(),
    }
}

/// The text of `entry`, bounded by `limit` bytes; a byte-order mark is removed, UTF-16 is
/// decoded, and invalid UTF-8 is replaced (with a warning), so one odd byte never hides a package.
pub(crate) fn read_text<'a>(
    entry: &'a FileEntry,
    limit: usize,
    warnings: &mut Vec<Warning>,
) -> Option<Cow<'a, str>> {
    let bytes = &entry.contents[..];
    if bytes.len() > limit {
        warnings.push(warning(
            &entry.path,
            format!(
                "skipped: {} bytes exceeds the limit of {limit} bytes for this kind of file",
                bytes.len()
            ),
        ));
        return None;
    }
    Some(decode_text(bytes, &entry.path, warnings))
}

/// Decodes bytes as text: UTF-8 (with or without BOM), UTF-16 with a BOM, else lossy UTF-8.
pub(crate) fn decode_text<'a>(
    bytes: &'a [u8],
    path: &str,
    warnings: &mut Vec<Warning>,
) -> Cow<'a, str> {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        Cow::Owned(String::from_utf16_lossy(&units))
    };
    match bytes {
        [0xFF, 0xFE, ..] => return utf16(true),
        [0xFE, 0xFF, ..] => return utf16(false),
        _ => {}
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(e) => {
            warnings.push(warning(
                path,
                format!(
                    "not valid UTF-8 (first bad byte at offset {}); invalid bytes replaced",
                    e.valid_up_to()
                ),
            ));
            String::from_utf8_lossy(bytes)
        }
    }
}

/// Reads at most `limit` bytes from `reader`; more is an error (a zip bomb, a lying header).
pub(crate) fn read_bounded(reader: impl std::io::Read, limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut buf = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() > limit {
        return Err(format!("member larger than {limit} bytes"));
    }
    Ok(buf)
}

/// The bytes of member `name` of the zip archive `archive`, bounded by `limit`; `Ok(None)` when
/// the archive has no such member.
pub(crate) fn zip_member(
    archive: &[u8],
    name: &str,
    limit: usize,
) -> Result<Option<Vec<u8>>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).map_err(|e| e.to_string())?;
    let file = match zip.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    read_bounded(file, limit).map(Some)
}

/// Whether a file is a program worth opening, judged from its name, mode and first bytes: ELF
/// and Mach-O files with an execute bit, and Windows PE files whatever their mode (images built
/// on Windows rarely set one). Shared libraries (`*.so`, `*.so.1.2`, `*.dylib`, `*.dll`) are
/// left out: images hold many, often executable, and Go and Rust programs are rarely built as
/// one; keeping them all would cost the memory of every library in the image.
pub(crate) fn is_executable(path: &str, mode: u32, head: &[u8]) -> bool {
    const MACHO: [[u8; 4]; 4] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xcf, 0xfa, 0xed, 0xfe],
    ];
    let name = file_name(path).to_ascii_lowercase();
    let library = name.ends_with(".so")
        || name.contains(".so.")
        || name.ends_with(".dylib")
        || name.ends_with(".dll");
    if library {
        return false;
    }
    let exec = mode & 0o111 != 0;
    (exec && (head.starts_with(b"\x7fELF") || MACHO.iter().any(|m| head.starts_with(m))))
        || head.starts_with(b"MZ")
}

/// A package URL built with the `packageurl` crate, which applies each type's rules (lower-case
/// pypi names, `_` to `-`...); a name it refuses still gets a readable purl.
pub(crate) fn purl(ty: &str, namespace: Option<&str>, name: &str, version: &str) -> String {
    let built = packageurl::PackageUrl::new(ty, name).and_then(|mut p| {
        if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
            p.with_namespace(ns)?;
        }
        if !version.is_empty() {
            p.with_version(version)?;
        }
        Ok(p.to_string())
    });
    built.unwrap_or_else(|_| {
        let ns = namespace.map(|n| format!("{n}/")).unwrap_or_default();
        format!("pkg:{ty}/{ns}{name}@{version}")
    })
}

/// The fields of one package as a language cataloger finds it.
pub(crate) struct Found<'a> {
    pub kind: PackageType,
    pub found_by: &'static str,
    pub name: &'a str,
    pub version: &'a str,
    pub purl: String,
    /// Licenses as written; normalized to SPDX here.
    pub licenses: Vec<String>,
    /// The file that evidences the package first, then any others.
    pub locations: Vec<Location>,
    pub metadata: BTreeMap<String, String>,
}

impl<'a> Found<'a> {
    /// A package of `kind` named `name` at `version`, seen in `entry`.
    pub(crate) fn new(
        kind: PackageType,
        found_by: &'static str,
        name: &'a str,
        version: &'a str,
        purl: String,
        entry: &FileEntry,
    ) -> Self {
        Self {
            kind,
            found_by,
            name,
            version,
            purl,
            licenses: Vec::new(),
            locations: vec![location(entry)],
            metadata: BTreeMap::new(),
        }
    }

    /// Adds licenses as written by the package; they are normalized when built.
    pub(crate) fn licenses<I, S>(mut self, texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.licenses
            .extend(texts.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Records one metadata field when it has a value.
    pub(crate) fn meta(mut self, key: &str, value: Option<&str>) -> Self {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.metadata.insert(key.to_owned(), v.to_owned());
        }
        self
    }

    /// The finished package.
    pub(crate) fn build(self) -> Package {
        let mut licenses: Vec<String> = Vec::new();
        for text in &self.licenses {
            if let Some(l) = license::normalize(text)
                && !licenses.contains(&l)
            {
                licenses.push(l);
            }
        }
        Package {
            name: self.name.to_owned(),
            version: self.version.to_owned(),
            kind: self.kind,
            arch: None,
            source_name: None,
            source_version: None,
            licenses,
            purl: self.purl,
            cpes: Vec::new(),
            locations: self.locations,
            found_by: self.found_by.to_owned(),
            metadata: self.metadata,
        }
    }
}

/// Sorts packages and warnings and drops exact duplicates, so output is deterministic.
pub(crate) fn finish(mut out: CatalogOutput) -> CatalogOutput {
    out.packages.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.locations.cmp(&b.locations))
    });
    out.packages.dedup();
    out.warnings
        .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    out.warnings.dedup();
    out
}

/// Test support shared by the language catalogers' `check` helpers.
#[cfg(test)]
pub(crate) mod testkit {
    use super::super::{CatalogContext, CatalogOutput, Cataloger, HEAD_LEN};
    use crate::fs::{FileEntry, FileSet};
    use std::collections::BTreeSet;
    use std::path::Path;
    use std::sync::Arc;

    /// Builds the file set a layer reader would give `cataloger` for the fixture folder or file
    /// `fixture` (relative to the shared fixtures) placed at `image_dir` in the image.
    pub(crate) fn fileset(cataloger: &dyn Cataloger, fixtures: &[(&str, &str)]) -> FileSet {
        let mut set = FileSet::new();
        for (fixture, image_dir) in fixtures {
            // A folder may be split between the shared tree and the unpacked archive: read both,
            // the unpacked copy last so it wins.
            let _ = dockwatch_testdata::fixture(fixture);
            let roots: Vec<_> = [
                dockwatch_testdata::shared_fixtures().join(fixture),
                dockwatch_testdata::unpacked_dir().join(fixture),
            ]
            .into_iter()
            .filter(|p| p.exists())
            .collect();
            assert!(!roots.is_empty(), "fixture {fixture} missing");
            for root in roots {
                add_tree(cataloger, &mut set, &root, image_dir);
            }
        }
        set
    }

    /// Adds every file below `root` that `cataloger` wants (judged as the layer reader does:
    /// by path, else by the first bytes), placed at `image_dir`; symlinks are not followed.
    pub(crate) fn add_tree(
        cataloger: &dyn Cataloger,
        set: &mut FileSet,
        root: &Path,
        image_dir: &str,
    ) {
        let mut stack = vec![root.to_path_buf()];
        while let Some(p) = stack.pop() {
            let meta = if p == root {
                std::fs::metadata(&p)
            } else {
                std::fs::symlink_metadata(&p)
            };
            let Ok(meta) = meta else {
                continue;
            };
            if meta.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let rel = if p == root {
                p.file_name().unwrap().to_string_lossy().into_owned()
            } else {
                p.strip_prefix(root).unwrap().to_string_lossy().into_owned()
            };
            let path = format!("{}/{}", image_dir.trim_matches('/'), rel)
                .trim_start_matches('/')
                .to_owned();
            add_if_wanted(cataloger, set, &path, &p);
        }
    }

    fn add_if_wanted(cataloger: &dyn Cataloger, set: &mut FileSet, path: &str, file: &Path) {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        let wanted = cataloger.wants(path) || {
            let mut head = Vec::with_capacity(HEAD_LEN);
            let f = std::fs::File::open(file).unwrap();
            f.take(HEAD_LEN as u64).read_to_end(&mut head).unwrap();
            cataloger.wants_content(path, mode, &head)
        };
        if wanted {
            set.insert(entry(path, mode, std::fs::read(file).unwrap()));
        }
    }

    /// The lines a command prints, or a panic naming the command (the tools these tests
    /// compare with are part of every machine this project runs on).
    pub(crate) fn command_lines(program: &str, args: &[&str]) -> Vec<String> {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Asserts that the `name@version` set of `out` equals `expected`, but for `documented`
    /// differences (`+found`, `-missed`).
    pub(crate) fn assert_same(out: &CatalogOutput, expected: &[String], documented: &[&str]) {
        let found: BTreeSet<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        let expected: BTreeSet<String> = expected.iter().cloned().collect();
        let mut diffs: BTreeSet<String> = found
            .difference(&expected)
            .map(|s| format!("+{s}"))
            .collect();
        diffs.extend(expected.difference(&found).map(|s| format!("-{s}")));
        let documented: BTreeSet<String> = documented.iter().map(|s| s.to_string()).collect();
        assert_eq!(diffs, documented, "warnings: {:?}", out.warnings);
    }

    /// A minimal little-endian ELF64 executable: one loadable segment mapping the whole file at
    /// `base`, `payload` right after the headers (offset 120), then one section per `sections`.
    pub(crate) fn elf64(base: u64, payload: &[u8], sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = payload.to_vec();
        let mut placed = Vec::new();
        for (name, data) in sections {
            placed.push((*name, 120 + body.len(), data.len()));
            body.extend_from_slice(data);
        }
        let mut shstrtab = vec![0u8];
        let mut names = Vec::new();
        for (name, _, _) in &placed {
            names.push(shstrtab.len() as u32);
            shstrtab.extend_from_slice(name.as_bytes());
            shstrtab.push(0);
        }
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(b".shstrtab\0");
        let shstrtab_at = 120 + body.len();
        body.extend_from_slice(&shstrtab);
        while !body.len().is_multiple_of(8) {
            body.push(0);
        }
        let shoff = 120 + body.len();
        let shnum = if sections.is_empty() {
            0
        } else {
            placed.len() + 2
        };
        let total = shoff + shnum * 64;

        let mut f = Vec::with_capacity(total);
        f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        f.extend_from_slice(&0x3eu16.to_le_bytes()); // x86-64
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes()); // entry
        f.extend_from_slice(&64u64.to_le_bytes()); // phoff
        f.extend_from_slice(&(if shnum == 0 { 0 } else { shoff as u64 }).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes()); // flags
        for v in [
            64u16,
            56,
            1,
            64,
            shnum as u16,
            shnum.saturating_sub(1) as u16,
        ] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f.extend_from_slice(&5u32.to_le_bytes());
        for v in [0u64, base, base, total as u64, total as u64, 0x1000] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&body);
        if shnum > 0 {
            let mut header = |name: u32, kind: u32, offset: usize, size: usize| {
                f.extend_from_slice(&name.to_le_bytes());
                f.extend_from_slice(&kind.to_le_bytes());
                for v in [0u64, 0, offset as u64, size as u64] {
                    f.extend_from_slice(&v.to_le_bytes());
                }
                f.extend_from_slice(&0u32.to_le_bytes());
                f.extend_from_slice(&0u32.to_le_bytes());
                f.extend_from_slice(&1u64.to_le_bytes());
                f.extend_from_slice(&0u64.to_le_bytes());
            };
            header(0, 0, 0, 0);
            for (i, (_, offset, size)) in placed.iter().enumerate() {
                header(names[i], 1, *offset, *size); // SHT_PROGBITS
            }
            header(names[placed.len()], 3, shstrtab_at, shstrtab.len()); // SHT_STRTAB
        }
        f
    }

    /// One file entry with the given contents.
    pub(crate) fn entry(path: &str, mode: u32, bytes: Vec<u8>) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            layer: None,
            mode,
            contents: Arc::from(bytes),
        }
    }

    /// Catalogs an in-memory set of `(path, contents)` files.
    pub(crate) fn run_on(cataloger: &dyn Cataloger, files: &[(&str, &[u8])]) -> CatalogOutput {
        let mut set = FileSet::new();
        for (path, bytes) in files {
            assert!(cataloger.wants(path), "{path} not wanted");
            set.insert(entry(path, 0o644, bytes.to_vec()));
        }
        cataloger.catalog(&set, &CatalogContext::default())
    }

    /// A peer corpus for smoke runs: every file below `folder` whose name ends with `suffix`,
    /// shown to the cataloger as `present_as` (peers name fixtures freely; `""` keeps the name).
    pub(crate) type Corpus<'a> = (&'a str, &'a str, &'a str);

    /// Catalogs each file of each corpus alone and returns `(file, packages, warnings)`.
    pub(crate) fn per_file(
        cataloger: &dyn Cataloger,
        corpora: &[Corpus<'_>],
    ) -> Vec<(String, usize, usize)> {
        let mut rows = Vec::new();
        for (folder, suffix, present_as) in corpora {
            let _ = dockwatch_testdata::fixture(folder);
            let mut files = Vec::new();
            for root in [
                dockwatch_testdata::shared_fixtures().join(folder),
                dockwatch_testdata::unpacked_dir().join(folder),
            ] {
                let mut stack = vec![root];
                while let Some(p) = stack.pop() {
                    if p.is_dir() {
                        stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                    } else if p.is_file() && p.to_string_lossy().ends_with(suffix) {
                        files.push(p);
                    }
                }
            }
            for file in files {
                let shown = if present_as.is_empty() {
                    file.to_string_lossy().trim_start_matches('/').to_owned()
                } else {
                    format!("corpus/{present_as}")
                };
                let mut one = FileSet::new();
                add_if_wanted(cataloger, &mut one, &shown, &file);
                if one.is_empty() {
                    continue;
                }
                let out = cataloger.catalog(&one, &CatalogContext::default());
                rows.push((
                    file.to_string_lossy().into_owned(),
                    out.packages.len(),
                    out.warnings.len(),
                ));
            }
        }
        rows
    }

    /// Asserts that no file of the corpora gives a silently empty result (no package and no
    /// warning), except those whose path ends with one of `empty_ok`; returns the file count.
    pub(crate) fn never_silently_empty(
        cataloger: &dyn Cataloger,
        corpora: &[Corpus<'_>],
        empty_ok: &[&str],
    ) -> usize {
        let rows = per_file(cataloger, corpora);
        let silent: Vec<&String> = rows
            .iter()
            .filter(|(path, p, w)| {
                *p == 0 && *w == 0 && !empty_ok.iter().any(|e| path.ends_with(e))
            })
            .map(|(path, _, _)| path)
            .collect();
        assert!(silent.is_empty(), "silently empty: {silent:#?}");
        rows.len()
    }

    /// `name@version` of every package of a trivy integration golden (`.Results[].Packages`).
    pub(crate) fn trivy_golden(golden: &str) -> Vec<String> {
        let path = dockwatch_testdata::fixture(&format!(
            "trivy/integration/integration/testdata/{golden}"
        ));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut out = Vec::new();
        for result in json["Results"].as_array().into_iter().flatten() {
            for p in result["Packages"].as_array().into_iter().flatten() {
                out.push(format!(
                    "{}@{}",
                    p["Name"].as_str().unwrap(),
                    p["Version"].as_str().unwrap()
                ));
            }
        }
        out
    }

    /// Compares what `cataloger` finds in `fixtures` with `expected` (`name@version`): every
    /// difference must be listed in `documented` as `+name@version` (we find more) or
    /// `-name@version` (we miss it), and nothing else; returns the output for further checks.
    pub(crate) fn compare(
        cataloger: &dyn Cataloger,
        fixtures: &[(&str, &str)],
        expected: &[String],
        documented: &[&str],
    ) -> CatalogOutput {
        let set = fileset(cataloger, fixtures);
        let out = cataloger.catalog(&set, &CatalogContext::default());
        let found: BTreeSet<String> = out
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        let expected: BTreeSet<String> = expected.iter().cloned().collect();
        let mut diffs: BTreeSet<String> = found
            .difference(&expected)
            .map(|s| format!("+{s}"))
            .collect();
        diffs.extend(expected.difference(&found).map(|s| format!("-{s}")));
        let documented: BTreeSet<String> = documented.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            diffs, documented,
            "differences from the peer's expected output for {fixtures:?} (warnings: {:?})",
            out.warnings
        );
        for p in &out.packages {
            assert!(p.purl.starts_with("pkg:"), "{}", p.purl);
            assert!(!p.locations.is_empty());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CatalogContext, Cataloger, all};
    use super::testkit;
    use crate::fs::FileSet;
    use std::collections::BTreeMap;

    #[test]
    fn long_warnings_are_cut_and_toml_errors_are_one_short_line() {
        let long = super::warning("a/b", "x".repeat(100_000));
        assert!(long.message.chars().count() < 500, "{}", long.message.len());
        assert!(long.message.ends_with("(message of 100000 bytes cut)"));
        assert_eq!(super::warning("/a/b", "short").message, "short");
        // A line nested past the parser's recursion limit, quoted whole by the error's Display.
        let text = format!("a = 1\nx = {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let error = toml::from_str::<toml::Table>(&text).unwrap_err();
        assert!(error.to_string().len() > 10_000);
        let reason = super::toml_reason(&text, &error);
        assert!(reason.starts_with("line 2, column "), "{reason}");
        assert!(reason.ends_with("recursion limit exceeded"), "{reason}");
        let text = "[[package]]\nname = \"é\"\nversion = \"1.0\n";
        let error = toml::from_str::<toml::Table>(text).unwrap_err();
        assert_eq!(
            super::toml_reason(text, &error),
            "line 3, column 15: invalid basic string"
        );
    }

    /// The language catalogers (the OS ones are tested in their own modules).
    fn language_catalogers() -> Vec<Box<dyn Cataloger>> {
        const OURS: &[&str] = &[
            "python", "npm", "golang", "rust", "java", "ruby", "php", "dotnet",
        ];
        all()
            .into_iter()
            .filter(|c| OURS.contains(&c.name()))
            .collect()
    }

    #[test]
    fn every_language_cataloger_is_registered_once() {
        let names: Vec<&str> = all().iter().map(|c| c.name()).collect();
        for name in [
            "python", "npm", "golang", "rust", "java", "ruby", "php", "dotnet",
        ] {
            assert_eq!(
                names.iter().filter(|n| **n == name).count(),
                1,
                "{name} in {names:?}"
            );
        }
        // Every cataloger module of this folder is in the list.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/catalog");
        let mut impls = 0;
        let mut stack = vec![dir];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                impls += text
                    .lines()
                    .filter(|l| l.starts_with("impl Cataloger for "))
                    .count();
            }
        }
        assert_eq!(impls, names.len(), "cataloger impls vs all(): {names:?}");
    }

    /// Every file of the peer corpora, truncated and with bytes flipped, through every language
    /// cataloger: no panic, whatever the damage (a deterministic xorshift picks the damage).
    #[test]
    fn damaged_peer_files_never_panic() {
        let corpora = [
            ("trivy/lang/pkg/dependency/parser", "python"),
            ("trivy/lang/pkg/dependency/parser", "nodejs"),
            ("trivy/lang/pkg/dependency/parser", "golang"),
            ("trivy/lang/pkg/dependency/parser", "rust"),
            ("trivy/lang/pkg/dependency/parser", "java"),
            ("trivy/lang/pkg/dependency/parser", "ruby"),
            ("trivy/lang/pkg/dependency/parser", "php"),
            ("trivy/lang/pkg/dependency/parser", "dotnet"),
            ("trivy/lang/pkg/dependency/parser", "nuget"),
            ("claircore/lang/java/jar/testdata", "properties"),
        ];
        // Each peer file is shown under the names our catalogers read.
        let names = [
            "app/package-lock.json",
            "app/yarn.lock",
            "app/pnpm-lock.yaml",
            "app/node_modules/x/package.json",
            "site-packages/x-1.dist-info/METADATA",
            "app/requirements.txt",
            "app/poetry.lock",
            "app/Pipfile.lock",
            "app/uv.lock",
            "app/go.mod",
            "app/go.sum",
            "app/Cargo.lock",
            "app/x-1.0.jar",
            "gems/specifications/x-1.gemspec",
            "app/Gemfile.lock",
            "app/composer.lock",
            "app/x.deps.json",
            "app/packages.lock.json",
        ];
        let catalogers = language_catalogers();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut runs = 0;
        for (base, sub) in corpora {
            let root = dockwatch_testdata::fixture(&format!("{base}/{sub}"));
            let mut stack = vec![root];
            let mut files = Vec::new();
            while let Some(p) = stack.pop() {
                if p.is_dir() {
                    stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                } else if p.metadata().is_ok_and(|m| m.len() < 256 << 10) {
                    files.push(std::fs::read(&p).unwrap());
                }
            }
            for original in files {
                for round in 0..4 {
                    let mut bytes = original.clone();
                    if !bytes.is_empty() {
                        let cut = (next() as usize) % bytes.len();
                        if round % 2 == 0 {
                            bytes.truncate(cut);
                        }
                        for _ in 0..8 {
                            if bytes.is_empty() {
                                break;
                            }
                            let at = (next() as usize) % bytes.len();
                            bytes[at] = next() as u8;
                        }
                    }
                    for name in names {
                        let mut set = FileSet::new();
                        set.insert(testkit::entry(name, 0o755, bytes.clone()));
                        for c in &catalogers {
                            let _ = c.catalog(&set, &CatalogContext::default());
                        }
                        runs += 1;
                    }
                }
            }
        }
        assert!(runs > 5000, "{runs}");
    }

    /// Every osv-scanner snapshot that counts the packages of a lockfile, with the folder its
    /// `<rootdir>` stands for: the source scan, the scan command's and the main command's.
    const OSV_SNAPSHOTS: &[(&str, &str)] = &[
        (
            "osv-scanner/cmd-scan/cmd/osv-scanner/scan/source/__snapshots__/command_test.snap",
            "osv-scanner/cmd-scan/cmd/osv-scanner/scan/source",
        ),
        (
            "osv-scanner/cmd-scan/cmd/osv-scanner/scan/__snapshots__/command_test.snap",
            "osv-scanner/cmd-scan/cmd/osv-scanner/scan",
        ),
        (
            "osv-scanner/cmd-scan/cmd/osv-scanner/__snapshots__/main_test.snap",
            "osv-scanner/cmd-scan/cmd/osv-scanner",
        ),
    ];

    /// `file -> package count` of the "Scanned … file and found N packages" lines of
    /// osv-scanner's snapshots; `file` is relative to the fixtures.
    fn osv_scanner_counts() -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (snapshot, root) in OSV_SNAPSHOTS {
            let text = std::fs::read_to_string(dockwatch_testdata::fixture(snapshot)).unwrap();
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("Scanned <rootdir>/") else {
                    continue;
                };
                let Some((file, count)) = rest.split_once(" file and found ") else {
                    continue;
                };
                if let Some(n) = count.split_whitespace().next().and_then(|n| n.parse().ok()) {
                    out.insert(format!("{root}/{file}"), n);
                }
            }
        }
        out
    }

    #[test]
    fn osv_scanner_snapshot_counts() {
        // Differences, with the reason (docs/language-packages.md repeats them).
        let documented: BTreeMap<&str, usize> = BTreeMap::from([
            // osv-scanner adds `stdlib` from the `go` directive, a minimum language version
            // and not a toolchain anything was built with: one less each.
            ("call-analysis-go-project-all-uncalled/go.mod", 1),
            ("call-analysis-go-project/go.mod", 3),
            ("go-project/go.mod", 0),
            ("go-project/nested/go.mod", 0),
            // osv-scanner follows `-r requirements.txt`; that file is reported on its own.
            ("locks-requirements/requirements-transitive.txt", 1),
            // The PATH section is the project's own code, and the two platform builds of
            // nokogiri 1.18.2 are one package version.
            ("locks-scalibr/gems.locked", 24),
            // The virtual root project is reported, as Trivy does.
            ("locks-scalibr/uv.lock", 3),
        ]);
        let base = "osv-scanner/cmd-scan/cmd/osv-scanner/scan/source/testdata";
        let documented: BTreeMap<String, usize> = documented
            .into_iter()
            .map(|(k, v)| (format!("{base}/{k}"), v))
            .collect();
        let catalogers = language_catalogers();
        let mut compared = 0;
        let mut diffs = BTreeMap::new();
        for (file, want) in osv_scanner_counts() {
            let path = dockwatch_testdata::fixture(&file);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let image_path = format!("src/{}", file.rsplit("/testdata/").next().unwrap());
            let mut found = None;
            for c in &catalogers {
                if c.wants(&image_path) {
                    let mut set = FileSet::new();
                    set.insert(testkit::entry(&image_path, 0o644, bytes.clone()));
                    let out = c.catalog(&set, &CatalogContext::default());
                    *found.get_or_insert(0) += out.packages.len();
                }
            }
            let Some(found) = found else {
                continue; // not a file any language cataloger reads under this name
            };
            compared += 1;
            eprintln!("osv-scanner count compared: {file}: ours {found}, theirs {want}");
            if found != want {
                diffs.insert(file.clone(), found);
            }
        }
        assert_eq!(diffs, documented, "file -> our count, where it differs");
        assert!(compared > 20, "{compared}");
    }
}
