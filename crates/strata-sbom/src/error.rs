use std::io;
use std::path::PathBuf;

/// Why a catalogue, a document or a scan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Fs(#[from] strata_fs::Error),
    /// The store could not give the image or one of its blobs.
    #[error(transparent)]
    Store(#[from] strata_store::StoreError),
    /// A layer blob could not be read as a (compressed) tar.
    #[error("layer {layer}: {source}")]
    Layer {
        /// The layer's blob digest.
        layer: String,
        /// What the decompressor or tar reader reported.
        #[source]
        source: io::Error,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A zip archive (a Java archive, an OSV database) is malformed.
    #[error("{name}: not a readable zip archive: {reason}")]
    Zip {
        /// The archive's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An OSV advisory database could not be read or fetched.
    #[error("vulnerability database {location}: {reason}")]
    Database {
        /// The directory, archive or URL.
        location: String,
        /// What went wrong.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
