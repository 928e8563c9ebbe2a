use std::io;
use std::path::PathBuf;

use strata_oci::Digest;

/// Why a snapshot operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Fs(#[from] strata_fs::Error),
    /// Writing or applying a layer failed.
    #[error(transparent)]
    Layer(#[from] strata_layer::Error),
    /// A mount call failed.
    #[error("{operation} {}: {source}", path.display())]
    Mount {
        /// What was being done ("mount overlay", "unmount" ...).
        operation: &'static str,
        /// The directory it was about.
        path: PathBuf,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// An unpacked layer's content does not match the diff id it was given.
    #[error("layer content does not match its diff id: expected {expected}, got {actual}")]
    DiffIdMismatch {
        /// The diff id the caller named.
        expected: Digest,
        /// The sha256 of the uncompressed tar that was read.
        actual: Digest,
    },
    /// No committed snapshot has this chain id.
    #[error("no snapshot with chain id {chain_id}")]
    NotFound {
        /// The chain id asked for.
        chain_id: Digest,
    },
    /// The snapshot directory is not usable as asked.
    #[error("{}: {reason}", path.display())]
    Unusable {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The result of a snapshot operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn mount(
        operation: &'static str,
        path: impl Into<PathBuf>,
        source: impl Into<io::Error>,
    ) -> Self {
        Error::Mount {
            operation,
            path: path.into(),
            source: source.into(),
        }
    }
}
