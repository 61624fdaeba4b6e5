//! Image to SBOM to findings, as a library: used by `dockwatch sbom`, `dockwatch scan` and the
//! server's indexer.
//!
//! Data flow: a [`source`] yields an image's layers as streams; each layer is read once and only
//! the files some [`catalog::Cataloger`] wants are kept, with the whiteouts applied, giving a
//! [`fs::FileSet`] of the final filesystem; the catalogers turn it into packages; an [`sbom`]
//! format renders the result.
//!
//! Architecture invariant: this crate knows nothing about HTTP servers, SQL or the Dockwatch
//! server. The SBOM half (`source`, `fs`, `catalog`, `sbom`) never imports the vulnerability half.
#![forbid(unsafe_code)]

pub mod advisory;
pub mod analyze;
pub mod catalog;
pub mod digest;
pub mod error;
pub mod finding;
pub mod fs;
pub mod layer;
pub mod limits;
pub mod matcher;
pub mod policy;
pub mod report;
pub mod sbom;
pub mod source;
pub mod version;
pub(crate) mod yaml_depth;

pub use analyze::{Analysis, Options, analyze, analyze_with};
pub use error::{Error, Result};
