//! Why a container operation failed.

/// Why a container operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Fs(#[from] strata_fs::Error),
    /// A flag's value is not valid (Docker's message).
    #[error("{message}")]
    InvalidFlag {
        /// The flag, as typed (`-p`, `--restart`).
        flag: &'static str,
        /// Docker's message for it.
        message: String,
    },
}

/// The result of a container operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
