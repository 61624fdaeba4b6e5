//! Docker Desktop settings compliance: the `admin-settings.json` policy model and its validation,
//! engine hardening checks, assignment precedence, the machine report, the compliance diff, and
//! the agent wire types. Pure: no IO.

pub mod assign;
pub mod catalog;
pub mod compliance;
pub mod engine;
pub mod fleet_report;
pub mod policy;
pub mod report;
pub mod transition;
pub mod user_report;
pub mod wire;

pub use assign::{Assignment, Scope, Subject, resolve};
pub use compliance::{
    Assessment, ComplianceStatus, DEFAULT_STALE_AFTER_MS, Drift, EffectivePolicy, PolicyRef,
    UserAssessment, assess,
};
pub use engine::{EngineFinding, EngineRequirements};
pub use fleet_report::{FleetFilter, FleetReport, MachineRow};
pub use policy::{Policy, PolicyError, PolicyErrors, PolicyVersion, Requirement};
pub use report::{MachineReport, ReportError};
pub use transition::{Summary, transition};
pub use user_report::{UserEntry, UserMachine, UserReport, UserRow, user_entries};
