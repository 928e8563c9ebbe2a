//! `strata port`: where a container's ports are published.

use std::process::ExitCode;

use super::{Failure, Global, containers, find};

/// Arguments of `strata port`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The container
    #[arg(value_name = "CONTAINER")]
    container: String,
    /// PRIVATE_PORT[/PROTO]
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    port: Option<String>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    let entry = find(&containers, &args.container)?;
    let published = if entry.state.running() {
        entry.state.ports.clone()
    } else {
        strata_run::PublishedPorts::default()
    };
    let Some(text) = &args.port else {
        for line in published.port_lines() {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let with_protocol = if text.contains('/') {
        text.clone()
    } else {
        format!("{text}/tcp")
    };
    let port: strata_run::ContainerPort = with_protocol.parse().map_err(|_| {
        Failure::error(format!(
            "Error: No public port '{with_protocol}' published for {}",
            args.container
        ))
    })?;
    match published.host_addresses(port) {
        Some(addresses) => {
            for address in addresses {
                println!("{address}");
            }
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Failure::error(format!(
            "No public port '{port}' published for {}",
            args.container
        ))),
    }
}
