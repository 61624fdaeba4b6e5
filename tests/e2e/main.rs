//! End-to-end tests: the real `dockwatch` binary against real components. One module per pillar.

mod agent;
mod alerts;
mod alerts_cli;
mod cli;
mod db;
mod fleet;
mod foundation;
mod hostile;
mod image;
mod scan;
