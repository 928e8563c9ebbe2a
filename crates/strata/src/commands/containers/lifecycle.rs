//! `start`, `stop`, `kill`, `restart` and `wait`: a container's life from
//! any shell, through its monitor.

use std::process::ExitCode;

use strata_run::Attach;

use super::{Failure, Global, containers, find, for_each};

/// Arguments of `strata start`.
#[derive(Debug, clap::Args)]
pub(crate) struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    interactive: bool,
    /// Containers
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Arguments of `strata stop` and `strata restart`.
#[derive(Debug, clap::Args)]
pub(crate) struct StopArgs {
    /// Signal to send to the container
    #[arg(short, long)]
    signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "time",
        alias = "timeout",
        allow_hyphen_values = true
    )]
    time: Option<i64>,
    /// Containers
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Arguments of `strata kill`.
#[derive(Debug, clap::Args)]
pub(crate) struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    /// Containers
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Arguments of `strata wait`.
#[derive(Debug, clap::Args)]
pub(crate) struct WaitArgs {
    /// Containers
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Starts one stopped container detached; a running one is left alone.
fn start_one(containers: &strata_run::Containers, name: &str) -> anyhow::Result<()> {
    let entry = find(containers, name)?;
    if containers.monitor_alive(&entry.container.id) {
        return Ok(());
    }
    match strata_run::start(containers, &entry.container.id, Attach::default()) {
        Ok(_) => Ok(()),
        Err(strata_run::Error::StartFailed { message, .. }) => Err(Failure::error(message)),
        Err(error) => Err(Failure::error(error)),
    }
}

/// `strata start`.
pub(crate) fn start(args: StartArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    if !(args.attach || args.interactive) {
        return for_each(&args.containers, |name| start_one(&containers, name));
    }
    if args.containers.len() > 1 {
        return Err(Failure::error(
            "you cannot start and attach multiple containers at once",
        ));
    }
    let entry = find(&containers, &args.containers[0])?;
    let attach = Attach {
        stdin: args.interactive,
        stdout: true,
        stderr: true,
        terminal_size: rustix::termios::tcgetwinsize(std::io::stdout())
            .ok()
            .map(|size| (size.ws_row, size.ws_col)),
    };
    let tty = entry.container.config.tty && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let session = if containers.monitor_alive(&entry.container.id) {
        let mut session = strata_run::Session::connect(&containers, &entry)?;
        session.request(&strata_run::Request::Attach(attach))?;
        session
    } else {
        match strata_run::start(&containers, &entry.container.id, attach) {
            Ok(session) => session,
            Err(strata_run::Error::StartFailed { message, exit_code }) => {
                return Err(Failure::plain(
                    format!("Error: {message}"),
                    u8::try_from(exit_code).unwrap_or(1),
                ));
            }
            Err(error) => return Err(Failure::error(error)),
        }
    };
    let ended = super::attach::relay(session, args.interactive, tty)?;
    Ok(super::run::exit_code(ended))
}

/// `strata stop`.
pub(crate) fn stop(args: StopArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    for_each(&args.containers, |name| {
        let entry = find(&containers, name)?;
        strata_run::stop(&containers, &entry, args.signal.clone(), args.time)
            .map_err(Failure::error)
    })
}

/// `strata restart`: stop, then start detached.
pub(crate) fn restart(args: StopArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    for_each(&args.containers, |name| {
        let entry = find(&containers, name)?;
        strata_run::stop(&containers, &entry, args.signal.clone(), args.time)
            .map_err(Failure::error)?;
        start_one(&containers, name)
    })
}

/// `strata kill`.
pub(crate) fn kill(args: KillArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    for_each(&args.containers, |name| {
        let entry = find(&containers, name)?;
        strata_run::kill(&containers, &entry, &args.signal).map_err(|error| match error {
            strata_run::Error::NotRunning { .. } => {
                Failure::error(format!("Cannot kill container: {name}: {error}"))
            }
            other => Failure::error(other),
        })
    })
}

/// `strata wait`: each container's exit code, one per line.
pub(crate) fn wait(args: WaitArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    let mut failed = false;
    for name in &args.containers {
        let result = find(&containers, name)
            .and_then(|entry| strata_run::wait(&containers, &entry).map_err(Failure::error));
        match result {
            Ok(code) => println!("{code}"),
            Err(error) => {
                failed = true;
                eprintln!("Error: {}", super::message_of(&error));
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
