//! End-to-end tests: the real `dockwatch` binary against real components. One module per pillar.

mod activity_log;
mod agent;
mod alerts;
mod alerts_cli;
mod cli;
mod console;
mod db;
mod fleet;
mod foundation;
mod hostile;
mod image;
mod lang_hostile;
mod lang_image;
mod scan;
mod vulnerabilities;
