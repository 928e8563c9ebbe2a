//! `strata top`: the processes of a running container, as the host's `ps`
//! shows them, in docker's table (tabwriter, columns at least 20 wide).

use std::process::ExitCode;

use super::{Failure, Global, containers, find};
use crate::format::table;

/// Arguments of `strata top`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The container
    #[arg(value_name = "CONTAINER")]
    container: String,
    /// Options for ps [default: -ef]
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    options: Vec<String>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    let entry = find(&containers, &args.container)?;
    let list = strata_run::top(&entry, &args.options.join(" ")).map_err(Failure::error)?;
    let mut rows = vec![list.titles];
    rows.extend(list.processes);
    print!("{}", table::render_with_minimum(&rows, 20));
    Ok(ExitCode::SUCCESS)
}
