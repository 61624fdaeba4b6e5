//! Per-endpoint circuit breakers, driven by the worker and shown by the API (channel status).
//!
//! In memory, per process: after a restart every breaker starts closed, which costs at most
//! `threshold` more failed attempts against an endpoint that is still down.

use dockwatch_alert::{BreakerState, Breakers, RetryDecision};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use time::OffsetDateTime;

/// How long a delivery waits while another one probes a half-open endpoint.
const PROBE_WAIT: Duration = Duration::from_secs(1);

/// The breakers, and which endpoint each channel last sent to.
#[derive(Debug)]
pub struct ChannelHealth {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    breakers: Breakers,
    endpoints: HashMap<String, String>,
}

/// A channel's breaker as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerStatus {
    /// `closed`, `open` or `half-open`.
    pub state: &'static str,
    /// The endpoint (scheme, host, port) the breaker guards, once the channel has sent.
    pub endpoint: Option<String>,
    /// Consecutive retriable failures.
    pub consecutive_failures: u32,
    /// While open: when a probe may go.
    pub open_until: Option<OffsetDateTime>,
}

impl ChannelHealth {
    /// Breakers that open after `threshold` consecutive retriable failures, for `open_for`.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                breakers: Breakers::new(threshold, open_for),
                endpoints: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a delivery of `channel_id` to `endpoint` may go at `now`; if not, when to try it
    /// again. A `true` in half-open state makes this delivery the probe: record its result.
    pub fn allow(
        &self,
        channel_id: &str,
        endpoint: &str,
        now: OffsetDateTime,
    ) -> Result<(), OffsetDateTime> {
        let mut inner = self.lock();
        if inner.endpoints.get(channel_id).map(String::as_str) != Some(endpoint) {
            inner
                .endpoints
                .insert(channel_id.to_owned(), endpoint.to_owned());
        }
        if inner.breakers.allow(endpoint, now) {
            Ok(())
        } else {
            Err(inner
                .breakers
                .open_until(endpoint)
                .unwrap_or(now + PROBE_WAIT))
        }
    }

    /// Records an attempt's result for `endpoint`.
    pub fn record(&self, endpoint: &str, decision: &RetryDecision, now: OffsetDateTime) {
        self.lock().breakers.record(endpoint, decision, now);
    }

    /// The breaker of the endpoint `channel_id` sends to.
    pub fn status(&self, channel_id: &str) -> BreakerStatus {
        let inner = self.lock();
        let endpoint = inner.endpoints.get(channel_id).cloned();
        let breaker = endpoint.as_deref().and_then(|e| inner.breakers.breaker(e));
        let (state, open_until) = match breaker.map(|b| b.state()) {
            None | Some(BreakerState::Closed) => ("closed", None),
            Some(BreakerState::Open { until }) => ("open", Some(until)),
            Some(BreakerState::HalfOpen { .. }) => ("half-open", None),
        };
        BreakerStatus {
            state,
            endpoint,
            consecutive_failures: breaker.map_or(0, |b| b.failures()),
            open_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_per_endpoint_and_probes_after_the_cool_down() {
        let health = ChannelHealth::new(2, Duration::from_secs(30));
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let fail = RetryDecision::retry("503");
        assert_eq!(health.status("a").state, "closed");
        for _ in 0..2 {
            assert!(health.allow("a", "http://a:80", t0).is_ok());
            health.record("http://a:80", &fail, t0);
        }
        let status = health.status("a");
        assert_eq!(status.state, "open");
        assert_eq!(status.consecutive_failures, 2);
        assert_eq!(
            health.allow("a", "http://a:80", t0),
            Err(t0 + Duration::from_secs(30))
        );
        assert!(
            health.allow("b", "http://b:80", t0).is_ok(),
            "other endpoints go"
        );
        let later = t0 + Duration::from_secs(30);
        assert!(health.allow("a", "http://a:80", later).is_ok(), "the probe");
        assert_eq!(health.status("a").state, "half-open");
        assert_eq!(
            health.allow("a", "http://a:80", later),
            Err(later + PROBE_WAIT),
            "one probe at a time"
        );
        health.record("http://a:80", &RetryDecision::Delivered, later);
        assert_eq!(health.status("a").state, "closed");
        assert_eq!(health.status("a").consecutive_failures, 0);
    }
}
