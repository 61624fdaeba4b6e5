//! The Dockwatch fleet agent: reads a host's Docker Desktop and Engine settings (every path under
//! a `--root`), enrolls with a server, fetches and optionally applies the machine's effective
//! policy, and sends a signed report. The wire and the report types live in
//! `dockwatch_core::settings` so the server checks exactly what the agent sends.
//!
//! Architecture invariant: no server code here; the agent talks to the server only through
//! `dockwatch_core::settings::wire`.
#![forbid(unsafe_code)]

pub mod apply;
pub mod client;
pub mod error;
pub mod layout;
pub mod probe;
pub mod rooted;
pub mod run;
pub mod state;
#[cfg(feature = "test-receiver")]
pub mod test_receiver;

pub use error::AgentError;
pub use run::{
    AgentConfig, Backoff, CycleOutcome, run_daemon, run_daemon_blocking, run_once,
    run_once_blocking,
};
