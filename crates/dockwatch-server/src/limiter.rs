//! Failed sign-in rate limiting: after `MAX_FAILURES` failures for one email or one IP within
//! the window, further attempts are refused until the window passes.
//!
//! Hand-written (a map of counters): limiter crates count every attempt, and here only failures
//! count, with a successful sign-in clearing the email's counter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per key within the window.
pub const MAX_FAILURES: u32 = 5;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counters of recent failures by key (`email:...`, `ip:...`).
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInLimiter {
    /// `Some(seconds to wait)` when any key is locked out.
    pub fn check(&self, keys: &[String]) -> Option<u64> {
        let map = self.failures.lock().expect("limiter lock");
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, start)| *n >= MAX_FAILURES && start.elapsed() < WINDOW)
            .map(|(_, start)| (WINDOW - start.elapsed()).as_secs().max(1))
            .max()
    }

    /// Counts a failure for every key.
    pub fn fail(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("limiter lock");
        if map.len() > 100_000 {
            map.retain(|_, (_, start)| start.elapsed() < WINDOW);
        }
        for k in keys {
            let entry = map.entry(k.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// Clears a key after a success.
    pub fn succeed(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_clears_on_success() {
        let l = SignInLimiter::default();
        let keys = vec!["email:a@example.com".to_owned()];
        for _ in 0..MAX_FAILURES {
            assert_eq!(l.check(&keys), None);
            l.fail(&keys);
        }
        assert!(l.check(&keys).is_some());
        l.succeed(&keys[0]);
        assert_eq!(l.check(&keys), None);
    }
}
