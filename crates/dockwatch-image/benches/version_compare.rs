//! Benchmark of `version::compare`, the matcher's hot path: nanoseconds per comparison for
//! each scheme on typical advisory-versus-installed pairs. Run with
//! `cargo bench -p dockwatch-image --bench version_compare` (`SCHEME=Deb` for one scheme,
//! `ROUNDS=N` to change the length).

use std::hint::black_box;
use std::time::Instant;

use dockwatch_image::version::{Scheme, compare};

/// Typical pairs: an installed version against an advisory's fixed version.
fn pairs(scheme: Scheme) -> &'static [(&'static str, &'static str)] {
    match scheme {
        Scheme::Deb => &[
            ("1.1.1n-0+deb11u5", "1.1.1w-0+deb11u1"),
            ("2:8.2.2434-3+deb11u1", "2:8.2.2434-3+deb11u2"),
            ("7.74.0-1.3+deb11u7", "7.74.0-1.3+deb11u7"),
            ("1.0~rc1-1", "1.0-1"),
        ],
        Scheme::Rpm => &[
            ("1:1.1.1k-9.el8_7", "1:1.1.1k-12.el8_9"),
            ("2.28-225.el8", "2.28-225.el8_8.6"),
            ("3.6.8-51.el8_8.1", "3.6.8-56.el8_9"),
            ("1.0^git1-1.fc39", "1.0-1.fc39"),
        ],
        Scheme::Apk => &[
            ("3.1.4-r5", "3.1.4-r6"),
            ("1.36.1-r15", "1.36.1-r19"),
            ("8.5.0_rc1-r0", "8.5.0-r0"),
            ("1.9.5p2-r0", "1.9.13_p2-r0"),
        ],
        Scheme::Semver => &[
            ("4.17.20", "4.17.21"),
            ("1.0.0-beta.11", "1.0.0-rc.1"),
            ("0.21.1", "1.6.0"),
            ("2.0.0", "0"),
        ],
        Scheme::Go => &[
            ("v0.0.0-20220722155217-630584e8d5aa", "0.1.0"),
            ("v1.2.4-0.20191109021931-daa7c04131f5", "1.2.4"),
            ("v2.1.0+incompatible", "2.1.1"),
            ("v0.17.0", "0.17.0"),
        ],
        Scheme::Pep440 => &[
            ("2.28.1", "2.31.0"),
            ("1.26.0rc1", "1.26.0"),
            ("3.2.post1", "3.2.1.dev0"),
            ("1!1.0", "2.0"),
        ],
        Scheme::Maven => &[
            ("2.14.1", "2.15.0-rc1"),
            ("5.3.18.RELEASE", "5.3.20"),
            ("1.2.17", "2.0-beta9"),
            ("9.4.43.v20210629", "9.4.44.v20210927"),
        ],
        Scheme::Gem => &[
            ("6.1.4.1", "6.1.7.1"),
            ("1.13.10", "1.14.0.rc1"),
            ("2.0.0.pre.3", "2.0.0"),
            ("3.0", "3.0.0"),
        ],
        Scheme::Nuget => &[
            ("13.0.1", "13.0.3"),
            ("4.7.0-preview.1", "4.7.0"),
            ("1.0.0.1", "1.0.0"),
            ("6.0.0-RC.2", "6.0.0-rc.10"),
        ],
        Scheme::Composer => &[
            ("5.4.30", "5.4.31"),
            ("v2.1.0-beta2", "2.1.0"),
            ("1.0.0-RC1", "1.0.0-rc2"),
            ("dev-main", "1.0.0"),
        ],
    }
}

const SCHEMES: [Scheme; 10] = [
    Scheme::Deb,
    Scheme::Rpm,
    Scheme::Apk,
    Scheme::Semver,
    Scheme::Go,
    Scheme::Pep440,
    Scheme::Maven,
    Scheme::Gem,
    Scheme::Nuget,
    Scheme::Composer,
];

fn main() {
    // `SCHEME=Deb` measures one scheme (for profiling).
    let only = std::env::var("SCHEME").ok();
    let schemes: Vec<Scheme> = SCHEMES
        .into_iter()
        .filter(|s| only.as_ref().is_none_or(|o| *o == format!("{s:?}")))
        .collect();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    // Warm up (CPU frequency, caches) so the first scheme is not penalised.
    for &scheme in &schemes {
        for _ in 0..rounds / 2 {
            for (a, b) in pairs(scheme) {
                black_box(compare(scheme, black_box(a), black_box(b)).ok());
            }
        }
    }
    println!("{:<10} {:>12} {:>14}", "scheme", "ns/compare", "compares/s");
    for &scheme in &schemes {
        let pairs = pairs(scheme);
        for (a, b) in pairs {
            compare(scheme, a, b).unwrap_or_else(|e| panic!("benchmark pair: {e}"));
        }
        // Best of five runs: the machine is shared, and the minimum is the least disturbed.
        let elapsed = (0..5)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..rounds {
                    for (a, b) in pairs {
                        black_box(compare(scheme, black_box(a), black_box(b)).ok());
                    }
                }
                start.elapsed()
            })
            .min()
            .expect("five runs");
        let count = (rounds * pairs.len()) as f64;
        let nanos = elapsed.as_nanos() as f64 / count;
        println!(
            "{:<10} {:>12.1} {:>14.0}",
            format!("{scheme:?}"),
            nanos,
            1e9 / nanos
        );
    }
}
