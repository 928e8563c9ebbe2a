//! The monitor: a process per running container (strata re-executed,
//! single-threaded, in the spirit of conmon) that outlives the command that
//! started it. It owns the container's PID 1, writes its output to the
//! json-file log and to attached clients, records how it ended, runs its
//! health check, applies its restart policy, and stops it on request.
//!
//! [`spawn`] starts one for a container and waits until it listens;
//! [`run_if_requested`], called first thing in `main`, is the monitor.

mod event_loop;
mod health;
mod launch;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::containers::Containers;
use crate::{Error, Result};

/// The argument that turns the strata binary into a container's monitor.
pub const MONITOR_ARGUMENT: &str = "__strata-monitor";

/// What the monitor prints on standard output once it listens.
const READY: &str = "ready";

/// Becomes a container's monitor when this process was started as one, and
/// never returns then; otherwise returns at once. Call it first thing in
/// `main`, before any thread starts.
pub fn run_if_requested() {
    let arguments: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if arguments.get(1).map(|a| a.as_os_str()) != Some(MONITOR_ARGUMENT.as_ref()) {
        return;
    }
    let (Some(directory), Some(id)) = (arguments.get(2), arguments.get(3)) else {
        std::process::exit(2);
    };
    let id = id.to_string_lossy().into_owned();
    let code = match event_loop::main(Path::new(directory), &id) {
        Ok(()) => 0,
        Err(error) => {
            eprintln_error(&error);
            1
        }
    };
    std::process::exit(code);
}

#[allow(clippy::print_stderr)]
fn eprintln_error(error: &Error) {
    // The monitor's standard error is its log file in the container's directory.
    eprintln!("{} monitor: {error}", crate::state::now());
}

/// Starts the monitor of container `id` and waits until it listens for
/// clients; its standard error goes to `monitor.log` in the container's
/// directory. It starts nothing until a client asks (`Request::Start`).
pub fn spawn(containers: &Containers, id: &str) -> Result<()> {
    let executable =
        std::env::current_exe().map_err(|e| strata_fs::Error::new("find", "/proc/self/exe", e))?;
    let log_path = containers.directory(id).join("monitor.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| strata_fs::Error::new("open", &log_path, e))?;
    let mut command = Command::new(&executable);
    command
        .arg(MONITOR_ARGUMENT)
        .arg(containers.root())
        .arg(id)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    // Its own process group: a Ctrl-C at the terminal is not for it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| strata_fs::Error::new("start", &executable, e))?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    if line.trim_end() == READY {
        return Ok(());
    }
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let last = log.lines().last().unwrap_or("it exited").to_owned();
    Err(Error::monitor(format!("the monitor did not start: {last}")))
}
