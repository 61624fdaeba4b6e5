//! The real version-ordering vectors of osv-scalibr (`a op b` per ecosystem) and claircore (rpm
//! NEVRA and rpmvercmp), one data-driven test per set. The few vectors we knowingly order
//! differently are listed here and, with the reason, in `docs/version-comparison.md`.

use std::cmp::Ordering;
use std::path::Path;

use super::{Scheme, compare, rpm};

/// osv-scalibr vectors we order differently, as `(file, line text)`; see the doc for why.
const OSV_SCALIBR_KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    // Junk after an apk revision: these five cannot all hold in one total order.
    ("alpine-versions.txt", "1-r0-1 = 1-r-2"),
    ("alpine-versions.txt", "1-r0-1 = 1-r0-2"),
    ("alpine-versions.txt", "1-ruff2 = 1-ruff1"),
    ("alpine-versions.txt", "1-ruff2 = 1--ruff1"),
    ("alpine-versions.txt", "1-r0-ruff2 = 1-r0-ruff1"),
    // Maven 3.8's ComparableVersion keeps `-ga-1` a level deeper than `-1`.
    ("maven-versions.txt", "1-1 = 1-ga-1"),
];

/// The osv-scalibr files of ecosystems Dockwatch has no scheme for.
const OSV_SCALIBR_OTHER_ECOSYSTEMS: &[&str] = &["cran", "hackage", "pub"];

/// One vector: `a op b` at `line` of `file`.
struct Vector<'a> {
    file: &'a str,
    line: usize,
    text: &'a str,
    a: &'a str,
    op: Ordering,
    b: &'a str,
}

/// The vectors of one file: blank lines and `#` or `//` comments skipped.
fn vectors<'a>(file: &'a str, content: &'a str) -> Vec<Vector<'a>> {
    content
        .lines()
        .enumerate()
        .filter(|(_, text)| {
            let t = text.trim();
            !(t.is_empty() || t.starts_with('#') || t.starts_with("//"))
        })
        .map(|(index, text)| {
            let fields: Vec<&str> = text.split_whitespace().collect();
            let [a, op, b] = fields[..] else {
                panic!("{file}:{}: not `a op b`: {text:?}", index + 1);
            };
            let op = match op {
                "<" => Ordering::Less,
                ">" => Ordering::Greater,
                "=" | "==" => Ordering::Equal,
                other => panic!("{file}:{}: unknown operator {other:?}", index + 1),
            };
            Vector {
                file,
                line: index + 1,
                text,
                a,
                op,
                b,
            }
        })
        .collect()
}

