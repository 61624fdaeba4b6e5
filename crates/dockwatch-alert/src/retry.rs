//! When to try a delivery again: outcome classification, exponential backoff with full jitter,
//! a per-endpoint circuit breaker and the dead-letter decision. Pure; time and randomness come in.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

/// What an attempt's outcome means for the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum RetryDecision {
    /// Delivered.
    Delivered,
    /// Failed for now; try again. `after` is the receiver's own wish (`Retry-After`).
    Retry {
        /// Why.
        reason: String,
        /// The wait the receiver asked for, if it did.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
        after: Option<Duration>,
    },
    /// Will never work as configured (bad token, 404, TLS certificate, redirect elsewhere).
    Permanent {
        /// Why, for the delivery log.
        reason: String,
    },
}

mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.map(Duration::from_secs_f64))
    }
}

impl RetryDecision {
    /// A retriable failure.
    pub fn retry(reason: impl Into<String>) -> Self {
        Self::Retry {
            reason: reason.into(),
            after: None,
        }
    }

    /// A permanent failure.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
        }
    }

    /// Whether the delivery went through.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered)
    }

    /// Whether another attempt may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Retry { .. })
    }
}

/// Classifies an HTTP answer: 2xx delivered; 408, 429 (honouring `Retry-After`) and 5xx retry;
/// 3xx (a redirect our client did not follow, so to another host) and other 4xx are permanent.
pub fn classify_status(
    status: u16,
    retry_after: Option<&str>,
    location: Option<&str>,
    now: OffsetDateTime,
) -> RetryDecision {
    match status {
        200..=299 => RetryDecision::Delivered,
        408 | 429 | 500..=599 => RetryDecision::Retry {
            reason: format!("receiver answered {status}"),
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        300..=399 => RetryDecision::permanent(format!(
            "receiver answered {status} redirecting to {}; redirects to another host are not followed",
            location.unwrap_or("(no Location)")
        )),
        _ => RetryDecision::permanent(format!("receiver answered {status}")),
    }
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    Some((at - now).try_into().unwrap_or(Duration::ZERO))
}

/// Exponential backoff with full jitter: attempt n waits a uniform random time in
/// `[0, min(cap, base · 2^(n-1))]` (the AWS Architecture Blog's "full jitter").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first ceiling.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The ceiling for the wait after failed attempt `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(32);
        self.base.saturating_mul(1u32 << exp.min(31)).min(self.cap)
    }

    /// The wait after failed attempt `attempt`, drawn from `rng`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rng.gen_range(0..=ceiling))
    }
}

/// Give up on a delivery once its first attempt is older than `max_age`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadLetterPolicy {
    /// How long to keep retrying.
    pub max_age: Duration,
}

impl Default for DeadLetterPolicy {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// What the worker does with a delivery after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Done: delivered.
    Delivered,
    /// Try again at this time.
    RetryAt(OffsetDateTime),
    /// Stop: a permanent failure, or retrying for longer than the dead-letter age. Kept for
    /// manual redelivery.
    DeadLetter {
        /// Why, for the delivery log.
        reason: String,
    },
}

/// Decides the next step for a delivery first tried at `first_attempt` whose attempt number
/// `attempt` ended with `decision` at `now`.
pub fn next_step(
    decision: &RetryDecision,
    attempt: u32,
    first_attempt: OffsetDateTime,
    now: OffsetDateTime,
    backoff: &Backoff,
    dead_letter: &DeadLetterPolicy,
    rng: &mut impl Rng,
) -> Next {
    match decision {
        RetryDecision::Delivered => Next::Delivered,
        RetryDecision::Permanent { reason } => Next::DeadLetter {
            reason: reason.clone(),
        },
        RetryDecision::Retry { reason, after } => {
            let wait = backoff.delay(attempt, rng).max(after.unwrap_or_default());
            let at = now + wait;
            if at - first_attempt > dead_letter.max_age {
                Next::DeadLetter {
                    reason: format!(
                        "still failing after {} ({} attempts); last: {reason}",
                        humanize(dead_letter.max_age),
                        attempt
                    ),
                }
            } else {
                Next::RetryAt(at)
            }
        }
    }
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 3600 == 0 && s >= 3600 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The state of one endpoint's breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Deliveries go through.
    Closed,
    /// Deliveries wait until this time.
    Open {
        /// When one probe may go.
        until: OffsetDateTime,
    },
    /// One probe is allowed; its result closes or reopens the breaker.
    HalfOpen {
        /// Whether the probe is out.
        probing: bool,
    },
}

