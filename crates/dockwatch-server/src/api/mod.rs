//! HTTP API versions.

pub mod v1;
