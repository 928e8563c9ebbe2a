//! One run of a container: its image unpacked, its writable layer mounted,
//! its ports, network and cgroups made, its PID 1 launched and released.

use std::os::fd::OwnedFd;
use std::time::Instant;

use rustix::fs::OFlags;
use strata_sandbox::{RootFs, Stdio};

use crate::containers::Containers;
use crate::process;
use crate::record::Container;
use crate::state::State;
use crate::{Error, Result};

/// A container's process while it runs.
pub(super) struct Run {
    pub(super) pid: i32,
    pub(super) pidfd: OwnedFd,
    /// Where the container's standard input goes (`-i` without `-t`).
    pub(super) stdin: Option<OwnedFd>,
    pub(super) stdout: Option<OwnedFd>,
    pub(super) stderr: Option<OwnedFd>,
    /// The terminal's master side (`-t`): input and output both.
    pub(super) terminal: Option<OwnedFd>,
    pub(super) started: Instant,
    pub(super) cgroups: crate::cgroups::Cgroups,
}

/// Why a run could not start, with the exit code `run` reports.
pub(super) struct StartError {
    pub(super) message: String,
    pub(super) exit_code: i32,
}

impl From<Error> for StartError {
    fn from(error: Error) -> Self {
        let exit_code = match &error {
            Error::Sandbox(sandbox) => sandbox.exit_code().unwrap_or(125),
            _ => 125,
        };
        StartError {
            message: error.to_string(),
            exit_code,
        }
    }
}

/// The container's writable layer over its image, detached (the sandbox
/// attaches it in its own namespace).
fn root_file_system(
    containers: &Containers,
    container: &Container,
) -> Result<(OwnedFd, std::path::PathBuf)> {
    let mount = crate::layer::mount_writable_layer(
        containers,
        container,
        container.host_config.auto_remove,
    )?;
    let mount_point = containers.directory(&container.id).join("rootfs");
    strata_fs::create_dir_all(&mount_point)?;
    Ok((mount, mount_point))
}

/// The container's mounts for the sandbox: volumes made where missing, and a
/// new empty volume filled with what the image holds at its destination
/// (Docker's copy-up; the image's path resolved inside `root`, never outside).
fn sandbox_mounts(
    containers: &Containers,
    container: &Container,
    root: &OwnedFd,
) -> Result<Vec<strata_sandbox::Mount>> {
    let volumes = crate::volumes::Volumes::new(containers.store_root());
    let mut mounts = Vec::new();
    for mount in &container.mounts {
        let mut mount = mount.clone();
        mount.prepare(&volumes)?;
        if mount.copy_image_data
            && let Some(name) = &mount.volume_name
            && let Ok(directory) = crate::copy::root::open_in(
                root,
                &mount.destination,
                OFlags::PATH | OFlags::DIRECTORY,
            )
        {
            let from = std::path::PathBuf::from(format!(
                "/proc/self/fd/{}",
                std::os::fd::AsRawFd::as_raw_fd(&directory)
            ));
            volumes.populate(name, &from)?;
        }
        mounts.push(mount.to_sandbox()?);
    }
    Ok(mounts)
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| strata_fs::Error::new("create", "pipe", e.into()).into())
}

/// Starts the container's PID 1; `state` gets its ports, addresses and cgroups.
pub(super) fn start(
    containers: &Containers,
    container: &Container,
    state: &mut State,
    size: (u16, u16),
) -> std::result::Result<Run, StartError> {
    let directory = containers.directory(&container.id);
    let network = crate::network::prepare(container, &directory)?;
    // pasta first: it is the slowest part, and everything below overlaps it.
    let starting = network.begin()?;
    let (mount, mount_point) = root_file_system(containers, container)?;
    let mut spec = process::main_spec(container)?;
    spec.network_namespace = network.namespace_file();
    spec.hosts = Some(network.hosts.clone());
    spec.resolv_conf = Some(network.resolv_conf.clone());
    if container.host_config.network_mode == "host" {
        spec.hostname = network.hostname.clone();
    }
    spec.mounts = sandbox_mounts(containers, container, &mount)?;
    let rootfs = RootFs::Detached { mount, mount_point };
    let cgroups =
        crate::cgroups::Cgroups::create(&container.id, &crate::create::limits(container))?;
    state.cgroup_procs = cgroups.procs_files();

    let (stdio, ours) = if container.config.tty {
        (
            Stdio::Terminal {
                rows: size.0,
                columns: size.1,
            },
            (None, None, None),
        )
    } else {
        let stdin = if container.config.open_stdin {
            Some(pipe()?)
        } else {
            None
        };
        let (out_read, out_write) = pipe()?;
        let (err_read, err_write) = pipe()?;
        let (stdin_theirs, stdin_ours) = match stdin {
            Some((read, write)) => (Some(read), Some(write)),
            None => (None, None),
        };
        (
            Stdio::Fds {
                stdin: stdin_theirs,
                stdout: out_write,
                stderr: err_write,
            },
            (stdin_ours, Some(out_read), Some(err_read)),
        )
    };
    let mut pending = strata_sandbox::launch(rootfs, &spec, stdio).map_err(Error::from)?;
    for procs in &state.cgroup_procs {
        if let Err(e) = std::fs::write(procs, pending.pid().to_string()) {
            pending.abort();
            return Err(Error::from(strata_fs::Error::new("write", procs, e)).into());
        }
    }
    if let Err(error) = network.connect(starting, state) {
        pending.abort();
        return Err(error.into());
    }
    pending.ready().map_err(Error::from)?;
    network
        .write_files(container, pending.pid())
        .map_err(StartError::from)?;
    let started = pending.release().map_err(Error::from)?;
    let (stdin, stdout, stderr) = ours;
    Ok(Run {
        pid: started.pid,
        pidfd: started.pidfd,
        stdin,
        stdout,
        stderr,
        terminal: started.terminal,
        started: Instant::now(),
        cgroups,
    })
}
