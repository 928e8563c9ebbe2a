use std::path::PathBuf;

use strata_oci::Digest;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Io(#[from] strata_fs::Error),
    /// Content did not hash to the digest it was announced with.
    #[error("digest mismatch: expected {expected}, got {actual} ({size} bytes)")]
    DigestMismatch {
        /// The digest announced.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
        /// How many bytes arrived.
        size: u64,
    },
    /// Content had another size than announced.
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The size announced.
        expected: u64,
        /// The size that arrived.
        actual: u64,
    },
    /// A blob the store needs is absent.
    #[error("blob {digest} is not in the store")]
    MissingBlob {
        /// The blob.
        digest: Digest,
    },
    /// `--platform` names another platform than the image's.
    #[error(
        "image with reference {name} was found but its platform ({actual}) does not match the specified platform ({wanted})"
    )]
    PlatformMismatch {
        /// The name given.
        name: String,
        /// The platform asked for.
        wanted: String,
        /// The image's.
        actual: String,
    },
    /// No image by that name or ID.
    #[error("No such image: {name}")]
    NoSuchImage {
        /// What was asked for.
        name: String,
    },
    /// An ID prefix matches several images.
    #[error("image ID prefix {prefix:?} is ambiguous: it matches {count} images")]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// How many images it matches.
        count: usize,
    },
    /// A JSON document in the store or an archive is malformed.
    #[error("invalid JSON in {}: {source}", path.display())]
    Json {
        /// The file (inside the store or the archive).
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A manifest or index is malformed.
    #[error("invalid manifest {digest}: {source}")]
    Manifest {
        /// The manifest.
        digest: Digest,
        /// Why.
        source: strata_oci::ManifestError,
    },
    /// An index has no manifest for the platform wanted.
    #[error("no manifest for platform {platform} in index {digest}")]
    NoMatchingPlatform {
        /// The index.
        digest: Digest,
        /// The platform wanted.
        platform: String,
    },
    /// An area name is not `[a-z0-9-]+`.
    #[error("invalid store area name {name:?}: use [a-z0-9-]+")]
    InvalidAreaName {
        /// The name given.
        name: String,
    },
    /// An archive is not a docker or OCI archive, or is inconsistent.
    #[error("invalid archive: {reason}")]
    Archive {
        /// What is wrong.
        reason: String,
    },
}

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub(crate) fn json_error(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Json { path, source }
}

pub(crate) fn io_error(
    operation: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io(strata_fs::Error::new(operation, path, source))
}
