//! `strata exec`: a command in a running container, its output straight to
//! ours (no monitor in between), or through a terminal with `-t`.

use std::io::IsTerminal;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use rustix::process::{WaitId, WaitIdOptions};
use strata_run::ExecOptions;
use strata_sandbox::Stdio;

use super::{Failure, Global, containers, find};

/// Arguments of `strata exec`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    detach: bool,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "list")]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long, value_name = "list")]
    env_file: Vec<std::path::PathBuf>,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// The container
    #[arg(value_name = "CONTAINER")]
    container: String,
    /// The command and its arguments
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

fn duplicate(fd: impl AsFd) -> anyhow::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 3)?)
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let containers = containers(global)?;
    let entry = find(&containers, &args.container)?;
    let stdin_terminal = std::io::stdin().is_terminal();
    if args.interactive && args.tty && !stdin_terminal {
        return Err(Failure::plain("the input device is not a TTY", 1));
    }
    let options = ExecOptions {
        command: args.command.clone(),
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        env: args.env.clone(),
        env_files: args.env_file.clone(),
        tty: args.tty,
    };
    if args.detach {
        return detached(&containers, &entry, &options);
    }
    let stdio = if args.tty {
        let (rows, columns) = rustix::termios::tcgetwinsize(std::io::stdout().as_fd())
            .map(|size| (size.ws_row, size.ws_col))
            .unwrap_or((24, 80));
        Stdio::Terminal { rows, columns }
    } else {
        Stdio::Fds {
            stdin: if args.interactive {
                Some(duplicate(std::io::stdin())?)
            } else {
                None
            },
            stdout: duplicate(std::io::stdout())?,
            stderr: duplicate(std::io::stderr())?,
        }
    };
    let started = match strata_run::exec(&containers, &entry, &options, stdio) {
        Ok(started) => started,
        Err(strata_run::Error::Sandbox(error)) => {
            return Err(Failure::exec(strata_run::exec_failure_message(&error)));
        }
        Err(error) => return Err(Failure::error(error)),
    };
    if let Some(terminal) = &started.terminal {
        super::terminal::relay(terminal, args.interactive, stdin_terminal, &started.pidfd)?;
    }
    let status =
        rustix::process::waitid(WaitId::PidFd(started.pidfd.as_fd()), WaitIdOptions::EXITED)?;
    let code = status
        .and_then(|s| {
            s.exit_status()
                .or_else(|| s.terminating_signal().map(|signal| 128 + signal))
        })
        .unwrap_or(255);
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(255)))
}

/// `exec -d`: the container's monitor starts the process and reaps it (a
/// process left to PID 1, which may never wait, would stay a zombie).
fn detached(
    containers: &strata_run::Containers,
    entry: &strata_run::Entry,
    options: &ExecOptions,
) -> anyhow::Result<ExitCode> {
    if !entry.state.running() || !containers.monitor_alive(&entry.container.id) {
        return Err(Failure::error(strata_run::Error::NotRunning {
            id: entry.container.id.clone(),
        }));
    }
    let options = options.resolved().map_err(Failure::error)?;
    let mut session = strata_run::Session::connect(containers, entry)?;
    match session.request(&strata_run::Request::Exec(options))? {
        strata_run::Reply::Failed { message, .. } => Err(Failure::error(message)),
        _ => Ok(ExitCode::SUCCESS),
    }
}
