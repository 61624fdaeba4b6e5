//! Dockwatch's vocabulary and pure rules, shared by every other crate.
//!
//! Architecture invariant: this crate does no IO, starts no runtime and speaks no SQL or HTTP;
//! everything in it can be tested with plain values.
#![forbid(unsafe_code)]

pub mod actions;
pub mod checkpoint;
pub mod clock;
pub mod event;
pub mod org;
pub mod package;
pub mod settings;

pub use clock::{Clock, SystemClock};
pub use package::{Distro, Location, Package, PackageType};
