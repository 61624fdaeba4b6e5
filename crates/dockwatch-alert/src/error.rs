//! Errors for configuration that cannot work: they name the setting and what is wrong with it.

/// A channel or rule setting that cannot be used. Delivery failures are not errors: they are
/// [`crate::Outcome`]s with a [`crate::RetryDecision`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    /// The setting, as the user names it (`url`, `secret`, `match`, ...).
    pub setting: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    /// An error about `setting`.
    pub fn new(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            message: message.into(),
        }
    }
}
