//! Tests of the layer reader on tars built here, including hostile ones.

use super::*;
use crate::catalog::{CatalogContext, CatalogOutput};
use crate::digest::sha256;
use std::io::Write;

/// Wants the dpkg status file by name and ELF executables by content.
struct TestCataloger;

impl Cataloger for TestCataloger {
    fn name(&self) -> &'static str {
        "test"
    }
    fn wants(&self, path: &str) -> bool {
        path == "var/lib/dpkg/status" || path.starts_with("var/lib/dpkg/status.d/")
    }
    fn wants_content(&self, _path: &str, mode: u32, head: &[u8]) -> bool {
        mode & 0o111 != 0 && head.starts_with(b"\x7fELF")
    }
    fn catalog(&self, _files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        CatalogOutput::default()
    }
}

fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(TestCataloger)]
}

/// Builds tars entry by entry; names are written raw so hostile ones survive.
struct TarBuilder(tar::Builder<Vec<u8>>);

impl TarBuilder {
    fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn entry(
        mut self,
        kind: tar::EntryType,
        name: &str,
        link: Option<&str>,
        data: &[u8],
        mode: u32,
    ) -> Self {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        let raw = &mut header.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            let raw = &mut header.as_old_mut().linkname;
            raw[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        self.0.append(&header, data).unwrap();
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(tar::EntryType::Regular, name, None, data, 0o644)
    }

    fn symlink(self, name: &str, target: &str) -> Self {
        self.entry(tar::EntryType::Symlink, name, Some(target), b"", 0o777)
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn read(bytes: &[u8]) -> Result<LayerIndex> {
    read_with(bytes, &Limits::default())
}

fn read_with(bytes: &[u8], limits: &Limits) -> Result<LayerIndex> {
    let catalogers = catalogers();
    read_layer(
        bytes,
        &Expected::default(),
        Selector::new(&catalogers),
        limits,
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn stack(layers: &[&LayerIndex]) -> FileSet {
    let mut fs = FileSet::new();
    for layer in layers {
        layer.apply(&mut fs);
    }
    fs
}

#[test]
fn keeps_wanted_files_and_symlinks_only() {
    let tar = TarBuilder::new()
        .file("./var/lib/dpkg/status", b"Package: a\n")
        .file("usr/share/doc/a/copyright", b"not wanted")
        .file("etc/os-release", b"ID=debian\n")
        .symlink("usr/lib/os-release", "../../etc/os-release")
        .entry(
            tar::EntryType::Regular,
            "usr/bin/tool",
            None,
            b"\x7fELF rest of it",
            0o755,
        )
        .entry(
            tar::EntryType::Regular,
            "usr/lib/libx.so",
            None,
            b"\x7fELF not executable",
            0o644,
        )
        .finish();
    let index = read(&tar).unwrap();
    let fs = stack(&[&index]);
    assert_eq!(index.entries, 6);
    assert_eq!(
        &*fs.get("var/lib/dpkg/status").unwrap().contents,
        b"Package: a\n"
    );
    assert!(fs.get("usr/share/doc/a/copyright").is_none());
    assert_eq!(
        &*fs.get("usr/lib/os-release").unwrap().contents,
        b"ID=debian\n"
    );
    assert_eq!(
        &*fs.get("usr/bin/tool").unwrap().contents,
        b"\x7fELF rest of it"
    );
    assert!(fs.get("usr/lib/libx.so").is_none());
    assert_eq!(index.diff_id, sha256(&tar));
    let layer = fs.get("var/lib/dpkg/status").unwrap().layer.clone();
    assert_eq!(layer.as_deref(), Some(index.diff_id.as_str()));
}

#[test]
fn gzip_zstd_and_plain_give_the_same_layer() {
    let tar = TarBuilder::new().file("var/lib/dpkg/status", b"x").finish();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    let gz = gzip(&tar);
    let plain = read(&tar).unwrap();
    for blob in [&gz, &zst] {
        let index = read(blob).unwrap();
        assert_eq!(index.diff_id, plain.diff_id);
        assert_eq!(index.digest, sha256(blob));
        assert_eq!(index.kept_files(), 1);
    }
    assert_eq!(Compression::detect(&gz), Compression::Gzip);
    assert_eq!(Compression::detect(&zst), Compression::Zstd);
}

#[test]
fn digest_and_diff_id_are_verified() {
    let tar = TarBuilder::new().file("var/lib/dpkg/status", b"x").finish();
    let gz = gzip(&tar);
    let catalogers = catalogers();
    let wrong = Expected {
        location: "sha256:test".into(),
        digest: Some(sha256(b"other")),
        diff_id: None,
    };
    let err = read_layer(
        &gz[..],
        &wrong,
        Selector::new(&catalogers),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::DigestMismatch { what: "layer", .. }),
        "{err}"
    );
    let wrong_diff = Expected {
        location: "sha256:test".into(),
        digest: Some(sha256(&gz)),
        diff_id: Some(sha256(b"other")),
    };
    let err = read_layer(
        &gz[..],
        &wrong_diff,
        Selector::new(&catalogers),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("diff id"), "{err}");
}

#[test]
fn whiteouts_plain_and_opaque_hide_lower_layers_only() {
    let lower = read(
        &TarBuilder::new()
            .file("var/lib/dpkg/status", b"old")
            .file("var/lib/dpkg/status.d/a", b"a")
            .file("var/lib/dpkg/status.d/b", b"b")
            .file("etc/os-release", b"ID=debian")
            .finish(),
    )
    .unwrap();
    let upper = read(
        &TarBuilder::new()
            .file("etc/.wh.os-release", b"")
            .file("var/lib/dpkg/status.d/.wh..wh..opq", b"")
            .file("var/lib/dpkg/status.d/c", b"c")
            .file("var/lib/dpkg/status", b"new")
            .finish(),
    )
    .unwrap();
    assert_eq!(upper.whiteouts(), ["etc/os-release"]);
    assert_eq!(upper.opaque_dirs(), ["var/lib/dpkg/status.d"]);
    let fs = stack(&[&lower, &upper]);
    assert!(fs.get("etc/os-release").is_none());
    assert!(fs.get("var/lib/dpkg/status.d/a").is_none());
    assert!(fs.get("var/lib/dpkg/status.d/c").is_some());
    let status = fs.get("var/lib/dpkg/status").unwrap();
    assert_eq!(&*status.contents, b"new");
    assert_eq!(status.layer.as_deref(), Some(upper.diff_id.as_str()));
    // The upper layer alone has no effect on itself: its own files survive its whiteouts.
    assert!(stack(&[&upper]).get("var/lib/dpkg/status.d/c").is_some());
}

#[test]
fn path_traversal_is_skipped_and_absolute_paths_stay_in_the_root() {
    let tar = TarBuilder::new()
        .file("../../var/lib/dpkg/status", b"escape")
        .file("var/../../var/lib/dpkg/status", b"escape too")
        .file("/var/lib/dpkg/status.d/abs", b"absolute")
        .finish();
    let index = read(&tar).unwrap();
    let fs = stack(&[&index]);
    assert!(fs.get("var/lib/dpkg/status").is_none());
    assert_eq!(
        &*fs.get("var/lib/dpkg/status.d/abs").unwrap().contents,
        b"absolute"
    );
    assert_eq!(index.warnings.len(), 2, "{:?}", index.warnings);
    assert!(index.warnings[0].message.contains("leaves the root"));
}

#[test]
fn absolute_and_looping_symlinks_resolve_inside_the_root() {
    let tar = TarBuilder::new()
        .file("real/status", b"inside")
        .symlink("var/lib/dpkg", "/real/../real")
        .symlink("etc/os-release", "/etc/os-release")
        .symlink("loop/a", "b")
        .symlink("loop/b", "a")
        .symlink("escape", "../../../../../real/status")
        .finish();
    let catalogers: Vec<Box<dyn Cataloger>> = vec![];
    let index = read_layer(
        &tar[..],
        &Expected::default(),
        Selector::new(&catalogers),
        &Limits::default(),
    )
    .unwrap();
    let fs = stack(&[&index]);
    // `real/status` is not wanted, so only symlinks are kept; resolution stays inside the root.
    assert_eq!(fs.resolve("var/lib/dpkg/status").unwrap(), "real/status");
    assert!(fs.get("etc/os-release").is_none());
    assert!(fs.resolve("loop/a").is_none());
    assert_eq!(fs.resolve("escape").unwrap(), "real/status");
}

#[test]
fn hardlinks_inside_are_followed_and_outside_skipped() {
    let tar = TarBuilder::new()
        .file("var/lib/dpkg/status.d/a", b"a")
        .entry(
            tar::EntryType::Link,
            "var/lib/dpkg/status",
            Some("var/lib/dpkg/status.d/a"),
            b"",
            0o644,
        )
        .entry(
            tar::EntryType::Link,
            "var/lib/dpkg/status.d/b",
            Some("../../../etc/shadow"),
            b"",
            0o644,
        )
        .entry(
            tar::EntryType::Link,
            "var/lib/dpkg/status.d/c",
            Some("etc/not-kept"),
            b"",
            0o644,
        )
        .finish();
    let index = read(&tar).unwrap();
    let fs = stack(&[&index]);
    assert_eq!(&*fs.get("var/lib/dpkg/status").unwrap().contents, b"a");
    assert!(fs.get("var/lib/dpkg/status.d/b").is_none());
    assert!(fs.get("var/lib/dpkg/status.d/c").is_none());
    assert_eq!(index.warnings.len(), 2, "{:?}", index.warnings);
}

#[test]
fn device_files_and_fifos_are_never_kept() {
    let tar = TarBuilder::new()
        .entry(
            tar::EntryType::Char,
            "var/lib/dpkg/status",
            None,
            b"",
            0o644,
        )
        .entry(
            tar::EntryType::Block,
            "var/lib/dpkg/status.d/sda",
            None,
            b"",
            0o644,
        )
        .entry(
            tar::EntryType::Fifo,
            "var/lib/dpkg/status.d/fifo",
            None,
            b"",
            0o644,
        )
        .finish();
    let index = read(&tar).unwrap();
    assert_eq!(index.entries, 3);
    assert_eq!(index.kept_files(), 0);
}

#[test]
fn gzip_bomb_stops_at_the_decompressed_limit() {
    // 64 MiB of zeros in one file compress to about 64 KiB.
    let zeros = vec![0u8; 64 << 20];
    let tar = TarBuilder::new()
        .file("var/lib/dpkg/status", &zeros)
        .finish();
    let bomb = gzip(&tar);
    assert!(bomb.len() < 1 << 20);
    let limits = Limits {
        max_uncompressed_layer_bytes: 8 << 20,
        ..Limits::default()
    };
    let err = read_with(&bomb, &limits).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{text}");
    assert!(
        text.contains("decompressed layer size") && text.contains("8 MiB"),
        "{text}"
    );
}

#[test]
fn oversized_wanted_files_are_skipped_with_a_warning() {
    let tar = TarBuilder::new()
        .file("var/lib/dpkg/status", &[b'x'; 4096])
        .finish();
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    let index = read_with(&tar, &limits).unwrap();
    assert_eq!(index.kept_files(), 0);
    assert!(
        index.warnings[0].message.contains("exceeds the limit"),
        "{:?}",
        index.warnings
    );
}

#[test]
fn entry_count_is_bounded() {
    let mut builder = TarBuilder::new();
    for i in 0..20 {
        builder = builder.file(&format!("f{i}"), b"");
    }
    let limits = Limits {
        max_layer_entries: 10,
        ..Limits::default()
    };
    let err = read_with(&builder.finish(), &limits).unwrap_err();
    assert!(err.to_string().contains("number of tar entries"), "{err}");
}

#[test]
fn garbage_is_a_clear_error_naming_the_layer() {
    let catalogers = catalogers();
    let expected = Expected {
        location: "sha256:feed".into(),
        ..Expected::default()
    };
    let mut garbage = vec![0x1f, 0x8b];
    garbage.extend_from_slice(b"definitely not gzip");
    let err = read_layer(
        &garbage[..],
        &expected,
        Selector::new(&catalogers),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("sha256:feed"), "{err}");
}

#[test]
fn normalize_rejects_traversal() {
    assert_eq!(normalize("./a//b/").as_deref(), Some("a/b"));
    assert_eq!(normalize("/etc/passwd").as_deref(), Some("etc/passwd"));
    assert_eq!(normalize("a/../b"), None);
}

#[test]
fn warnings_are_capped_per_layer() {
    let mut builder = TarBuilder::new();
    for i in 0..1000 {
        builder = builder.file(&format!("../escape{i}"), b"");
    }
    let index = read(&builder.finish()).unwrap();
    assert_eq!(index.warnings.len(), MAX_WARNINGS_PER_LAYER + 1);
    let last = &index.warnings.last().unwrap().message;
    assert!(last.ends_with("900 more entries skipped"), "{last}");
}

#[test]
fn a_symlink_or_file_replacing_a_lower_folder_hides_its_content() {
    let lower = read(
        &TarBuilder::new()
            .file("var/lib/dpkg/status.d/a", b"a")
            .file("var/lib/dpkg/status/x", b"x")
            .finish(),
    )
    .unwrap();
    let upper = read(
        &TarBuilder::new()
            .symlink("var/lib/dpkg/status.d", "/elsewhere")
            .file("var/lib/dpkg/status", b"now a file")
            .finish(),
    )
    .unwrap();
    let fs = stack(&[&lower, &upper]);
    let paths: Vec<_> = fs.files().map(|f| f.path.clone()).collect();
    assert_eq!(paths, ["var/lib/dpkg/status"]);
}

#[test]
fn executables_are_kept_as_summaries_whatever_their_size() {
    // Eight 4 MiB Go executables and one over the whole-file limit: the layer keeps a few
    // hundred bytes of each, and the Go cataloger still reads every module list.
    let modinfo = "path\texample.com/app\nmod\texample.com/app\tv1.0.0\th1:x=\ndep\tgithub.com/a/b\tv1.2.3\th1:y=\n";
    let mut go = b"\x7fELF".to_vec();
    go.resize(3 << 20, 0x90);
    go.extend(catalog::golang::buildinfo::tests::inline_blob(
        "go1.22.1", modinfo,
    ));
    go.resize(4 << 20, 0xcc);
    let mut tar = TarBuilder::new();
    for i in 0..8 {
        tar = tar.entry(
            tar::EntryType::Regular,
            &format!("usr/bin/app{i}"),
            None,
            &go,
            0o755,
        );
    }
    let catalogers = catalog::all();
    let limits = Limits {
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let bytes = tar.finish();
    let index = read_layer(
        &bytes[..],
        &Expected::default(),
        Selector::new(&catalogers),
        &limits,
    )
    .unwrap();
    assert!(index.warnings.is_empty(), "{:?}", index.warnings);
    let files = stack(&[&index]);
    assert_eq!(files.len(), 8);
    for file in files.files() {
        assert!(file.contents.len() < 512, "{} bytes", file.contents.len());
    }
    let out = catalog::golang::Golang.catalog(&files, &CatalogContext::default());
    let found: std::collections::BTreeSet<String> = out
        .packages
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [
            "example.com/app@v1.0.0",
            "github.com/a/b@v1.2.3",
            "stdlib@go1.22.1"
        ]
    );
    assert_eq!(out.packages.len(), 24);
}
