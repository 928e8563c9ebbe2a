//! `strata`: the command-line tool. Parses arguments, runs one command, and
//! prints errors with their whole chain. Data goes to stdout; progress, warnings
//! and errors to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::Parser;

mod commands;
mod format;
mod images;
mod progress;
mod report;
mod signals;

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
    strata_run::run_monitor_if_requested();
    strata_sandbox::hold_if_requested();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return parse_failure(&error),
    };
    // An unprivileged user's strata runs commands that touch the store in
    // the user's strata namespace (parsing started no thread).
    if cli.command.needs_namespace()
        && let Err(error) = strata_sandbox::enter_rootless()
    {
        eprintln!("Error: {error}");
        return ExitCode::FAILURE;
    }
    match cli.command.run(&cli.global) {
        Ok(code) => code,
        Err(error) => {
            if let Some(failure) = error.downcast_ref::<commands::Failure>() {
                if failure.on_stdout() {
                    println!("{failure}");
                } else {
                    eprintln!("{failure}");
                }
                return ExitCode::from(failure.code);
            }
            if let Some(rendered) = error.downcast_ref::<report::Rendered>() {
                eprintln!("{rendered}");
                return ExitCode::FAILURE;
            }
            eprint!("{}", render_error(&error));
            ExitCode::FAILURE
        }
    }
}

/// Prints a command-line error as clap does; the container commands exit
/// with Docker's 125 for bad flags, the others with clap's 2.
fn parse_failure(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if !error.use_stderr() {
        return ExitCode::SUCCESS;
    }
    let command = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if command.is_some_and(|c| commands::CONTAINER_COMMANDS.contains(&c.as_str())) {
        return ExitCode::from(125);
    }
    ExitCode::from(2)
}

/// The error and its causes, one per line; a cause whose text the line above
/// already shows (libraries often embed their source's message) is left out.
fn render_error(error: &anyhow::Error) -> String {
    let mut text = format!("error: {error}\n");
    let mut shown = error.to_string();
    for cause in error.chain().skip(1) {
        let message = cause.to_string();
        if !shown.contains(&message) {
            text.push_str(&format!("  caused by: {message}\n"));
        }
        shown = message;
    }
    text.push_str(&login_hint(error.chain().find_map(|e| e.downcast_ref())));
    text
}

/// For a registry that refused the credentials (or wanted some), the line
/// naming the command that stores them, as Docker names `docker login`.
pub(crate) fn login_hint(error: Option<&strata_registry::RegistryError>) -> String {
    match error {
        Some(strata_registry::RegistryError::Unauthorized { registry, .. }) => {
            format!("  hint: the registry may require `strata login {registry}`\n")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let error = anyhow::Error::new(strata_fs::Error::new("open", "/x", io));
        assert_eq!(render_error(&error), "error: open /x: permission denied\n");
        let error = error.context("scanning the context");
        assert_eq!(
            render_error(&error),
            "error: scanning the context\n  caused by: open /x: permission denied\n"
        );
    }
}
