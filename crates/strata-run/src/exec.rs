//! `exec`: another process in a running container, as Docker runs it: the
//! container's user, directory, environment, capabilities and security
//! options unless `-u`, `-w`, `-e` say otherwise; placed in its cgroups.

use std::path::PathBuf;

use strata_sandbox::{Started, Stdio};

use crate::containers::{Containers, Entry};
use crate::create::merge_env;
use crate::{Error, Result};

/// What `exec` was asked.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-e` values.
    pub env: Vec<String>,
    /// `--env-file` files.
    pub env_files: Vec<PathBuf>,
    /// `-t`.
    pub tty: bool,
}

/// Starts `options.command` in the running container `entry`; the process
/// is a child of the caller, which must be single-threaded.
pub fn exec(
    containers: &Containers,
    entry: &Entry,
    options: &ExecOptions,
    stdio: Stdio,
) -> Result<Started> {
    let id = &entry.container.id;
    if entry.state.pid == 0 || !containers.monitor_alive(id) {
        return Err(Error::NotRunning { id: id.clone() });
    }
    let mut spec = crate::process::spec(&entry.container, options.command.clone(), options.tty)?;
    if let Some(user) = &options.user {
        spec.user = user.clone();
    }
    if let Some(workdir) = &options.workdir {
        if !workdir.starts_with('/') {
            return Err(Error::InvalidFlag {
                flag: "--workdir",
                message: format!(
                    "the working directory '{workdir}' is invalid, it needs to be an absolute path"
                ),
            });
        }
        spec.working_dir = workdir.clone();
    }
    let extra = crate::create::environment_entries(&options.env, &options.env_files)?;
    spec.env = merge_env(spec.env, &extra);
    Ok(strata_sandbox::exec_in(
        entry.state.pid,
        &spec,
        stdio,
        &entry.state.cgroup_procs,
    )?)
}
