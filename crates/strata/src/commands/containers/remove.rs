//! `rm` and `container prune`.

use std::io::Write;
use std::process::ExitCode;

use super::{Failure, Global, containers, find, for_each};
use crate::format::human;

/// Arguments of `strata rm`.
#[derive(Debug, clap::Args)]
pub(crate) struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    volumes: bool,
    /// Containers
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Arguments of `strata container prune`.
#[derive(Debug, clap::Args)]
pub(crate) struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

/// `strata rm`.
pub(crate) fn rm(args: RmArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    for_each(&args.containers, |name| {
        let entry = find(&containers, name)?;
        let id = entry.container.id.clone();
        if containers.monitor_alive(&id) {
            if !args.force {
                return Err(Failure::error(format!(
                    "You cannot remove a running container {id}. Stop the container before attempting removal or force remove"
                )));
            }
            strata_run::stop(&containers, &entry, Some("KILL".to_owned()), Some(0))
                .map_err(Failure::error)?;
        }
        // A `--rm` container may have removed itself meanwhile.
        if !containers.directory(&id).exists() {
            return Ok(());
        }
        let _lock = containers.lock(&id)?;
        strata_run::remove_stopped(&containers, &entry.container, args.volumes)
            .map_err(Failure::error)
    })
}

/// `strata container prune`.
pub(crate) fn prune(args: PruneArgs, global: &Global) -> anyhow::Result<ExitCode> {
    if !args.force {
        eprint!(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let containers = containers(global)?;
    let mut deleted = Vec::new();
    let mut reclaimed = 0u64;
    for entry in containers.list()? {
        let id = entry.container.id.clone();
        if containers.monitor_alive(&id) {
            continue;
        }
        let _lock = containers.lock(&id)?;
        reclaimed += containers.writable_layer_size(&id);
        strata_run::remove_stopped(&containers, &entry.container, false)?;
        deleted.push(id);
    }
    let mut out = String::new();
    if !deleted.is_empty() {
        out.push_str("Deleted Containers:\n");
        for id in &deleted {
            out.push_str(id);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human::size(reclaimed)
    ));
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
