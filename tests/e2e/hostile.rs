//! Hostile images through the real binary (and the library where the kept files are counted):
//! traversal, absolute and looping symlinks, hardlinks out of the tree, devices, a gzip bomb, a
//! million tiny files, a 100 GB layer claim, tampered blobs and digests naming paths.

use super::image::layout;
use dockwatch_image::catalog::{CatalogContext, CatalogOutput, Cataloger};
use dockwatch_image::fs::FileSet;
use dockwatch_image::source::SourceSpec;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn dockwatch(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dockwatch"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Appends an entry whose name and link name are written raw, so hostile names survive.
fn raw_entry<W: Write>(
    builder: &mut tar::Builder<W>,
    kind: tar::EntryType,
    name: &str,
    link: &str,
    data: &[u8],
) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

/// An OCI layout at `root` with one gzip layer made of `tar`.
fn layout_with(root: &Path, tar: &[u8]) {
    layout::single_layer(root, &layout::gzip(tar), &layout::sha256(tar), None);
}

#[test]
fn hostile_entries_are_skipped_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    raw_entry(
        &mut b,
        tar::EntryType::Regular,
        "../../escaped-file",
        "",
        b"x",
    );
    raw_entry(
        &mut b,
        tar::EntryType::Regular,
        "/usr/lib/os-release",
        "",
        b"ID=hostile\nVERSION_ID=1\n",
    );
    raw_entry(
        &mut b,
        tar::EntryType::Symlink,
        "etc/os-release",
        "/../../../../usr/lib/os-release",
        b"",
    );
    raw_entry(&mut b, tar::EntryType::Symlink, "loop/a", "/loop/b", b"");
    raw_entry(&mut b, tar::EntryType::Symlink, "loop/b", "../loop/a", b"");
    raw_entry(
        &mut b,
        tar::EntryType::Link,
        "etc/shadow-copy",
        "../../../../etc/shadow",
        b"",
    );
    raw_entry(&mut b, tar::EntryType::Char, "dev/null", "", b"");
    raw_entry(&mut b, tar::EntryType::Block, "dev/sda", "", b"");
    raw_entry(&mut b, tar::EntryType::Fifo, "run/fifo", "", b"");
    let oci = tmp.path().join("oci");
    layout_with(&oci, &b.into_inner().unwrap());
    let out = dockwatch(
        &[
            "sbom",
            &format!("oci-dir:{}", oci.display()),
            "--format",
            "json",
        ],
        &cwd,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The os-release behind an absolute symlink that climbs above the root is still found.
    assert_eq!(json["distro"]["id"], "hostile");
    let err = stderr(&out);
    assert!(err.contains("leaves the root"), "{err}");
    assert!(!tmp.path().join("escaped-file").exists());
    assert!(!Path::new("/escaped-file").exists());
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "the tool wrote into its working folder"
    );
}

#[test]
fn declared_100_gb_layer_is_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = tar::Builder::new(Vec::new()).into_inner().unwrap();
    let blob = layout::gzip(&tar);
    layout::single_layer(tmp.path(), &blob, &layout::sha256(&tar), Some(100 << 30));
    // The blob is gone: refusing must not need it.
    std::fs::remove_file(
        tmp.path()
            .join("blobs/sha256")
            .join(&layout::sha256(&blob)["sha256:".len()..]),
    )
    .unwrap();
    let out = dockwatch(
        &["sbom", &format!("oci-dir:{}", tmp.path().display())],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("declared layer size")
            && err.contains("16 GiB")
            && err.contains("107374182400"),
        "{err}"
    );
    let out = dockwatch(
        &[
            "sbom",
            &format!("oci-dir:{}", tmp.path().display()),
            "--max-layer-size",
            "200GiB",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read"),
        "with a higher limit the missing blob is reached: {}",
        stderr(&out)
    );
}

#[test]
fn gzip_bomb_stops_at_the_configured_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let zeros = vec![0u8; 64 << 20];
    raw_entry(
        &mut b,
        tar::EntryType::Regular,
        "var/lib/dpkg/status",
        "",
        &zeros,
    );
    let tar = b.into_inner().unwrap();
    let blob = layout::gzip(&tar);
    assert!(blob.len() < 1 << 20, "a bomb: {} bytes", blob.len());
    layout::single_layer(tmp.path(), &blob, &layout::sha256(&tar), None);
    let out = dockwatch(
        &[
            "sbom",
            &format!("oci-dir:{}", tmp.path().display()),
            "--max-decompressed-size",
            "4MiB",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("decompressed layer size exceeds the limit of 4 MiB"),
        "{err}"
    );
    assert!(
        err.contains(&layout::sha256(&blob)),
        "names the layer: {err}"
    );
}

