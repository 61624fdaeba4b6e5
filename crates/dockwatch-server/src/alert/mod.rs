//! Alerting in the server: sealing channel secrets, and the delivery worker.

pub mod seal;
pub mod worker;
