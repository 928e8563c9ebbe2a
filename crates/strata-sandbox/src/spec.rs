//! What to run and how: the public description of a sandboxed process.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;
use crate::ulimit::Ulimit;

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
    /// A new network namespace with only the loopback interface, up, which
    /// the caller connects itself (e.g. with pasta) before releasing the process.
    Private,
}

/// The seccomp filter of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Seccomp {
    /// Docker's default profile.
    #[default]
    Default,
    /// No filter (`--security-opt seccomp=unconfined`).
    Unconfined,
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
/// hostname, extra hosts, mounts and the process's security settings. Fields
/// added after the first ones default (also when deserialised) to what a RUN
/// step gets.
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
    /// The process's capabilities: Docker's default set unless changed. Root
    /// gets them as effective, permitted and bounding sets; another user in
    /// the bounding set only (its effective set is empty, as with Docker).
    #[serde(default)]
    pub capabilities: Capabilities,
    /// PR_SET_NO_NEW_PRIVS before exec (`--security-opt no-new-privileges`); default false, as Docker.
    #[serde(default)]
    pub no_new_privileges: bool,
    /// The seccomp filter (default: Docker's profile).
    #[serde(default)]
    pub seccomp: Seccomp,
    /// The root file system mounted read-only (`--read-only`); the mounts on
    /// it (/proc, /dev, tmpfs and bind mounts) stay as they are. Default false.
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// PID 1 is a minimal init (as `docker run --init`, tini): it forks the
    /// command, forwards every catchable signal to it, reaps zombies, and
    /// exits with its status (128+N when killed by signal N). Default false.
    #[serde(default)]
    pub init: bool,
    /// The contents of /etc/hosts when the caller has its own (containers use
    /// Docker's format); `None` (the default) generates BuildKit's from
    /// `hostname` and `extra_hosts`. With the caller's hosts, /etc/hosts,
    /// /etc/resolv.conf and /etc/hostname are writable, as a container's are;
    /// otherwise the first two are read-only and /etc/hostname is the root's
    /// own, as a RUN step's are in BuildKit.
    #[serde(default)]
    pub hosts: Option<String>,
    /// The contents of /etc/resolv.conf when the caller has its own; `None`
    /// (the default) derives it from the host's, as BuildKit does.
    #[serde(default)]
    pub resolv_conf: Option<String>,
    /// With [`Network::Private`]: a network namespace (a file bound to one,
    /// see [`crate::new_network_namespace`]) to join instead of making a new
    /// one, so that the caller can connect it before PID 1 even exists.
    #[serde(default)]
    pub network_namespace: Option<PathBuf>,
    /// Resource limits set as given (`--ulimit`); the others keep the
    /// sandbox's defaults (open files, processes and core size raised as
    /// dockerd's BuildKit has them). Default none.
    #[serde(default)]
    pub ulimits: Vec<Ulimit>,
    /// BuildKit's `RUN --security=insecure`: every capability this process
    /// has (whatever `capabilities` says), no seccomp filter, no masked or
    /// read-only paths, /sys writable, and the devices BuildKit adds (kmsg,
    /// fuse, cuse, kvm, net/tun, loop-control, loop devices). Default false.
    #[serde(default)]
    pub insecure: bool,
    /// The primary group is also a supplementary one, as BuildKit's RUN steps
    /// get it (containerd's `ensureAdditionalGids`); `docker run` lists only
    /// the groups naming the user. Default true.
    #[serde(default = "yes")]
    pub primary_group_supplementary: bool,
}

fn yes() -> bool {
    true
}

impl Spec {
    /// A spec running `args` as root in `/`, host network, no extra mounts,
    /// Docker's capabilities and seccomp profile.
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
            capabilities: Capabilities::docker_default(),
            no_new_privileges: false,
            seccomp: Seccomp::Default,
            readonly_rootfs: false,
            init: false,
            hosts: None,
            resolv_conf: None,
            network_namespace: None,
            ulimits: Vec::new(),
            insecure: false,
            primary_group_supplementary: true,
        }
    }
}

impl Spec {
    /// Errors when the spec cannot run: no command, or a mount destination
    /// that is not absolute.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.args.is_empty() {
            return Err(crate::Error::InvalidSpec {
                reason: "no command given".to_owned(),
            });
        }
        for mount in &self.mounts {
            if !mount.destination.starts_with('/') {
                return Err(crate::Error::InvalidSpec {
                    reason: format!("mount destination {:?} is not absolute", mount.destination),
                });
            }
        }
        Ok(())
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
