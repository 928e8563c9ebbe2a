//! `strata cp`: files between a container and the host (docker's `cp`).
//! The work and the path rules are `strata-run`'s ([`ContainerRoot`]).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use strata_run::{ContainerRoot, Copied, split_copy_argument};

use super::{Failure, Global, containers};
use crate::format::human;

/// Arguments of `strata cp`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "strata cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       strata cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
)]
pub(crate) struct Args {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    archive: bool,
    /// Always follow symlinks in SRC_PATH
    #[arg(short = 'L', long)]
    follow_link: bool,
    /// Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached
    #[arg(short, long)]
    quiet: bool,
    /// CONTAINER:SRC_PATH, or a host path, or - for a tar stream on stdin
    #[arg(value_name = "SRC_PATH")]
    source: String,
    /// CONTAINER:DEST_PATH, or a host path, or - for a tar stream on stdout
    #[arg(value_name = "DEST_PATH")]
    destination: String,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if args.source.is_empty() {
        return Err(Failure::plain("source can not be empty", 1));
    }
    if args.destination.is_empty() {
        return Err(Failure::plain("destination can not be empty", 1));
    }
    let copied = match (
        split_copy_argument(&args.source),
        split_copy_argument(&args.destination),
    ) {
        ((Some(_), _), (Some(_), _)) => {
            return Err(Failure::plain(
                "copying between containers is not supported",
                1,
            ));
        }
        ((None, _), (None, _)) => {
            return Err(Failure::plain(
                "must specify at least one container source",
                1,
            ));
        }
        ((Some(name), path), (None, destination)) => {
            let root = open(global, name)?;
            if destination == "-" {
                return archive_to_stdout(&root, path, args.follow_link);
            }
            root.copy_out(path, destination, args.follow_link)
        }
        ((None, source), (Some(name), path)) => {
            let root = open(global, name)?;
            if source == "-" {
                root.extract(std::io::stdin().lock(), path, args.archive)
            } else {
                root.copy_in(source, path, args.follow_link, args.archive)
            }
        }
    }
    .map_err(failure)?;
    summarize(&copied, args.quiet);
    Ok(ExitCode::SUCCESS)
}

/// The archive on stdout. A reader that goes away (`| head`) ends the
/// copy quietly with 141, as docker dies of its SIGPIPE.
fn archive_to_stdout(
    root: &ContainerRoot,
    path: &str,
    follow_link: bool,
) -> anyhow::Result<ExitCode> {
    let mut output = std::io::BufWriter::new(std::io::stdout().lock());
    let result = root.archive(path, follow_link, &mut output).and_then(|_| {
        output
            .flush()
            .map_err(|source| strata_run::Error::ArchiveOutput { source })
    });
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(strata_run::Error::ArchiveOutput { source })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(ExitCode::from(141))
        }
        Err(error) => Err(failure(error)),
    }
}

fn open(global: &Global, name: &str) -> anyhow::Result<ContainerRoot> {
    ContainerRoot::open(&containers(global)?, name).map_err(failure)
}

/// Docker's message: the daemon's errors with `Error: `, the CLI's alone.
fn failure(error: strata_run::Error) -> anyhow::Error {
    if error.is_client_side() {
        Failure::plain(error, 1)
    } else {
        Failure::error(error)
    }
}

/// docker 28's summary, on a terminal only (as its progress), unless `-q`.
fn summarize(copied: &Copied, quiet: bool) {
    if quiet || !std::io::stdout().is_terminal() {
        return;
    }
    eprintln!(
        "Successfully copied {} to {}",
        human::size(copied.size),
        copied.destination
    );
}
