//! Containers: `strata run` and the commands around it, without a daemon.
//!
//! Each container lives in the store (`containers/<id>/`): its
//! configuration (Docker's `Config` and `HostConfig`), its state (written
//! atomically, one lock per container), its json-file log and its writable
//! layer (an overlay over the image's snapshots). A small monitor process
//! (strata re-executed, single-threaded, in the spirit of conmon) owns the
//! container's PID 1: it writes the log, records the exit status, runs the
//! health check, applies the restart policy and stops the container with
//! its stop signal and timeout. Every command works from any shell by
//! reading the state and talking to the monitor over its socket.
//!
//! Around them, Docker's behaviour in parts: its value parsers (sizes,
//! durations, CPUs), the json-file log, published ports and the network
//! (pasta), resource limits (cgroups), and mounts and volumes.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cgroups;
mod error;
mod logs;
mod mounts;
mod pasta;
mod ports;
mod units;
mod volumes;

pub use cgroups::{
    CGROUP_DIRECTORY, CgroupVersion, Cgroups, Group, Hierarchies, Hierarchy, Limits, MINIMUM_MEMORY,
};
pub use error::{DurationProblem, Error, MountProblem, Result};
pub use logs::{
    LogEntry, LogReader, LogWriter, PARTIAL_ENTRY_SIZE, ReadOptions, format_rfc3339_nano,
    format_rfc3339_nano_fixed, parse_log_time,
};
pub use mounts::{
    ApiBindOptions, ApiDriver, ApiMount, ApiTmpfsOptions, ApiVolumeOptions, ContainerMount,
    MountConfig, MountOrigin, MountPoint, MountType, TmpfsOptions, add_image_volumes, parse_mount,
    parse_mounts, parse_tmpfs, parse_volume,
};
pub use pasta::{NETNS_FILE, NetworkAddresses, PID_FILE, Pasta};
pub use ports::{
    ContainerPort, PortBinding, PortSpecs, Protocol, PublishedBinding, PublishedPorts,
    ephemeral_port_range, parse_expose, parse_publish,
};
pub use units::{
    available_cpus, check_cpus, format_duration, parse_cpus, parse_duration, parse_memory,
};
pub use volumes::{VOLUME_DATA, Volume, Volumes};
