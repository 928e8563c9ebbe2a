//! `strata builder prune`: empties the build cache, as `docker builder prune`.

use std::process::ExitCode;

use strata_store::{Access, Store};

use super::Global;
use crate::format::human;
use crate::images::{open_store, store_root};

/// Arguments of `strata builder`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: BuilderCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BuilderCommand {
    /// Remove build cache: step results, their layers, unpacked snapshots and
    /// context caches; named images (and their unpacked layers) are kept
    Prune(PruneArgs),
}

/// Arguments of `strata builder prune`.
#[derive(Debug, clap::Args)]
struct PruneArgs {
    /// Remove all build cache, not just the steps no named image uses (and
    /// RUN cache mounts)
    #[arg(short, long)]
    all: bool,
    /// Do not prompt (strata never prompts; accepted for Docker compatibility)
    #[arg(short, long)]
    force: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.command {
        BuilderCommand::Prune(prune) => run_prune(&prune, global),
    }
}

fn run_prune(args: &PruneArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let store = match Store::try_open_exclusive(store_root(global))? {
        Some(store) => store,
        None => {
            eprintln!("waiting for other strata processes to release the store...");
            open_store(global, Access::Exclusive)?
        }
    };
    let report = strata_build::prune_cache(&store, args.all)?;
    if !report.records_removed.is_empty() {
        println!("Deleted build cache objects:");
        for key in &report.records_removed {
            // Keys are step digests; docker shows its record ids the same way.
            let short = key.strip_prefix("sha256:").unwrap_or(key);
            println!("{}", short.get(..25).unwrap_or(short));
        }
        println!();
    }
    println!("Total reclaimed space: {}", human::size(report.bytes_freed));
    Ok(ExitCode::SUCCESS)
}
