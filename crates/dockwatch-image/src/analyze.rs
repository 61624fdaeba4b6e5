//! The pipeline: a source → its layers read in parallel (each distinct layer once) → merged in
//! order into the final [`FileSet`] → os-release → every cataloger → a sorted [`Sbom`].

use crate::catalog::{self, CatalogContext, Cataloger, Warning};
use crate::error::{Error, Result};
use crate::fs::FileSet;
use crate::layer::{self, Expected, LayerIndex, Selector};
use crate::sbom::{Sbom, SourceInfo};
use crate::source::{self, ImageSource, Opened, SourceOptions, SourceSpec, dir, manifest};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How to analyze.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How to open the source (platform, `--insecure`, limits).
    pub source: SourceOptions,
    /// How many layers to read at once; `None` means one per CPU.
    pub threads: Option<usize>,
}

/// The outcome of an analysis: the SBOM, and the kept files it was made from.
#[derive(Debug)]
pub struct Analysis {
    /// The SBOM.
    pub sbom: Sbom,
    /// The final filesystem as the catalogers saw it.
    pub files: FileSet,
}

/// Analyzes `spec` with every cataloger.
pub fn analyze(spec: &SourceSpec, options: &Options) -> Result<Sbom> {
    analyze_with(spec, options, &catalog::all()).map(|a| a.sbom)
}

/// Analyzes `spec` with the given catalogers.
pub fn analyze_with(
    spec: &SourceSpec,
    options: &Options,
    catalogers: &[Box<dyn Cataloger>],
) -> Result<Analysis> {
    let selector = Selector::new(catalogers);
    let limits = &options.source.limits;
    let (info, files, mut warnings) = match source::open(spec, &options.source)? {
        Opened::Dir(path) => {
            let (files, warnings) = dir::read_dir(&path, selector, limits)?;
            let info = SourceInfo {
                kind: "dir".into(),
                name: path.display().to_string(),
                ..SourceInfo::default()
            };
            (info, files, warnings)
        }
        Opened::Image(image) => {
            let (files, warnings) = read_image(image.as_ref(), selector, options)?;
            (image.info().clone(), files, warnings)
        }
    };
    let distro = catalog::os_release::detect(&files);
    let context = CatalogContext {
        distro: distro.clone(),
    };
    let mut packages = Vec::new();
    for cataloger in catalogers {
        let output = cataloger.catalog(&files, &context);
        tracing::debug!(
            cataloger = cataloger.name(),
            packages = output.packages.len(),
            "Cataloged."
        );
        packages.extend(output.packages);
        warnings.extend(output.warnings);
    }
    packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    warnings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    warnings.dedup();
    Ok(Analysis {
        sbom: Sbom {
            source: info,
            distro,
            packages,
            warnings,
        },
        files,
    })
}

/// Reads every distinct layer of `image` (in parallel) and stacks them into the final filesystem.
pub fn read_image(
    image: &dyn ImageSource,
    selector: Selector<'_>,
    options: &Options,
) -> Result<(FileSet, Vec<Warning>)> {
    let info = image.info();
    let limits = &options.source.limits;
    manifest::check_layer_sizes(info, limits.max_layer_bytes, &info.name)?;
    // Layers shared within an image (the same blob twice) are read once.
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut distinct = Vec::new();
    let order: Vec<usize> = info
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            *position.entry(layer.digest.as_str()).or_insert_with(|| {
                distinct.push(i);
                distinct.len() - 1
            })
        })
        .collect();
    let indexes = read_distinct(image, &distinct, selector, options)?;
    let mut files = FileSet::new();
    let mut warnings = Vec::new();
    for index in &indexes {
        warnings.extend(index.warnings.iter().cloned());
    }
    for pos in order {
        indexes[pos].apply(&mut files);
    }
    Ok((files, warnings))
}

fn read_distinct(
    image: &dyn ImageSource,
    distinct: &[usize],
    selector: Selector<'_>,
    options: &Options,
) -> Result<Vec<LayerIndex>> {
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .clamp(1, distinct.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<LayerIndex>>>> =
        Mutex::new((0..distinct.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= distinct.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let result = read_one(image, distinct[i], selector, options);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    results.lock().expect("no worker panics holding the lock")[i] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().expect("workers finished");
    let mut indexes = Vec::with_capacity(results.len());
    // Layers not started after another failed are `None`; the first error in order is returned.
    for result in results.into_iter().flatten() {
        indexes.push(result?);
    }
    if indexes.len() != distinct.len() {
        return Err(Error::Malformed {
            what: "image",
            location: image.info().name.clone(),
            reason: "a layer could not be read".into(),
        });
    }
    Ok(indexes)
}

fn read_one(
    image: &dyn ImageSource,
    index: usize,
    selector: Selector<'_>,
    options: &Options,
) -> Result<LayerIndex> {
    let layer = &image.info().layers[index];
    let started = std::time::Instant::now();
    let stream = image.open_layer(index)?;
    let expected = Expected {
        location: layer.digest.clone(),
        digest: stream.digest,
        diff_id: Some(layer.diff_id.clone()),
    };
    let result = layer::read_layer(stream.reader, &expected, selector, &options.source.limits)?;
    tracing::debug!(
        layer = %layer.digest,
        entries = result.entries,
        kept = result.kept_files(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Read a layer."
    );
    Ok(result)
}
