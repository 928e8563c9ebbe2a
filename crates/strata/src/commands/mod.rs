//! One module per command: each has an `Args` (clap) and a `run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

mod context;
mod lint;
mod parse;

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The store's root directory [default: /var/lib/strata for root,
    /// $XDG_DATA_HOME/strata otherwise]
    #[arg(long, global = true, env = "STRATA_ROOT", value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse a Dockerfile and print its instructions
    Parse(parse::Args),
    /// Inspect a build context: what is sent, what is ignored
    Context(context::Args),
    /// Lint a Dockerfile: BuildKit's checks, common mistakes, hadolint's rules
    Lint(lint::Args),
}

impl Command {
    /// Runs the command; its exit code on success.
    pub(crate) fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Parse(args) => parse::run(args, global),
            Command::Context(args) => context::run(args, global),
            Command::Lint(args) => lint::run(args, global),
        }
    }
}
