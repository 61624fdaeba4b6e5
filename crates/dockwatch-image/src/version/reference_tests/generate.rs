//! Deterministic generators of versions for the reference tests, biased to each ecosystem's
//! tricky shapes.

/// SplitMix64: a deterministic stream, so a failure reproduces.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// `count` distinct versions from `generate`.
    pub(super) fn versions(
        &mut self,
        count: usize,
        generate: fn(&mut Rng) -> String,
    ) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..count * 20 {
            if seen.len() == count {
                break;
            }
            seen.insert(generate(self));
        }
        seen.into_iter().collect()
    }
}

pub(super) const NUMBERS: &[&str] = &["0", "1", "2", "9", "10", "01", "00", "010", "11", "100"];

pub(super) fn deb_version(rng: &mut Rng) -> String {
    if rng.chance(40) {
        // dpkg's hard errors, and odd shapes it only warns about.
        return rng
            .pick(&[
                ":1.0",
                "1:",
                "a:1.0",
                "1.0-",
                "-1",
                "1:-1",
                "1.0 1",
                "99999999999:1",
                "abc",
                "1.0_1",
                "1:a",
                "1.0-a_b",
                "-1:1.0",
            ])
            .to_owned();
    }
    let mut v = String::new();
    if rng.chance(5) {
        v += rng.pick(&["0", "1", "2", "01", "10"]);
        v.push(':');
    }
    v += rng.pick(NUMBERS);
    let pieces = [
        ".", ".0", ".1", ".10", "~", "~~", "~rc1", "~rc2", "+", "+dfsg", "+b1", "a", "b", "z", "Z",
        "A", "1", "0", "rc1", ".a",
    ];
    for _ in 0..rng.below(5) {
        v += rng.pick(&pieces);
    }
    if v.contains(':') && rng.chance(4) {
        // With an epoch, the upstream part may hold colons too.
        v += rng.pick(&[":1", ":a", "::0"]);
    }
    if rng.chance(2) {
        v.push('-');
        if rng.chance(8) {
            // A hyphen inside the upstream part, legal when a revision follows.
            v += rng.pick(NUMBERS);
            v.push('-');
        }
        v += rng.pick(&["0", "1", "2", "10", "a", "ubuntu1", "0ubuntu1"]);
        for _ in 0..rng.below(3) {
            v += rng.pick(&["~deb12u1", "+deb12u1", ".1", "~", "+", "build1", "a", "1"]);
        }
    }
    v
}

pub(super) fn rpm_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(5) {
        v += rng.pick(&["0", "1", "2", "01", "10"]);
        v.push(':');
    }
    let pieces = [
        "0", "1", "2", "01", "10", "a", "b", "rc", "git", ".", "_", "+", "~", "~~", "^", "^git1",
        "~rc1", ".1", "Z", "p1", "α", ".é", ":",
    ];
    for _ in 0..1 + rng.below(5) {
        v += rng.pick(&pieces);
    }
    if rng.chance(2) {
        v.push('-');
        for _ in 0..rng.below(4) {
            v += rng.pick(&[
                "1", "2", "10", ".", "el9", "el9_2", "fc39", "~", "^", "a", "0",
            ]);
        }
    }
    v
}

pub(super) fn pep440_version(rng: &mut Rng) -> String {
    if rng.chance(25) {
        return rng
            .pick(&[
                "1.0-foo",
                "1..0",
                "1.0+",
                "abc",
                "1.0.",
                "1.0-dev-1",
                "1!",
                "v",
                "1.0_a_",
            ])
            .to_owned();
    }
    let mut v = String::new();
    if rng.chance(20) {
        v.push('v');
    }
    if rng.chance(6) {
        v += rng.pick(&["0", "1", "2"]);
        v.push('!');
    }
    v += rng.pick(NUMBERS);
    for _ in 0..rng.below(4) {
        v.push('.');
        v += rng.pick(NUMBERS);
    }
    let sep = |rng: &mut Rng| rng.pick(&["", "", ".", "-", "_"]);
    if rng.chance(3) {
        v += sep(rng);
        v += rng.pick(&[
            "a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC",
        ]);
        v += sep(rng);
        v += rng.pick(&["", "0", "1", "2", "10"]);
    }
    if rng.chance(4) {
        if rng.chance(3) {
            v.push('-');
            v += rng.pick(&["0", "1", "2"]);
        } else {
            v += sep(rng);
            v += rng.pick(&["post", "rev", "r", "POST"]);
            v += sep(rng);
            v += rng.pick(&["", "0", "1", "3"]);
        }
    }
    if rng.chance(4) {
        v += sep(rng);
        v += rng.pick(&["dev", "DEV"]);
        v += rng.pick(&["", "0", "1", "5"]);
    }
    if rng.chance(6) {
        v.push('+');
        v += rng.pick(&["abc", "1", "ubuntu.1", "a.b.1", "2.a", "001", "ABC"]);
    }
    v
}

pub(super) fn maven_version(rng: &mut Rng) -> String {
    let qualifiers = [
        "alpha",
        "a",
        "beta",
        "b",
        "milestone",
        "m",
        "rc",
        "cr",
        "RC",
        "snapshot",
        "SNAPSHOT",
        "ga",
        "GA",
        "final",
        "Final",
        "release",
        "RELEASE",
        "sp",
        "foo",
        "xyz",
        "c",
        "",
    ];
    let mut v = String::new();
    v += rng.pick(NUMBERS);
    for _ in 0..rng.below(6) {
        match rng.below(4) {
            0 => v.push('.'),
            1 => v.push('-'),
            _ => {}
        }
        if rng.chance(2) {
            v += rng.pick(NUMBERS);
        } else {
            v += rng.pick(&qualifiers);
        }
    }
    v
}

pub(super) fn gem_version(rng: &mut Rng) -> String {
    let segments = [
        "0", "1", "2", "10", "01", "00", "a", "b", "rc", "rc1", "a1", "0a", "pre", "beta2", "Z",
        "alpha", "b10",
    ];
    let mut v = rng.pick(NUMBERS).to_owned();
    for _ in 0..rng.below(5) {
        v.push('.');
        v += rng.pick(&segments);
    }
    if rng.chance(4) {
        v.push('-');
        v += rng.pick(&segments);
        if rng.chance(2) {
            v.push('.');
            v += rng.pick(&segments);
        }
    }
    v
}

pub(super) fn composer_version(rng: &mut Rng) -> String {
    let words = [
        "dev", "alpha", "a", "beta", "b", "RC", "rc", "pl", "p", "patch", "foo", "stable", "Beta",
    ];
    let mut v = rng.pick(NUMBERS).to_owned();
    for _ in 0..rng.below(5) {
        v += rng.pick(&[".", ".", "", "-", "_", "+"]);
        if rng.chance(2) {
            v += rng.pick(NUMBERS);
        } else {
            v += rng.pick(&words);
        }
    }
    v
}

pub(super) fn strict_semver(rng: &mut Rng) -> String {
    let small = ["0", "1", "2", "10", "11"];
    let mut v = format!(
        "{}.{}.{}",
        rng.pick(&small),
        rng.pick(&small),
        rng.pick(&small)
    );
    if rng.chance(2) {
        let ids = [
            "alpha", "beta", "rc", "0", "1", "2", "10", "a-b", "A", "x1", "-", "01a",
        ];
        v.push('-');
        v += rng.pick(&ids);
        for _ in 0..rng.below(3) {
            v.push('.');
            v += rng.pick(&ids);
        }
    }
    if rng.chance(5) {
        v.push('+');
        v += rng.pick(&["build", "001", "sha.5114f85", "x-y"]);
    }
    v
}
