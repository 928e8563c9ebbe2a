//! Containers: `strata run` and the commands around it, without a daemon.
//!
//! Each container lives in the store (`areas/containers/<id>/`,
//! [`Containers`]): its [`Container`] record (Docker's `Config` and
//! `HostConfig`), its [`State`] (replaced atomically; a lock per
//! container), its json-file log ([`LogWriter`], [`LogReader`]) and its
//! writable layer (an overlay over the image's snapshots). A small
//! [`monitor`] process (strata re-executed, single-threaded, in the spirit
//! of conmon) owns the container's PID 1: it writes the log, records the
//! exit status, runs the health check, applies the restart policy and stops
//! the container with its stop signal and timeout. Every command works from
//! any shell by reading the state and talking to the monitor over its
//! socket ([`protocol`], [`Session`]).
//!
//! - Creating: [`container_record`] merges `run` flags ([`CreateOptions`])
//!   with the image's config as Docker does; [`create`] records it and holds
//!   the image in the store.
//! - Running: [`start`], [`stop`], [`kill`], [`wait`], [`exec`], [`remove_stopped`].
//! - Networking: the default network through pasta ([`Pasta`]), ports
//!   parsed and published as Docker's ([`parse_publish`], [`PublishedPorts`]).
//! - Limits: cgroups v1 or v2 (`-m`, `--cpus`, `--pids-limit`).
//! - Files and processes: [`ContainerRoot`] copies in and out of a
//!   container without leaving its root (`cp`); [`top`] lists its processes.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cgroups;
mod client;
mod containers;
mod copy;
mod create;
mod error;
mod exec;
mod ids;
mod inspect;
mod layer;
mod logs;
pub mod monitor;
mod mounts;
mod network;
mod pasta;
mod ports;
mod process;
pub mod protocol;
mod record;
mod remove;
mod restart;
mod signals;
mod state;
mod top;
mod units;
mod volumes;

pub use cgroups::{
    CGROUP_DIRECTORY, CgroupVersion, Cgroups, Group, Hierarchies, Hierarchy, Limits, MINIMUM_MEMORY,
};
pub use client::{
    Ended, Extra, Output, Session, StdOutput, kill, start, stop, wait, wait_for_monitor,
};
pub use containers::{Containers, Entry};
pub use copy::{ContainerRoot, Copied, split_copy_argument};
pub use create::{CreateOptions, ImageInput, check_limits, container_record, merge_env};
pub use error::{Error, ExtractError, MountProblem, Result};
pub use exec::{ExecOptions, exec, exec_failure_message};
pub use ids::{SHORT_ID, new_id, short_id};
pub use inspect::{ContainerInspect, inspect};
pub use logs::{
    LogEntry, LogReader, LogWriter, PARTIAL_ENTRY_SIZE, ReadOptions, format_rfc3339_nano,
    format_rfc3339_nano_fixed, parse_log_time,
};
pub use monitor::run_if_requested as run_monitor_if_requested;
pub use mounts::{
    ApiBindOptions, ApiDriver, ApiMount, ApiTmpfsOptions, ApiVolumeOptions, ContainerMount,
    MountConfig, MountOrigin, MountPoint, MountType, TmpfsOptions, add_image_volumes, parse_mount,
    parse_mounts, parse_tmpfs, parse_volume,
};
pub use pasta::{
    NETNS_FILE, NetworkAddresses, PID_FILE, Pasta, Starting, pasta_installed, tun_usable,
};
pub use ports::{
    ContainerPort, PortBinding, PortSpecs, Protocol, PublishedBinding, PublishedPorts,
    ephemeral_port_range, parse_expose, parse_publish,
};
pub use protocol::{Attach, Reply, Request};
pub use record::{Config, Container, HostConfig, ImageSource, RestartPolicy};
pub use remove::{create, holder, remove_stopped};
pub use restart::parse_restart_policy;
pub use signals::{parse_signal, signal_name};
pub use state::{Health, HealthResult, HealthStatus, NetworkState, State, Status, ZERO_TIME, now};
pub use top::{ProcessList, top};
pub use units::{available_cpus, check_cpus, parse_cpus, parse_memory};
pub use volumes::{VOLUME_DATA, Volume, Volumes};
