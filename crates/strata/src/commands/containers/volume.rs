//! `strata volume`: the store's named and anonymous volumes, as `docker volume`.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use strata_run::Volumes;

use super::{Failure, Global, containers};
use crate::format::{human, listing};

/// `strata volume ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum VolumeCommand {
    /// Create a volume
    Create {
        /// Set metadata for a volume
        #[arg(short, long = "label", value_name = "list")]
        label: Vec<String>,
        /// The name (random when not given)
        #[arg(value_name = "VOLUME")]
        name: Option<String>,
    },
    /// List volumes
    #[command(visible_alias = "list")]
    Ls {
        /// Only display volume names
        #[arg(short, long)]
        quiet: bool,
        /// Format output: 'table', 'json', 'table TEMPLATE' or a Go TEMPLATE
        #[arg(long)]
        format: Option<String>,
    },
    /// Display detailed information on one or more volumes
    Inspect {
        /// Volumes
        #[arg(required = true, value_name = "VOLUME")]
        names: Vec<String>,
    },
    /// Remove one or more volumes
    Rm {
        /// Volumes
        #[arg(required = true, value_name = "VOLUME")]
        names: Vec<String>,
    },
    /// Remove unused volumes
    Prune {
        /// Do not prompt for confirmation
        #[arg(short, long)]
        force: bool,
    },
}

impl VolumeCommand {
    pub(crate) fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        let containers = containers(global)?;
        let volumes = Volumes::new(containers.store_root());
        match self {
            VolumeCommand::Create { label, name } => {
                let labels = label
                    .iter()
                    .map(|l| {
                        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
                        (k.to_owned(), v.to_owned())
                    })
                    .collect();
                let volume = match name {
                    Some(name) => volumes.create(&name, labels),
                    None => volumes.create_anonymous(),
                }
                .map_err(Failure::error)?;
                println!("{}", volume.name);
                Ok(ExitCode::SUCCESS)
            }
            VolumeCommand::Ls { quiet, format } => {
                let list = volumes.list()?;
                if quiet {
                    for volume in &list {
                        println!("{}", volume.name);
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                let rows: Vec<listing::Row> = list
                    .iter()
                    .map(|v| {
                        listing::Row::from([
                            ("Driver", "local".to_owned()),
                            ("Name", v.name.clone()),
                            ("Mountpoint", v.mountpoint.display().to_string()),
                            ("Scope", "local".to_owned()),
                        ])
                    })
                    .collect();
                let layout = listing::Layout {
                    columns: &["Driver", "Name"],
                    headers: &[
                        ("Driver", "DRIVER"),
                        ("Name", "VOLUME NAME"),
                        ("Mountpoint", "MOUNTPOINT"),
                    ],
                };
                print!("{}", listing::render(&rows, &layout, format.as_deref())?);
                Ok(ExitCode::SUCCESS)
            }
            VolumeCommand::Inspect { names } => {
                let mut objects = Vec::new();
                for name in &names {
                    objects.push(volumes.get(name).map_err(Failure::error)?.inspect_json());
                }
                let mut text = serde_json::to_string_pretty(&objects)?;
                text.push('\n');
                std::io::stdout().write_all(text.as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
            VolumeCommand::Rm { names } => super::for_each(&names, |name| {
                let users = containers.volume_users(name)?;
                volumes.remove(name, &users).map_err(Failure::error)
            }),
            VolumeCommand::Prune { force } => {
                if !force {
                    eprint!(
                        "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
                    );
                    let mut answer = String::new();
                    let _ = std::io::stdin().read_line(&mut answer);
                    if !matches!(answer.trim(), "y" | "Y") {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                let in_use: BTreeSet<String> = containers
                    .list()?
                    .iter()
                    .flat_map(|e| {
                        e.container
                            .mounts
                            .iter()
                            .filter_map(|m| m.volume_name.clone())
                    })
                    .collect();
                let (removed, bytes) = volumes.prune(&in_use)?;
                if !removed.is_empty() {
                    println!("Deleted Volumes:");
                    for name in &removed {
                        println!("{name}");
                    }
                    println!();
                }
                println!("Total reclaimed space: {}", human::size(bytes));
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
