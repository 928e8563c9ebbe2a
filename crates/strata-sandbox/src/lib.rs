//! Runs one process over a prepared root file system, as `docker build`
//! runs a RUN step and `docker run` a container: new mount, PID, IPC and UTS
//! namespaces (and network, unless the host's), pivot_root, /proc, a minimal
//! /dev, read-only /sys, /etc/hosts, /etc/resolv.conf (and a container's
//! /etc/hostname) mounted over (never written into the root), Docker's masked paths, the
//! user resolved in the root's /etc/passwd and /etc/group, Docker's
//! capabilities (or the caller's), rlimits and umask, PATH defaulted. It
//! knows nothing of images.
//!
//! Two ways in. A RUN step runs in a helper: a freshly executed,
//! single-threaded copy of a binary that calls [`run_if_requested`] first
//! thing in `main` (the `strata` binary; in this crate's tests,
//! `strata-sandbox-helper`), never in a fork of the caller's multi-threaded
//! process. [`Sandbox::spawn`] starts it; [`Running::wait`] streams the
//! output line by line and reports the [`ExitStatus`]; a [`Canceller`] kills
//! the sandbox's PID 1, which takes every process and mount of the sandbox
//! with it. Should the caller die, the parent-death signal does the same.
//!
//! A container's monitor, itself single-threaded, calls [`launch()`] in
//! process: PID 1 is cloned into its namespaces, set up, and held until
//! [`Pending::release`] (after the caller placed it in cgroups and
//! connected its network); [`exec_in`] runs another process in a running
//! sandbox. PID 1 can be a minimal init (`--init`), and any process can have
//! a terminal ([`Stdio::Terminal`]).
//!
//! The setup steps live in `process`, one file each, and reach the kernel
//! through one small trait, so that unit tests record what they do.
//!
//! [`trim_resident_memory`] lets a long-lived caller (a container's
//! monitor) give back the code pages it touched only while starting.
//!
//! [`Ulimit`] reads docker's `--ulimit` values for [`Spec::ulimits`];
//! [`Spec::insecure`] is BuildKit's `RUN --security=insecure`.
//!
//! [`private_mount_namespace`] gives a caller that attaches mounts itself a
//! namespace of its own, so that nothing it mounted outlives it.
//!
//! Root is required for now ([`Error::NotRoot`]).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod binfmt;
mod capabilities;
mod error;
mod files;
mod helper;
mod join;
mod launch;
mod memory;
mod namespace;
mod process;
mod rootless;
mod sandbox;
mod seccomp;
mod spec;
mod stubs;
mod ulimit;
mod user;
mod wire;

pub use capabilities::Capabilities;
pub use error::{Error, ExecProblem, Result};
pub use helper::run_if_requested;
pub use join::exec_in;
pub use launch::{Pending, Started, Stdio, launch};
pub use memory::trim_resident_memory;
pub use namespace::private_mount_namespace;
pub use process::mounts::{MASKED_PATHS, READONLY_PATHS};
pub use process::namespaces::new_network_namespace;
pub use rootless::{
    IdRange, Rootless, enter as enter_rootless, hold_if_requested, subordinate_ids,
};
pub use sandbox::{Canceller, Running, Sandbox};
pub use spec::{
    DEFAULT_HOSTNAME, DEFAULT_PATH, ExitStatus, Mount, MountKind, Network, RootFs, Seccomp, Spec,
    Stream,
};
pub use ulimit::Ulimit;
pub use user::{ResolvedUser, resolve_user};
pub use wire::INIT_ARGUMENT;
