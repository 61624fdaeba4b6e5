//! Errors of image analysis: each names what failed and where.

use std::path::PathBuf;

/// A failure of image analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The SOURCE argument could not be understood.
    #[error("invalid image source {input:?}: {reason}")]
    InvalidSource {
        /// What the user typed.
        input: String,
        /// Why it is not a source.
        reason: String,
    },
    /// The input is not what its format requires.
    #[error("malformed {what} in {location}: {reason}")]
    Malformed {
        /// What was being parsed (manifest, layer tar, index.json...).
        what: &'static str,
        /// Where (file, layer digest, URL).
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// A limit protecting against hostile input was exceeded.
    #[error("{location}: {what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What grew too large (decompressed size, entry count...).
        what: &'static str,
        /// Where.
        location: String,
        /// The limit, in its unit.
        limit: String,
    },
    /// A blob's content does not match the digest that names it.
    #[error("{what} {location}: digest mismatch, expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was read (layer, config, manifest...).
        what: &'static str,
        /// Where.
        location: String,
        /// The digest the image declares.
        expected: String,
        /// The digest of what was read.
        actual: String,
    },
    /// A `--platform` value that is not `os/arch[/variant]`.
    #[error("invalid platform {input:?}: write os/arch or os/arch/variant, e.g. linux/amd64")]
    InvalidPlatform {
        /// What the user typed.
        input: String,
    },
    /// The image has no manifest for the requested platform.
    #[error("{location}: no image for platform {platform} (available: {available})")]
    NoPlatform {
        /// The image.
        location: String,
        /// The requested platform.
        platform: String,
        /// The platforms the image has.
        available: String,
    },
    /// A registry answered with an error.
    #[error("registry {registry}: {reason}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What went wrong.
        reason: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