/// A per-endpoint circuit breaker: after `threshold` consecutive retriable failures it opens for
/// `open_for`; then one probe goes, and its result closes it or opens it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitBreaker {
    threshold: u32,
    open_for: Duration,
    failures: u32,
    state: BreakerState,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            failures: 0,
            state: BreakerState::Closed,
        }
    }

    /// Its state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a delivery to this endpoint may go at `now`. In half-open state only one may.
    pub fn allow(&mut self, now: OffsetDateTime) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen { probing: true };
                true
            }
            BreakerState::Open { .. } => false,
            BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                true
            }
            BreakerState::HalfOpen { probing: true } => false,
        }
    }

    /// Consecutive retriable failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// When deliveries may go again, if the breaker is open.
    pub fn open_until(&self) -> Option<OffsetDateTime> {
        match self.state {
            BreakerState::Open { until } => Some(until),
            _ => None,
        }
    }

    /// Records an attempt's result. Permanent failures (the request's fault, not the endpoint's
    /// health) count as successes for the breaker.
    pub fn record(&mut self, decision: &RetryDecision, now: OffsetDateTime) {
        if decision.is_retriable() {
            self.failures += 1;
            let probing = matches!(self.state, BreakerState::HalfOpen { .. });
            if probing || self.failures >= self.threshold {
                self.state = BreakerState::Open {
                    until: now + self.open_for,
                };
            }
        } else {
            self.failures = 0;
            self.state = BreakerState::Closed;
        }
    }
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(30))
    }
}

/// One breaker per endpoint ([`crate::Channel::endpoint`]), created closed on first use.
#[derive(Clone, Debug)]
pub struct Breakers {
    template: CircuitBreaker,
    by_endpoint: std::collections::HashMap<String, CircuitBreaker>,
}

impl Breakers {
    /// Breakers that open after `threshold` consecutive retriable failures, for `open_for`.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            template: CircuitBreaker::new(threshold, open_for),
            by_endpoint: std::collections::HashMap::new(),
        }
    }

    /// Whether a delivery to `endpoint` may go at `now`.
    pub fn allow(&mut self, endpoint: &str, now: OffsetDateTime) -> bool {
        self.get(endpoint).allow(now)
    }

    /// Records an attempt's result for `endpoint`.
    pub fn record(&mut self, endpoint: &str, decision: &RetryDecision, now: OffsetDateTime) {
        self.get(endpoint).record(decision, now);
    }

    /// When `endpoint` may be tried again, if its breaker is open.
    pub fn open_until(&self, endpoint: &str) -> Option<OffsetDateTime> {
        self.by_endpoint.get(endpoint)?.open_until()
    }

    /// The breaker of `endpoint`, if it has seen an attempt.
    pub fn breaker(&self, endpoint: &str) -> Option<&CircuitBreaker> {
        self.by_endpoint.get(endpoint)
    }

    fn get(&mut self, endpoint: &str) -> &mut CircuitBreaker {
        if !self.by_endpoint.contains_key(endpoint) {
            self.by_endpoint
                .insert(endpoint.to_owned(), self.template.clone());
        }
        self.by_endpoint.get_mut(endpoint).expect("just inserted")
    }
}

