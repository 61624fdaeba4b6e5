//! Alerting in the server: sealing channel secrets, the delivery worker, its circuit breakers
//! and its metrics.

pub mod health;
pub mod metrics;
pub mod seal;
pub mod worker;
