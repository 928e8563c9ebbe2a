//! `strata`: the command-line tool. Parses arguments, runs one command, and
//! prints errors with their whole chain. Data goes to stdout; progress, warnings
//! and errors to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::Parser;

mod commands;

/// A daemonless OCI image builder.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: commands::Global,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    // The sandbox helper is this binary re-executed: it must become the
    // helper before anything else runs (no thread, no argument parsing).
    strata_sandbox::run_if_requested();
    let cli = Cli::parse();
    match cli.command.run(&cli.global) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
