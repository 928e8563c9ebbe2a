//! The container commands (`run`, `ps`, `stop`, `exec`, `logs`, `cp`, `top` ...), with
//! Docker's flags, output and exit codes. The work is `strata-run`'s; this
//! module parses, prints and maps errors to Docker's messages and codes.

mod attach;
pub(crate) mod cp;
pub(crate) mod exec;
pub(crate) mod generate;
pub(crate) mod lifecycle;
pub(crate) mod logs;
pub(crate) mod port;
pub(crate) mod ps;
pub(crate) mod remove;
pub(crate) mod run;
mod terminal;
pub(crate) mod top;
pub(crate) mod volume;

use strata_run::Containers;
use strata_store::Access;

use super::Global;
use crate::images::open_store;

/// How a [`Failure`] is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `strata: MESSAGE` and the command's help hint (`run`, `create`).
    Run(&'static str),
    /// `Error: MESSAGE` (what Docker prints as `Error response from daemon: `).
    Error,
    /// The message alone.
    Plain,
    /// The message alone, on standard output (how `docker exec` reports a
    /// process that could not start).
    Stdout,
}

/// A failure reported as Docker reports it: its message on stderr, then
/// its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
    pub(crate) style: Style,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.style {
            // Flag values are reported without the program's name, as Docker's CLI does.
            Style::Run(command) if self.message.starts_with("invalid argument ") => write!(
                formatter,
                "{}\n\nRun 'strata {command} --help' for more information",
                self.message
            ),
            Style::Run(command) => write!(
                formatter,
                "strata: {}\n\nRun 'strata {command} --help' for more information",
                self.message
            ),
            Style::Error => write!(formatter, "Error: {}", self.message),
            Style::Plain | Style::Stdout => formatter.write_str(&self.message),
        }
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// Docker's message with exit code 1 (the container commands' failures).
    pub(crate) fn error(message: impl std::fmt::Display) -> anyhow::Error {
        Self::with(message, 1, Style::Error)
    }

    /// A `run`/`create` failure: 125, or the container's 126/127.
    pub(crate) fn run(message: impl std::fmt::Display, code: u8) -> anyhow::Error {
        Self::with(message, code, Style::Run("run"))
    }

    /// The message alone, with `code`.
    pub(crate) fn plain(message: impl std::fmt::Display, code: u8) -> anyhow::Error {
        Self::with(message, code, Style::Plain)
    }

    /// `docker exec`'s report of a process that could not start: on
    /// standard output, exit code 126.
    pub(crate) fn exec(message: impl std::fmt::Display) -> anyhow::Error {
        Self::with(message, 126, Style::Stdout)
    }

    /// Whether it is printed on standard output.
    pub(crate) fn on_stdout(&self) -> bool {
        self.style == Style::Stdout
    }

    fn with(message: impl std::fmt::Display, code: u8, style: Style) -> anyhow::Error {
        anyhow::Error::new(Failure {
            message: message.to_string(),
            code,
            style,
        })
    }
}

/// The containers of the store `global` names (the store is opened only
/// long enough to find the directory: nothing here holds it).
pub(crate) fn containers(global: &Global) -> anyhow::Result<Containers> {
    let store = open_store(global, Access::Shared)?;
    Ok(Containers::of_store(&store)?)
}

/// Finds a container, or fails with Docker's `No such container: X`.
pub(crate) fn find(containers: &Containers, name: &str) -> anyhow::Result<strata_run::Entry> {
    containers.find(name).map_err(Failure::error)
}

/// Runs `each` for every name, printing the name on success and Docker's
/// message for each failure; exit code 1 when any failed (as `docker stop a b`).
pub(crate) fn for_each(
    names: &[String],
    mut each: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<std::process::ExitCode> {
    let mut failed = false;
    for name in names {
        match each(name) {
            Ok(()) => println!("{name}"),
            Err(error) => {
                failed = true;
                eprintln!("Error: {}", message_of(&error));
            }
        }
    }
    Ok(if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    })
}

/// The message of an error, without the `Error: ` a [`Failure`] prints.
pub(crate) fn message_of(error: &anyhow::Error) -> String {
    match error.downcast_ref::<Failure>() {
        Some(failure) => failure.message.clone(),
        None => error.to_string(),
    }
}
