//! Alert rules and delivery channels: what the server's delivery worker calls.
//!
//! No SQL and no HTTP server here. The worker reads due deliveries from its outbox, asks
//! [`rule`] which rules and channels an event goes to, calls [`Channel::deliver`], records the
//! [`Outcome`] and lets [`retry`] decide when to try again, when to open the circuit breaker
//! and when to give up (dead letter). [`ssrf`] keeps every outbound request off private
//! networks unless an administrator allows them.
//!
//! The worker's calls, in order (`tests/channels/worker_flow.rs` runs them):
//!
//! ```text
//! ctx      = ChannelContext { policy: TargetPolicy { allow_private }, connect_timeout, total_timeout, version, hostname }
//! config.validate(&ctx.policy)?            // on `alert channel add`; store config (encrypted) and
//! config.redacted()                        // what the API shows
//! channel  = build(&config, &ctx)?         // once per channel; keep it (it pools connections)
//! engine   = RuleEngine::new(rules)        // Rule::new(RuleSpec) per rule of the org
//! engine.route(&event, now) -> Vec<Dispatch>  // per new event; write one outbox row per channel:
//! Delivery::single(channel_id, event)      //   its id is stable; or Delivery::digest(...) from
//! engine.take_due(now) / engine.next_due() //   the digests due
//! breakers.allow(channel.endpoint(), now)  // skip (leave due) while the endpoint's breaker is open
//! outcome  = channel.deliver(&delivery)    // status, latency, excerpt, decision: log it
//! breakers.record(channel.endpoint(), &outcome.decision, now)
//! next_step(&outcome.decision, attempt, first_attempt_at, now, &backoff, &dead_letter, &mut rng)
//!   -> Next::Delivered | Next::RetryAt(t) (then delivery.next_attempt()) | Next::DeadLetter { reason }
//! channel.test(org)                        // `alert channel test N`
//! ```
#![forbid(unsafe_code)]

pub mod channel;
pub mod error;
pub mod event;
pub mod retry;
pub mod rule;
pub mod secret;
pub mod ssrf;

pub use channel::{Channel, ChannelConfig, ChannelContext, ChannelKind, Outcome, build};
pub use error::ConfigError;
pub use event::{AlertEvent, Delivery, Severity};
pub use retry::{
    Backoff, BreakerState, Breakers, CircuitBreaker, DeadLetterPolicy, Next, RetryDecision,
    next_step,
};
pub use rule::{Dispatch, Rule, RuleEngine, RuleSpec};
pub use secret::Secret;
pub use ssrf::TargetPolicy;
