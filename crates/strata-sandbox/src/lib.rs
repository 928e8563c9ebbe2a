//! Runs one process over a prepared root file system, as `docker build` runs
//! a RUN step: new mount, PID, IPC and UTS namespaces (and network, for
//! `--network=none`), pivot_root, /proc, a minimal /dev, read-only /sys,
//! generated /etc/hosts, /etc/resolv.conf and /etc/hostname mounted over (never
//! written into the root), hostname `buildkitsandbox`, the user resolved in
//! the root's /etc/passwd and /etc/group, Docker's capabilities, rlimits and
//! umask, PATH defaulted. It knows nothing of images.
//!
//! The work happens in a helper: a freshly executed, single-threaded copy of
//! a binary that calls [`run_if_requested`] first thing in `main` (the
//! `strata` binary; in this crate's tests, `strata-sandbox-helper`), never in
//! a fork of the caller's multi-threaded process. [`Sandbox::spawn`] starts
//! it; [`Running::wait`] streams the output line by line and reports the
//! [`ExitStatus`]; a [`Canceller`] kills the sandbox's PID 1, which takes
//! every process and mount of the sandbox with it. Should the caller die, the
//! parent-death signal does the same.
//!
//! [`private_mount_namespace`] gives a caller that attaches mounts itself a
//! namespace of its own, so that nothing it mounted outlives it.
//!
//! Root is required for now ([`Error::NotRoot`]).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod error;
mod files;
mod init;
mod namespace;
mod sandbox;
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the sandbox's setup is not wired to it yet")
)]
mod seccomp;
mod spec;
mod user;
mod wire;

pub use error::{Error, Result};
pub use init::run_if_requested;
pub use namespace::private_mount_namespace;
pub use sandbox::{Canceller, Running, Sandbox};
pub use spec::{
    DEFAULT_HOSTNAME, DEFAULT_PATH, ExitStatus, Mount, MountKind, Network, RootFs, Spec, Stream,
};
pub use user::{ResolvedUser, resolve_user};
pub use wire::INIT_ARGUMENT;
