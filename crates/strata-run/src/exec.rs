//! `exec`: another process in a running container, as Docker runs it: the
//! container's user, directory, environment, capabilities and security
//! options unless `-u`, `-w`, `-e` say otherwise; placed in its cgroups.

use std::path::PathBuf;

use strata_sandbox::{Spec, Started, Stdio};

use crate::containers::{Containers, Entry};
use crate::create::merge_env;
use crate::record::Container;
use crate::{Error, Result};

/// What `exec` was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl ExecOptions {
    /// The options with `--env-file` files read and `-e NAME` taken from
    /// this process's environment (what a monitor, elsewhere, cannot do).
    pub fn resolved(&self) -> Result<ExecOptions> {
        Ok(ExecOptions {
            env: crate::create::environment_entries(&self.env, &self.env_files)?,
            env_files: Vec::new(),
            ..self.clone()
        })
    }
}

/// The sandbox spec of an exec'd process: the container's, with `-u`,
/// `-w` and `-e` over it.
pub(crate) fn exec_spec(container: &Container, options: &ExecOptions) -> Result<Spec> {
    let mut spec = crate::process::spec(container, options.command.clone(), options.tty)?;
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
    Ok(spec)
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
    let spec = exec_spec(&entry.container, options)?;
    Ok(strata_sandbox::exec_in(
        entry.state.pid,
        &spec,
        stdio,
        &entry.state.cgroup_procs,
    )?)
}

/// Docker's words for an exec'd process that could not start: runc's
/// wrapping around an exec error, the bare message for a user not found.
pub fn exec_failure_message(error: &strata_sandbox::Error) -> String {
    match error {
        strata_sandbox::Error::Exec { .. } => format!(
            "OCI runtime exec failed: exec failed: unable to start container process: {error}: unknown"
        ),
        other => other.to_string(),
    }
}
