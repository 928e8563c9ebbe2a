use std::io;
use std::path::PathBuf;

/// Why a sandboxed process could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The sandbox needs root: real, or rootless strata's user namespace.
    #[error(
        "running a step needs root, or strata's user namespace (rootless strata enters it first thing)"
    )]
    NotRoot,
    /// The spec is not runnable.
    #[error("invalid sandbox spec: {reason}")]
    InvalidSpec {
        /// What is wrong.
        reason: String,
    },
    /// The helper process could not be started.
    #[error("start sandbox helper {}: {source}", helper.display())]
    Spawn {
        /// The helper executable.
        helper: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The user could not be resolved in the root file system.
    #[error("{message}")]
    User {
        /// Docker's message ("unable to find user ...").
        message: String,
    },
    /// The command could not be executed.
    #[error("{message}")]
    Exec {
        /// runc's message (`exec: "x": executable file not found in $PATH`).
        message: String,
        /// Which of Docker's cases it is (see [`Error::exit_code`]).
        problem: ExecProblem,
    },
    /// A capability name Docker does not know.
    #[error("invalid {option}: unknown capability: {name:?}")]
    UnknownCapability {
        /// Where the name came from: `CapAdd`, `CapDrop` or `Capabilities`.
        option: &'static str,
        /// The name as normalised (`CAP_NOPE`).
        name: String,
    },
    /// A `--ulimit` value docker refuses (go-units' message).
    #[error("{message}")]
    InvalidUlimit {
        /// What is wrong, in docker's words.
        message: String,
    },
    /// Setting up the namespaces or mounts failed.
    #[error("sandbox setup: {message}")]
    Setup {
        /// What failed, with the kernel's error.
        message: String,
    },
    /// Docker's seccomp profile could not be compiled here.
    #[error("seccomp profile: {message}")]
    Seccomp {
        /// What failed (an unknown architecture, the compiler's complaint).
        message: String,
    },
    /// The kernel refused the seccomp filter (EACCES: neither
    /// `no_new_privs` nor `CAP_SYS_ADMIN`; EINVAL: no seccomp filters).
    #[error("install seccomp filter: {source}")]
    SeccompInstall {
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// Talking to the helper failed, or it died without a word.
    #[error("sandbox helper: {message}")]
    Helper {
        /// What went wrong.
        message: String,
    },
}

/// Why a command could not be executed, in the cases Docker tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExecProblem {
    /// Not in $PATH, or no such file (or no such interpreter).
    NotFound,
    /// Permission denied, not executable, or a directory.
    NotExecutable,
    /// Anything else (an exec format error, ...).
    Other,
}

impl Error {
    /// The exit code Docker gives a container whose command could not run:
    /// 127 when it was not found, 126 when it could not be executed, `None`
    /// for every other error (the caller's own, 125 for `docker run`).
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Error::Exec {
                problem: ExecProblem::NotFound,
                ..
            } => Some(127),
            Error::Exec {
                problem: ExecProblem::NotExecutable,
                ..
            } => Some(126),
            _ => None,
        }
    }
}

/// The result of a sandbox operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