/// Checks one vector both ways round with `cmp`; the failure says where and what.
fn check(
    vector: &Vector<'_>,
    cmp: impl Fn(&str, &str) -> Result<Ordering, String>,
) -> Result<(), String> {
    let forward = cmp(vector.a, vector.b);
    let backward = cmp(vector.b, vector.a);
    if forward == Ok(vector.op) && backward == Ok(vector.op.reverse()) {
        return Ok(());
    }
    Err(format!(
        "{}:{}: {:?}: got {forward:?} / reversed {backward:?}",
        vector.file, vector.line, vector.text
    ))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn scheme_for_osv_scalibr_file(name: &str) -> Option<Scheme> {
    let ecosystem = name.split('-').next().unwrap_or(name);
    Some(match ecosystem {
        "alpine" => Scheme::Apk,
        "debian" => Scheme::Deb,
        "redhat" => Scheme::Rpm,
        "semver" => Scheme::Semver,
        "pypi" => Scheme::Pep440,
        "maven" => Scheme::Maven,
        "rubygems" => Scheme::Gem,
        "nuget" => Scheme::Nuget,
        "packagist" => Scheme::Composer,
        other => {
            assert!(
                OSV_SCALIBR_OTHER_ECOSYSTEMS.contains(&other),
                "new osv-scalibr vector file {name}: give it a scheme or list it as other"
            );
            return None;
        }
    })
}

#[test]
fn osv_scalibr_vectors() {
    let dir = dockwatch_testdata::fixture("osv-scalibr/version-compare/semantic/testdata");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for name in &names {
        let Some(scheme) = scheme_for_osv_scalibr_file(name) else {
            continue;
        };
        let content = read(&dir.join(name));
        for vector in vectors(name, &content) {
            checked += 1;
            let known = OSV_SCALIBR_KNOWN_DIFFERENCES.contains(&(name.as_str(), vector.text));
            let result = check(&vector, |a, b| {
                compare(scheme, a, b).map_err(|e| e.to_string())
            });
            match (result, known) {
                (Ok(()), true) => {
                    failures.push(format!("{name}: {:?} now passes: unlist it", vector.text))
                }
                (Err(failure), false) => failures.push(failure),
                _ => {}
            }
        }
    }
    assert!(
        checked > 50_000,
        "only {checked} vectors found in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A claircore NEVRA: `[name-][epoch:]version-release[.arch]`, the arch known by name.
#[derive(Debug, PartialEq, Eq)]
struct Nevra<'a> {
    name: Option<&'a str>,
    epoch: Option<&'a str>,
    version: &'a str,
    release: Option<&'a str>,
    arch: Option<&'a str>,
}

const ARCHES: &[&str] = &[
    "noarch", "x86_64", "aarch64", "i386", "i686", "ppc64le", "s390x", "riscv", "riscv64", "src",
];

fn nevra(text: &str) -> Nevra<'_> {
    let (head, arch) = match text.rsplit_once('.') {
        Some((head, arch)) if ARCHES.contains(&arch) => (head, Some(arch)),
        _ => (text, None),
    };
    let mut parts = head.rsplitn(3, '-');
    let last = parts.next().expect("rsplitn yields one");
    let (name, version, release) = match (parts.next(), parts.next()) {
        (Some(version), name) => (name, version, Some(last)),
        (None, _) => (None, last, None),
    };
    let (epoch, version) = match version.split_once(':') {
        Some((epoch, version)) => (Some(epoch), version),
        None => (None, version),
    };
    Nevra {
        name,
        epoch,
        version,
        release,
        arch,
    }
}

/// Orders NEVRAs as claircore does: name, then EVR with our rpm scheme, then arch; an absent
/// name or arch sorts first.
fn cmp_nevra(a: &str, b: &str) -> Result<Ordering, String> {
    let (x, y) = (nevra(a), nevra(b));
    let evr = |n: &Nevra<'_>| {
        format!(
            "{}:{}{}",
            n.epoch.unwrap_or("0"),
            n.version,
            n.release.map(|r| format!("-{r}")).unwrap_or_default()
        )
    };
    let evrs = compare(Scheme::Rpm, &evr(&x), &evr(&y)).map_err(|e| e.to_string())?;
    Ok(x.name.cmp(&y.name).then(evrs).then(x.arch.cmp(&y.arch)))
}

#[test]
fn claircore_rpm_vectors() {
    let dir = dockwatch_testdata::fixture("claircore/version-compare/internal/rpmver/testdata");
    let mut failures = Vec::new();
    let content = read(&dir.join("rpmvercmp"));
    let segment_vectors = vectors("rpmvercmp", &content);
    for vector in &segment_vectors {
        let result = check(vector, |a, b| {
            Ok(rpm::rpmvercmp(a.as_bytes(), b.as_bytes()))
        });
        failures.extend(result.err());
        // Without `-` or a leading `N:`, the scheme's EVR reading must agree.
        let result = check(vector, |a, b| {
            compare(Scheme::Rpm, a, b).map_err(|e| e.to_string())
        });
        failures.extend(result.err());
    }
    let content = read(&dir.join("compare"));
    let nevra_vectors = vectors("compare", &content);
    for vector in &nevra_vectors {
        failures.extend(check(vector, cmp_nevra).err());
    }
    // The parse vectors check the NEVRA reading used above.
    for line in read(&dir.join("parse"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        let opt = |s: &str| (s != "''" && s != "\"\"").then(|| s.to_owned());
        let got = nevra(f[0]);
        let want = (opt(f[1]), opt(f[2]), f[3].to_owned(), opt(f[4]), opt(f[5]));
        let got = (
            got.name.map(str::to_owned),
            got.epoch.map(str::to_owned),
            got.version.to_owned(),
            got.release.map(str::to_owned),
            got.arch.map(str::to_owned),
        );
        if got != want {
            failures.push(format!("parse {line:?}: got {got:?}"));
        }
    }
    assert!(segment_vectors.len() > 100 && nevra_vectors.len() > 10);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
