//! `strata logout`: removes stored credentials for a registry.

use std::process::ExitCode;

use strata_registry::DockerConfig;

use super::Global;
use super::login::registry_name;

/// Arguments of `strata logout`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The registry [default: docker.io]
    #[arg(value_name = "SERVER")]
    server: Option<String>,
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    let registry = registry_name(args.server.as_deref());
    let shown = strata_registry::auth_key(&registry);
    if DockerConfig::from_environment().erase(&registry)? {
        println!("Removing login credentials for {shown}");
    } else {
        println!("Not logged in to {shown}");
    }
    Ok(ExitCode::SUCCESS)
}
