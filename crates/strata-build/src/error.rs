//! The builder's error: where a build can fail, with what the user needs to
//! act on it (the instruction's span, the step, the exit status, the output).

use strata_dockerfile::Span;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Dockerfile is wrong at a place in it (parse, expansion, a bad
    /// stage reference, an invalid flag value).
    #[error(transparent)]
    Dockerfile(#[from] strata_dockerfile::Error),
    /// A build option is wrong (`--target`, `--platform`, `--build-arg`).
    #[error("{message}")]
    Option {
        /// The flag, as the user typed it (`--target`).
        flag: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A step needs an entitlement the build was not given (`--allow`).
    #[error("{entitlement} is not allowed")]
    NotAllowed {
        /// BuildKit's name: `network.host`, `security.insecure`.
        entitlement: &'static str,
    },
    /// The build context could not be read or a COPY source is wrong.
    #[error(transparent)]
    Context(#[from] strata_context::Error),
    /// A COPY/ADD failed at a place in the Dockerfile.
    #[error("{message}")]
    Copy {
        /// The step, e.g. `[2/5] COPY src/ /app/`.
        step: String,
        /// What went wrong.
        message: String,
        /// The instruction's span in the Dockerfile.
        span: Span,
    },
    /// A RUN step ran and failed.
    #[error("process \"{command}\" did not complete successfully: {status}")]
    StepFailed {
        /// The step, e.g. `[3/5] RUN make`.
        step: String,
        /// The command as it ran (the shell's arguments joined).
        command: String,
        /// `exit code: 2`, or `terminated by signal 9`.
        status: String,
        /// The exit code, when the process exited.
        exit_code: Option<i32>,
        /// The last lines of the step's output (at most 20).
        output: Vec<String>,
        /// The instruction's span in the Dockerfile.
        span: Span,
    },
    /// A base or `--from` image could not be found or fetched.
    #[error("{reference}: {message}")]
    Image {
        /// The image as named.
        reference: String,
        /// What went wrong.
        message: String,
        /// The instruction's span in the Dockerfile.
        span: Option<Span>,
    },
    /// A base or `--from` image could not be pulled from its registry: the
    /// registry's typed error, so the CLI can act on it (`strata login`).
    #[error("{reference}: {source}")]
    Pull {
        /// The image as named.
        reference: String,
        /// What the registry said.
        source: Box<strata_registry::RegistryError>,
        /// The instruction's span in the Dockerfile.
        span: Option<Span>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] strata_store::StoreError),
    /// The image could not be catalogued for its SBOM attestation.
    #[error("generating sbom: {0}")]
    Sbom(#[from] strata_sbom::Error),
    /// A snapshot could not be prepared, mounted or committed.
    #[error(transparent)]
    Snapshot(#[from] strata_snapshot::Error),
    /// The sandbox could not run a step.
    #[error(transparent)]
    Sandbox(#[from] strata_sandbox::Error),
    /// A layer could not be read or written.
    #[error(transparent)]
    Layer(#[from] strata_layer::Error),
    /// A file-system call failed.
    #[error(transparent)]
    Io(#[from] strata_fs::Error),
    /// A layer of a `--cache-from` cache could not be brought in.
    #[error("importing a layer from the build cache: {message}")]
    CacheImport {
        /// What went wrong.
        message: String,
    },
    /// A `--cache-to` export failed.
    #[error("failed to export cache to {location}: {message}")]
    CacheExport {
        /// Where it was going.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// The build was cancelled (Ctrl-C, or another stage failed).
    #[error("build cancelled")]
    Cancelled,
}

/// The result of a build operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The registry's error, when a pull failed.
    pub fn registry_error(&self) -> Option<&strata_registry::RegistryError> {
        match self {
            Error::Pull { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The Dockerfile span the error is about, if any.
    pub fn span(&self) -> Option<Span> {
        match self {
            Error::Dockerfile(error) => Some(error.span),
            Error::Copy { span, .. } | Error::StepFailed { span, .. } => Some(*span),
            Error::Image { span, .. } | Error::Pull { span, .. } => *span,
            _ => None,
        }
    }

    /// An image (as named in messages) that could not be found or used;
    /// its span is filled in where the Dockerfile names it.
    pub(crate) fn image(reference: &str, message: impl Into<String>) -> Self {
        Error::Image {
            reference: reference.to_owned(),
            message: message.into(),
            span: None,
        }
    }

    pub(crate) fn io(
        operation: &'static str,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> Self {
        Error::Io(strata_fs::Error::new(operation, path, source))
    }
}
