//! A one-second in-memory cache of bearer-token lookups, so a busy client's requests do not each
//! pay a database round trip to authenticate.
//!
//! Revoking a token through this process clears the cache at once; a revocation made through
//! another `serve` process on the same database takes effect here within [`TTL`].

use dockwatch_store::tokens::TokenPrincipal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a lookup is reused.
pub const TTL: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 10_000;

/// Found tokens by the SHA-256 of their secret (never the secret itself).
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, TokenPrincipal)>>,
}

impl TokenCache {
    /// A fresh cached lookup, if there is one and the token has not expired since.
    pub fn get(&self, secret_hash: &str, now_ms: i64) -> Option<TokenPrincipal> {
        let entries = self.entries.lock().expect("token cache lock");
        let (at, principal) = entries.get(secret_hash)?;
        let expired = principal.token.expires_ms.is_some_and(|e| e <= now_ms);
        (at.elapsed() < TTL && !expired).then(|| principal.clone())
    }

    /// Remembers a successful lookup.
    pub fn put(&self, secret_hash: String, principal: TokenPrincipal) {
        let mut entries = self.entries.lock().expect("token cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(secret_hash, (Instant::now(), principal));
    }

    /// Forgets everything (after a revocation).
    pub fn clear(&self) {
        self.entries.lock().expect("token cache lock").clear();
    }
}

/// Remembers when this process last logged each token's use, so most requests skip the
/// database claim (`Store::record_token_use`), which settles it across processes.
#[derive(Debug, Default)]
pub struct TokenUseThrottle {
    last: Mutex<HashMap<String, Instant>>,
}

/// A token's use is logged at most once per this interval.
pub const TOKEN_USE_EVERY: Duration = Duration::from_secs(600);

impl TokenUseThrottle {
    /// True when `token_id`'s use has not been logged by this process within the interval (and
    /// marks it now).
    pub fn due(&self, token_id: &str) -> bool {
        let mut last = self.last.lock().expect("token use lock");
        if last.len() >= MAX_ENTRIES {
            last.retain(|_, at| at.elapsed() < TOKEN_USE_EVERY);
        }
        match last.get(token_id) {
            Some(at) if at.elapsed() < TOKEN_USE_EVERY => false,
            _ => {
                last.insert(token_id.to_owned(), Instant::now());
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_due_once_per_interval() {
        let t = TokenUseThrottle::default();
        assert!(t.due("a"));
        assert!(!t.due("a"));
        assert!(t.due("b"));
    }
}
