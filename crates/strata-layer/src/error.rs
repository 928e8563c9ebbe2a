use std::io;
use std::path::PathBuf;

/// Why a layer could not be written or applied.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Fs(#[from] strata_fs::Error),
    /// A layer entry would write outside the target, or is otherwise refused.
    #[error("layer entry {entry:?} refused: {reason}")]
    UnsafeEntry {
        /// The entry's name as it appears in the archive.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// Applying one entry failed in the file system.
    #[error("layer entry {entry:?}: {operation}: {source}")]
    Entry {
        /// The entry's name as it appears in the archive.
        entry: String,
        /// What was being done ("create file", "set owner" ...).
        operation: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The archive itself is malformed or truncated.
    #[error("malformed layer archive{}: {source}", entry.as_ref().map(|e| format!(" at entry {e:?}")).unwrap_or_default())]
    Archive {
        /// The entry being read, when known.
        entry: Option<String>,
        /// What the tar reader or decompressor reported.
        #[source]
        source: io::Error,
    },
    /// Writing the layer blob failed (the sink, or the compressor).
    #[error("write layer: {source}")]
    Output {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A change's path is not a relative path of normal components.
    #[error("change path {path:?} is not a relative path inside the source root")]
    InvalidChangePath {
        /// The offending path.
        path: PathBuf,
    },
}

/// The result of a layer operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn unsafe_entry(entry: &str, reason: impl Into<String>) -> Self {
        Error::UnsafeEntry {
            entry: entry.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn entry(
        entry: &str,
        operation: &'static str,
        source: impl Into<io::Error>,
    ) -> Self {
        Error::Entry {
            entry: entry.to_owned(),
            operation,
            source: source.into(),
        }
    }
}
