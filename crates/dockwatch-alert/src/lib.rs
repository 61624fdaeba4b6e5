//! Alert rules and delivery channels: what the server's delivery worker calls.
//!
//! No SQL and no HTTP server here. The worker reads due deliveries from its outbox, asks
//! [`rule`] which rules and channels an event goes to, calls [`Channel::deliver`], records the
//! [`Outcome`] and lets [`retry`] decide when to try again, when to open the circuit breaker
//! and when to give up (dead letter). [`ssrf`] keeps every outbound request off private
//! networks unless an administrator allows them.
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
    Backoff, Breakers, CircuitBreaker, DeadLetterPolicy, Next, RetryDecision, next_step,
};
pub use rule::{Rule, RuleEngine, RuleSpec};
pub use secret::Secret;
pub use ssrf::TargetPolicy;
