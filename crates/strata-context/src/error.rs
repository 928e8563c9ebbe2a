use std::path::PathBuf;

use crate::pattern::PatternError;

/// Everything that can go wrong between "the user named a context" and
/// "these files, with these digests".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Io(#[from] strata_fs::Error),
    /// An ignore file or pattern list does not compile.
    #[error("invalid patterns in {}: {source}", path.display())]
    Pattern {
        /// The ignore file, or a description of where the list came from.
        path: PathBuf,
        /// Why.
        source: PatternError,
    },
    /// An ignore file cannot be read as text lines.
    #[error("{}:{line}: {reason}", path.display())]
    IgnoreFile {
        /// The ignore file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// Why.
        reason: String,
    },
    /// The context root is not a directory.
    #[error("build context {} is not a directory", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A file changed while it was being hashed (its size or identity moved
    /// under the scan); scanning again gives a consistent answer.
    #[error("{} changed while it was being read; scan again", path.display())]
    ChangedDuringScan {
        /// The file.
        path: PathBuf,
    },
    /// A selection names a path that is not in the context.
    #[error("{path}: not found in the build context")]
    NotFound {
        /// The path as asked.
        path: String,
    },
    /// Symlinks inside the context loop or nest too deeply to resolve.
    #[error("{path}: too many levels of symbolic links")]
    TooManyLinks {
        /// The path being resolved.
        path: String,
    },
    /// A selection was asked of a context scanned without digests.
    #[error("the context was scanned without digests")]
    NoDigests,
    /// A context argument cannot be understood.
    #[error("invalid build context {argument:?}: {reason}")]
    InvalidSource {
        /// The argument as given.
        argument: String,
        /// Why.
        reason: String,
    },
    /// A tar archive (on stdin or downloaded) could not be read or unpacked.
    #[error("reading the context archive: {reason}")]
    Archive {
        /// Why.
        reason: String,
    },
    /// Fetching a remote context over HTTP failed.
    #[error("fetching {url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Running git for a git context failed.
    #[error("git {action} for {url}: {reason}")]
    Git {
        /// What git was asked to do.
        action: String,
        /// The repository URL.
        url: String,
        /// Git's message.
        reason: String,
    },
}
