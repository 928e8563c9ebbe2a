use strata_oci::Digest;

/// What went wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The request could not be made or the connection broke (after retries).
    #[error("{method} {url}")]
    Http {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The registry answered with an error status (after retries for 5xx).
    #[error("{method} {url}: {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The registry's error code and message, if it sent any.
        message: String,
    },
    /// Authentication failed or is required.
    #[error("unauthorized: authentication required for {registry}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Unauthorized {
        /// The registry.
        registry: String,
        /// What the registry or token server said.
        message: String,
    },
    /// The manifest or blob does not exist.
    #[error("{what}: not found")]
    NotFound {
        /// What was asked for (`manifest for localhost:5000/x:1`).
        what: String,
    },
    /// Content did not hash to its digest.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest announced.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// Content had another size than its descriptor says.
    #[error("size mismatch for {digest}: expected {expected} bytes, got more or fewer ({actual})")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The size announced.
        expected: u64,
        /// The size received.
        actual: u64,
    },
    /// A manifest could not be parsed.
    #[error("manifest for {reference}: {source}")]
    Manifest {
        /// The reference.
        reference: String,
        /// Why.
        source: strata_oci::ManifestError,
    },
    /// An index has no manifest for the platform asked for.
    #[error("no matching manifest for {platform} in the manifest list entries of {reference} (available: {})", available.join(", "))]
    NoMatchingPlatform {
        /// The reference.
        reference: String,
        /// The platform wanted.
        platform: String,
        /// The platforms offered.
        available: Vec<String>,
    },
    /// Credentials could not be read, stored or erased.
    #[error("credentials: {message}")]
    Credentials {
        /// What went wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] strata_fs::Error),
    /// The local side of a transfer (the sink or source) failed.
    #[error("{what}: {source}")]
    Local {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The registry's answer made no sense (bad header, bad JSON).
    #[error("{url}: invalid response: {reason}")]
    Protocol {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// The result of a registry operation.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