impl Default for Breakers {
    fn default() -> Self {
        let b = CircuitBreaker::default();
        Self::new(b.threshold, b.open_for)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    #[test]
    fn statuses() {
        assert!(classify_status(204, None, None, T0).is_delivered());
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(classify_status(s, None, None, T0).is_retriable(), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413, 422] {
            assert!(
                matches!(
                    classify_status(s, None, None, T0),
                    RetryDecision::Permanent { .. }
                ),
                "{s}"
            );
        }
        let redirect = classify_status(302, None, Some("http://elsewhere.example/"), T0);
        let RetryDecision::Permanent { reason } = redirect else {
            panic!()
        };
        assert!(
            reason.contains("elsewhere.example") && reason.contains("not followed"),
            "{reason}"
        );
    }

    #[test]
    fn retry_after() {
        let d = classify_status(429, Some("120"), None, T0);
        assert_eq!(
            d,
            RetryDecision::Retry {
                reason: "receiver answered 429".into(),
                after: Some(Duration::from_secs(120))
            }
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", T0),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", T0),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", T0), None);
    }

    #[test]
    fn backoff_is_full_jitter_under_a_growing_capped_ceiling() {
        let b = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        };
        assert_eq!(b.ceiling(1), Duration::from_secs(1));
        assert_eq!(b.ceiling(4), Duration::from_secs(8));
        assert_eq!(b.ceiling(7), Duration::from_secs(60));
        assert_eq!(b.ceiling(500), Duration::from_secs(60));
        let mut rng = StdRng::seed_from_u64(7);
        let draws: Vec<Duration> = (0..200).map(|_| b.delay(10, &mut rng)).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_secs(60)));
        // Full jitter spreads over the whole range, not just near the ceiling.
        assert!(draws.iter().any(|d| *d < Duration::from_secs(10)));
        assert!(draws.iter().any(|d| *d > Duration::from_secs(50)));
    }

    #[test]
    fn next_step_honours_retry_after_and_dead_letters() {
        let mut rng = StdRng::seed_from_u64(1);
        let b = Backoff::default();
        let dl = DeadLetterPolicy {
            max_age: Duration::from_secs(3600),
        };
        let wait = RetryDecision::Retry {
            reason: "receiver answered 429".into(),
            after: Some(Duration::from_secs(600)),
        };
        let Next::RetryAt(at) = next_step(&wait, 1, T0, T0, &b, &dl, &mut rng) else {
            panic!()
        };
        assert!(at >= T0 + Duration::from_secs(600));
        let late = T0 + Duration::from_secs(3500);
        let Next::DeadLetter { reason } = next_step(&wait, 9, T0, late, &b, &dl, &mut rng) else {
            panic!()
        };
        assert!(reason.contains("1h") && reason.contains("429"), "{reason}");
        let perm = RetryDecision::permanent("receiver answered 404");
        assert_eq!(
            next_step(&perm, 1, T0, T0, &b, &dl, &mut rng),
            Next::DeadLetter {
                reason: "receiver answered 404".into()
            }
        );
        assert_eq!(
            next_step(&RetryDecision::Delivered, 1, T0, T0, &b, &dl, &mut rng),
            Next::Delivered
        );
    }

    #[test]
    fn breaker_opens_probes_and_closes() {
        let mut cb = CircuitBreaker::new(3, Duration::from_secs(30));
        let fail = RetryDecision::retry("timeout");
        for _ in 0..2 {
            assert!(cb.allow(T0));
            cb.record(&fail, T0);
        }
        assert_eq!(cb.state(), BreakerState::Closed);
        cb.record(&fail, T0);
        assert_eq!(cb.open_until(), Some(T0 + Duration::from_secs(30)));
        assert!(!cb.allow(T0 + Duration::from_secs(29)));
        // One probe after the pause; a second caller waits for its result.
        let later = T0 + Duration::from_secs(30);
        assert!(cb.allow(later));
        assert!(!cb.allow(later));
        cb.record(&fail, later);
        assert_eq!(cb.open_until(), Some(later + Duration::from_secs(30)));
        let again = later + Duration::from_secs(30);
        assert!(cb.allow(again));
        cb.record(&RetryDecision::Delivered, again);
        assert_eq!(cb.state(), BreakerState::Closed);
        assert!(cb.allow(again));
        // A permanent failure is the request's fault, not the endpoint's: it does not count.
        for _ in 0..10 {
            cb.record(&RetryDecision::permanent("401"), again);
        }
        assert_eq!(cb.state(), BreakerState::Closed);
    }

    #[test]
    fn breakers_are_per_endpoint() {
        let mut set = Breakers::new(1, Duration::from_secs(10));
        set.record(
            "webhook:http://down.example",
            &RetryDecision::retry("500"),
            T0,
        );
        assert!(!set.allow("webhook:http://down.example", T0));
        assert!(set.allow("webhook:http://up.example", T0));
        assert_eq!(
            set.open_until("webhook:http://down.example"),
            Some(T0 + Duration::from_secs(10))
        );
        assert_eq!(set.open_until("webhook:http://up.example"), None);
    }
}
