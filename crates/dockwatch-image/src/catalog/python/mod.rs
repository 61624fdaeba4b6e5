//! Python packages: installed distributions (`*.dist-info`, `*.egg-info`, `.egg` archives) and
//! the lockfiles and pinned requirement lists found in an image.

mod installed;
mod lockfiles;

use super::langpkg::{self, file_name};
use super::{CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileSet;

/// Finds Python packages.
#[derive(Debug, Default)]
pub struct Python;

/// The name recorded in each package's `found_by`.
const NAME: &str = "python";

impl Cataloger for Python {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants(&self, path: &str) -> bool {
        installed::wants(path) || lockfiles::kind(file_name(path)).is_some()
    }

    fn catalog(&self, files: &FileSet, _ctx: &CatalogContext) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        for entry in files.files() {
            let name = file_name(&entry.path);
            if let Some(kind) = lockfiles::kind(name) {
                lockfiles::parse(kind, entry, &mut out);
            } else if installed::is_metadata(&entry.path) {
                installed::parse(entry, files, &mut out);
            }
        }
        langpkg::finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::langpkg::testkit;
    use super::*;

    /// Compares what the Python cataloger finds in `fixtures` with `expected`.
    fn check(fixtures: &[(&str, &str)], expected: &[String], documented: &[&str]) -> CatalogOutput {
        testkit::compare(&Python, fixtures, expected, documented)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const TRIVY_REPO: &str = "trivy/integration/integration/testdata/fixtures/repo";

    #[test]
    fn trivy_pip_requirements() {
        check(
            &[(&format!("{TRIVY_REPO}/pip"), "app")],
            &testkit::trivy_golden("pip.json.golden"),
            &[],
        );
    }

    #[test]
    fn trivy_pipenv_lock() {
        check(
            &[(&format!("{TRIVY_REPO}/pipenv"), "app")],
            &testkit::trivy_golden("pipenv.json.golden"),
            &[],
        );
    }

    #[test]
    fn trivy_uv_lock() {
        check(
            &[(&format!("{TRIVY_REPO}/uv"), "app")],
            &testkit::trivy_golden("uv.json.golden"),
            &[],
        );
    }

    #[test]
    fn trivy_pylock() {
        check(
            &[(&format!("{TRIVY_REPO}/pylock"), "app")],
            &testkit::trivy_golden("pylock.json.golden"),
            &[],
        );
    }

    #[test]
    fn peer_corpora_are_never_silently_empty() {
        let fx = "osv-scanner/lockfile-v1/pkg/lockfile/fixtures";
        let scalibr = "osv-scalibr/lang/extractor/filesystem/language/python";
        let n = testkit::never_silently_empty(
            &Python,
            &[
                (
                    "trivy/lang/pkg/dependency/parser/python/pip",
                    ".txt",
                    "requirements.txt",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/python/poetry",
                    ".lock",
                    "poetry.lock",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/python/pipenv",
                    ".lock",
                    "Pipfile.lock",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/python/uv",
                    ".lock",
                    "uv.lock",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/python/packaging",
                    "METADATA",
                    "x.dist-info/METADATA",
                ),
                (
                    "trivy/lang/pkg/dependency/parser/python/packaging",
                    "PKG-INFO",
                    "x.egg-info/PKG-INFO",
                ),
                ("trivy/lang/pkg/fanal/analyzer/language/python", "", ""),
                (
                    "trivy/lang/pkg/fanal/analyzer/testdata/post-apps/poetry",
                    "",
                    "",
                ),
                (&format!("{fx}/pip"), ".txt", "requirements.txt"),
                (&format!("{fx}/pipenv"), ".json", "Pipfile.lock"),
                (&format!("{fx}/poetry"), ".lock", "poetry.lock"),
                (&format!("{scalibr}/pipfilelock"), ".json", "Pipfile.lock"),
                (&format!("{scalibr}/poetrylock"), ".lock", "poetry.lock"),
                (&format!("{scalibr}/uvlock"), ".lock", "uv.lock"),
                (&format!("{scalibr}/wheelegg"), "", ""),
                ("syft/lang/syft/pkg/cataloger/python/testdata", "", ""),
            ],
            &[
                // Empty or comment-only files; RECORD alone is only evidence.
                "pip/testdata/empty/requirements.txt",
                "pip/empty.txt",
                "pip/only-comments.txt",
                "/RECORD",
            ],
        );
        assert!(n > 50, "{n}");
    }

    /// The distributions Python's own `importlib.metadata` finds in `dir`, as `name@version`.
    fn importlib_view(dir: &str) -> Vec<String> {
        let script = "import importlib.metadata as m, sys\nfor d in m.distributions(path=[sys.argv[1]]):\n    print(str(d.metadata['Name']) + '@' + str(d.version))";
        testkit::command_lines("python3", &["-c", script, dir])
    }

    #[test]
    fn peer_site_packages_match_importlib() {
        // Peer fixture folders laid out like site-packages: the distributions directly in
        // each, as Python's own importlib.metadata lists them, are the ones found there.
        let dirs = [
            "syft/lang/syft/pkg/cataloger/python/testdata/site-packages",
            "syft/lang/syft/pkg/cataloger/python/testdata/site-packages/license",
            "syft/lang/syft/pkg/cataloger/python/testdata/site-packages/test",
            "syft/lang/syft/pkg/cataloger/python/testdata/site-packages/no-version",
            "trivy/lang/pkg/fanal/analyzer/language/python/packaging/testdata/classifier-license-dist",
            "trivy/lang/pkg/fanal/analyzer/language/python/packaging/testdata/classifier-license-egg",
            "trivy/lang/pkg/fanal/analyzer/language/python/packaging/testdata/happy-dist",
            "trivy/lang/pkg/fanal/analyzer/language/python/packaging/testdata/happy-egg",
        ];
        // importlib lists a distribution without a version as `name@None`; we warn instead.
        let documented: &[(&str, &[&str])] = &[(
            "syft/lang/syft/pkg/cataloger/python/testdata/site-packages/no-version",
            &["-no-version@None"],
        )];
        for dir in dirs {
            let set = testkit::fileset(&Python, &[(dir, "site")]);
            let mut out = Python.catalog(&set, &CatalogContext::default());
            // Only what sits directly in the folder (`site/<dist>/<file>` or `site/<x>.egg-info`).
            out.packages.retain(|p| {
                let rel = p.locations[0].path.trim_start_matches("/site/");
                let parts: Vec<&str> = rel.split('/').collect();
                parts.len() == 1
                    || (parts.len() == 2
                        && (parts[0].ends_with(".dist-info") || parts[0].ends_with(".egg-info")))
            });
            let _ = dockwatch_testdata::fixture(dir);
            let roots: Vec<String> = [
                dockwatch_testdata::shared_fixtures().join(dir),
                dockwatch_testdata::unpacked_dir().join(dir),
            ]
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
            let mut expected = Vec::new();
            for root in &roots {
                expected.extend(importlib_view(root));
            }
            expected.sort();
            expected.dedup();
            let diffs = documented
                .iter()
                .find(|(d, _)| *d == dir)
                .map_or(&[][..], |(_, diffs)| *diffs);
            testkit::assert_same(&out, &expected, diffs);
        }
    }

    #[test]
    fn syft_upper_case_and_bare_metadata_folders() {
        // Syft's fixtures for folders named `EGG-INFO`, `DIST-INFO`, `egg-info`, `dist-info`.
        let base = "syft/lang/syft/pkg/cataloger/python/testdata/site-packages";
        let out = check(
            &[
                (&format!("{base}/uppercase"), "a"),
                (&format!("{base}/nested"), "b"),
            ],
            &names(&["Pygments@2.6.1", "requests@2.22.0"]),
            &[],
        );
        assert_eq!(out.packages.len(), 4, "{:?}", out.packages);
        let with_record = out
            .packages
            .iter()
            .filter(|p| p.locations.len() == 2)
            .count();
        assert_eq!(with_record, 2, "dist-info folders bring their RECORD");
    }

    #[test]
    fn real_pip_installed_site_packages_match_importlib() {
        // The interpreter's own site-packages (filled by pip) and Debian's dist-packages (filled
        // by dpkg: egg-info files and folders, dist-info folders): the same distributions as
        // Python itself lists.
        let mut dirs = testkit::command_lines(
            "python3",
            &[
                "-c",
                "import site\nfor d in site.getsitepackages(): print(d)",
            ],
        );
        dirs.push("/usr/lib/python3/dist-packages".into());
        dirs.sort();
        dirs.dedup();
        let mut compared = 0;
        for dir in dirs.iter().filter(|d| std::path::Path::new(d).is_dir()) {
            let expected = importlib_view(dir);
            if expected.is_empty() {
                continue;
            }
            let mut set = FileSet::new();
            testkit::add_tree(
                &Python,
                &mut set,
                std::path::Path::new(dir),
                "usr/lib/python3/site-packages",
            );
            let out = Python.catalog(&set, &CatalogContext::default());
            testkit::assert_same(&out, &expected, &[]);
            compared += expected.len();
        }
        assert!(compared > 3, "{dirs:?}");
    }

    #[test]
    fn installed_dist_info_with_classifier_license_and_record() {
        let out = check(
            &[(
                "trivy/lang/pkg/fanal/analyzer/language/python/packaging/testdata/classifier-license-dist",
                "usr/lib/python3/site-packages",
            )],
            &names(&["setuptools@51.3.3"]),
            &[],
        );
        assert_eq!(out.packages[0].licenses, ["MIT"]);
        assert_eq!(out.packages[0].purl, "pkg:pypi/setuptools@51.3.3");
    }

    #[test]
    fn installed_egg_info_and_egg_archive() {
        let base = "trivy/lang/pkg/fanal/analyzer/language/python/packaging/testdata";
        let out = check(
            &[
                (&format!("{base}/happy-egg"), "site-packages"),
                (
                    &format!("{base}/egg-zip-with-license-file"),
                    "site-packages",
                ),
            ],
            &names(&["distlib@0.3.1", "sample_package@0.1"]),
            &[],
        );
        let distlib = out.packages.iter().find(|p| p.name == "distlib").unwrap();
        assert_eq!(distlib.licenses, ["Python license"]);
    }
}
