//! What to run and how: the public description of a sandboxed process.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The hostname of every sandbox unless the spec says otherwise (BuildKit's).
pub const DEFAULT_HOSTNAME: &str = "buildkitsandbox";

/// The PATH given to a process whose environment has none (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The root file system a sandbox runs over.
#[derive(Debug)]
pub enum RootFs {
    /// A directory, bind-mounted as the root.
    Directory(PathBuf),
    /// A detached mount (from `fsmount` or `open_tree`, e.g. a snapshot's
    /// overlay), attached on `mount_point` (an empty directory) inside the
    /// sandbox's own mount namespace only: no mount is ever visible outside,
    /// and none outlives the sandbox.
    Detached {
        /// The detached mount.
        mount: OwnedFd,
        /// An empty directory to attach it on.
        mount_point: PathBuf,
    },
}

/// The network a sandbox sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Network {
    /// The host's network (what builds use by default).
    #[default]
    Host,
    /// A new network namespace with only the loopback interface, up.
    None,
}

/// An extra mount inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Where it appears in the sandbox (absolute). A missing mount point is
    /// created for the run and removed afterwards, so it never reaches a layer.
    pub destination: String,
    /// What is mounted.
    pub kind: MountKind,
    /// Read-only (recursively, for binds).
    pub readonly: bool,
}

/// The kinds of extra mounts (what `RUN --mount` needs: cache, bind and
/// secret mounts are binds of directories or files the builder prepares).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountKind {
    /// A host file or directory, recursively bound.
    Bind {
        /// The host path.
        source: PathBuf,
    },
    /// An empty tmpfs (mode 1777).
    Tmpfs {
        /// Its size limit in bytes (the kernel's default, half of memory, when `None`).
        size: Option<u64>,
    },
}

/// One process to run: argv, environment, working directory, user, network,
/// hostname, extra hosts and mounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// argv; `args[0]` is looked up in the process's own PATH when it has no `/`.
    pub args: Vec<String>,
    /// `NAME=value` entries; PATH defaults to [`DEFAULT_PATH`] and HOME to the
    /// user's home when missing.
    pub env: Vec<String>,
    /// The working directory (absolute), created (owned by the user) when missing.
    pub working_dir: String,
    /// `name[:group]` or `uid[:gid]`, resolved in the root file system; empty means root.
    pub user: String,
    /// The network (default: the host's).
    pub network: Network,
    /// The hostname (default: [`DEFAULT_HOSTNAME`]).
    pub hostname: String,
    /// Extra `/etc/hosts` lines: (hostname, address).
    pub extra_hosts: Vec<(String, String)>,
    /// Extra mounts, applied in order after the standard ones.
    pub mounts: Vec<Mount>,
}

impl Spec {
    /// A spec running `args` as root in `/`, host network, no extra mounts.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            working_dir: "/".to_owned(),
            user: String::new(),
            network: Network::Host,
            hostname: DEFAULT_HOSTNAME.to_owned(),
            extra_hosts: Vec::new(),
            mounts: Vec::new(),
        }
    }
}

/// How a sandboxed process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl ExitStatus {
    /// Whether it exited with code 0.
    pub fn success(&self) -> bool {
        *self == ExitStatus::Code(0)
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit code {code}"),
            ExitStatus::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}