#[test]
fn tampered_blobs_and_path_digests_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    raw_entry(
        &mut b,
        tar::EntryType::Regular,
        "etc/os-release",
        "",
        b"ID=x\n",
    );
    let tar = b.into_inner().unwrap();
    let blob = layout::gzip(&tar);
    layout::single_layer(tmp.path(), &blob, &layout::sha256(&tar), None);
    let blob_path = tmp
        .path()
        .join("blobs/sha256")
        .join(&layout::sha256(&blob)["sha256:".len()..]);
    // A valid gzip layer, but not the one the manifest names.
    let mut other = tar::Builder::new(Vec::new());
    raw_entry(
        &mut other,
        tar::EntryType::Regular,
        "etc/os-release",
        "",
        b"ID=y\n",
    );
    std::fs::write(&blob_path, layout::gzip(&other.into_inner().unwrap())).unwrap();
    let source = format!("oci-dir:{}", tmp.path().display());
    let out = dockwatch(&["sbom", &source], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));

    // A manifest whose config "digest" is a path outside the layout.
    let evil = tempfile::tempdir().unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": layout::descriptor("application/vnd.oci.image.config.v1+json", "sha256:../../../../etc/passwd", 10),
        "layers": [],
    });
    let (m, s) = layout::blob(evil.path(), &serde_json::to_vec(&manifest).unwrap());
    layout::index_json(
        evil.path(),
        "application/vnd.oci.image.manifest.v1+json",
        &m,
        s,
        "x",
    );
    let out = dockwatch(
        &["sbom", &format!("oci-dir:{}", evil.path().display())],
        evil.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("malformed manifest") && err.contains("../../../../etc/passwd"),
        "{err}"
    );
    assert!(!err.contains("root:"), "{err}");
}

#[test]
fn docker_archive_members_outside_the_archive_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("evil.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let config = layout::config("amd64", &["sha256:00".to_owned()]);
    let manifest = serde_json::json!([{"Config": "config.json", "RepoTags": ["evil:1"], "Layers": ["../../../etc/passwd"]}]);
    raw_entry(
        &mut b,
        tar::EntryType::Regular,
        "manifest.json",
        "",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    raw_entry(&mut b, tar::EntryType::Regular, "config.json", "", &config);
    b.finish().unwrap();
    let out = dockwatch(
        &["sbom", &format!("docker-archive:{}", path.display())],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is missing"), "{}", stderr(&out));
}

/// Keeps a handful of files by name, like a real cataloger among a million others.
struct FewWanted;

impl Cataloger for FewWanted {
    fn name(&self) -> &'static str {
        "few"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with("/wanted")
    }
    fn catalog(&self, _files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        CatalogOutput::default()
    }
}

/// Hashes what is written through it (the diff id of a tar written once, straight to gzip).
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn a_million_tiny_files_keep_only_the_wanted_ones_in_bounded_memory() {
    const FILES: u32 = 1_000_000;
    let tmp = tempfile::tempdir().unwrap();
    let gz_path = tmp.path().join("layer.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut b = tar::Builder::new(HashingWriter {
        inner: gz,
        hasher: Sha256::new(),
    });
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(1);
    for i in 0..FILES {
        let name = if i % 250_000 == 0 {
            format!("d{i}/wanted")
        } else {
            format!("d{}/f{i}", i % 1000)
        };
        b.append_data(&mut header, name, &b"x"[..]).unwrap();
    }
    let writer = b.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(writer.hasher.finalize()));
    writer.inner.finish().unwrap();
    let blob = std::fs::read(&gz_path).unwrap();
    let oci = tmp.path().join("oci");
    layout::single_layer(&oci, &blob, &diff_id, None);
    drop(blob);

    let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(FewWanted)];
    let analysis = dockwatch_image::analyze_with(
        &SourceSpec::OciDir(oci.clone()),
        &Default::default(),
        &catalogers,
    )
    .unwrap();
    assert_eq!(analysis.files.len(), 4, "only the wanted files are kept");

    // Peak memory of the real binary on the same layer, when GNU time is there to measure it.
    if Path::new("/usr/bin/time").exists() {
        let out = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_dockwatch"))
            .args([
                "sbom",
                &format!("oci-dir:{}", oci.display()),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        let kib: u64 = err
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok())
            .expect("GNU time reports the peak");
        assert!(
            kib < 200 * 1024,
            "peak memory {kib} KiB for a million tiny files"
        );
    }
}
