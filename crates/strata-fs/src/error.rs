use std::io;
use std::path::PathBuf;

/// An I/O error together with what was being done and to which path.
#[derive(Debug, thiserror::Error)]
#[error("{operation} {}: {source}", path.display())]
pub struct Error {
    /// What was being done, as a verb phrase ("read", "create directory").
    pub operation: &'static str,
    /// The path the operation was about.
    pub path: PathBuf,
    /// The underlying error from the operating system.
    #[source]
    pub source: io::Error,
}

impl Error {
    /// Wraps `source`, naming the operation and the path.
    pub fn new(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self {
            operation,
            path: path.into(),
            source,
        }
    }

    /// The kind of the underlying I/O error.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

/// The result of a file-system call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
