//! `strata prune`: deletes content nothing references.

use std::process::ExitCode;

use strata_store::{Access, Store};

use super::Global;
use crate::format::human;
use crate::images::{open_store, store_root};

/// Arguments of `strata prune`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Do not prompt (strata never prompts; accepted for Docker compatibility)
    #[arg(short, long)]
    force: bool,
}

pub(crate) fn run(_args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let store = match Store::try_open_exclusive(store_root(global))? {
        Some(store) => store,
        None => {
            eprintln!("waiting for other strata processes to release the store...");
            open_store(global, Access::Exclusive)?
        }
    };
    let report = store.prune()?;
    for digest in &report.blobs_removed {
        println!("deleted: {digest}");
    }
    println!();
    println!("Total reclaimed space: {}", human::size(report.bytes_freed));
    Ok(ExitCode::SUCCESS)
}
