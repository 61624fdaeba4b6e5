//! Channels against real local receivers: one test binary, one module per channel.

mod bad_receivers;
mod common;
mod sentinel;
mod slack;
mod splunk_hec;
mod syslog_rsyslog;
mod webhook;
mod worker_flow;
