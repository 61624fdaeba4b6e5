//! HTTP API versions.

pub mod agent;
pub mod v1;
