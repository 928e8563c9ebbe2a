//! An exec into a running sandbox (`docker exec`): a child of the caller,
//! born in the sandbox's PID namespace, placed in its cgroups, joining its
//! other namespaces, then set up as its PID 1 was, and executed.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, PidfdFlags, Signal, WaitOptions};

use crate::launch::{Started, Stdio};
use crate::process::channel::{self, Channel, Message};
use crate::process::linux::Linux;
use crate::process::namespaces::{self, ChildrenInPidNamespace, Cloned};
use crate::process::terminal::{self, TerminalSize};
use crate::process::{Failure, Syscalls, child_only, credentials, exec, setup, signals};
use crate::spec::Spec;
use crate::{Error, Result};

/// Runs `spec.args` in the running sandbox whose PID 1 is `target` (a host
/// pid): the process is born in its PID namespace, writes itself into each
/// `cgroup_procs` file before anything else, joins its mount, IPC, UTS and
/// network namespaces, then gets user, groups, working directory (which must
/// exist), environment, capabilities, no_new_privs and seccomp as PID 1 did,
/// and executes. `Started::pid` is a child of the caller whose exit status
/// is the process's; it returns once the exec happened. Setup and exec
/// errors come back here. Needs root and a single-threaded caller (checked).
pub fn exec_in(
    target: i32,
    spec: &Spec,
    stdio: Stdio,
    cgroup_procs: &[PathBuf],
) -> Result<Started> {
    if !rustix::process::geteuid().is_root() {
        return Err(Error::NotRoot);
    }
    spec.validate()?;
    namespaces::ensure_single_threaded("an exec into a sandbox")?;
    let target_pid = Pid::from_raw(target).ok_or_else(|| Error::InvalidSpec {
        reason: format!("no sandbox has pid {target}"),
    })?;
    let target_pidfd =
        rustix::process::pidfd_open(target_pid, PidfdFlags::empty()).map_err(|e| Error::Setup {
            message: format!("open the sandbox's PID 1 ({target}): {e}"),
        })?;
    let (caller, process) = channel::pair().map_err(|e| Error::Setup {
        message: format!("create the exec's channel: {e}"),
    })?;
    let children = ChildrenInPidNamespace::enter(&target_pidfd)?;
    let cloned = namespaces::fork();
    match cloned {
        Ok(Cloned::Child) => {
            // The guard belongs to the caller: this copy must not act.
            std::mem::forget(children);
            drop(caller);
            child_only(|| joined(&target_pidfd, spec, stdio, process, cgroup_procs))
        }
        Ok(Cloned::Parent { pid, pidfd }) => {
            drop((children, process, stdio));
            wait_for_exec(pid, pidfd, &caller)
        }
        Err(error) => Err(error),
    }
}

/// The caller's side: a terminal's master, then the end of the channel
/// (the exec) or a failure (the child is then reaped).
fn wait_for_exec(pid: Pid, pidfd: OwnedFd, caller: &Channel) -> Result<Started> {
    let mut master = None;
    let failure = loop {
        match caller.receive() {
            Ok(None) => {
                return Ok(Started {
                    pid: pid.as_raw_nonzero().get(),
                    pidfd,
                    terminal: master,
                });
            }
            Ok(Some((Message::Ready, fd))) => master = fd,
            Ok(Some((Message::Failed { kind, message }, _))) => break kind.into_error(message),
            Ok(Some((Message::Release, _))) | Err(_) => {
                break Error::Setup {
                    message: "the exec's process broke off its setup".to_owned(),
                };
            }
        }
    };
    let _ = rustix::process::pidfd_send_signal(&pidfd, Signal::KILL);
    let _ = rustix::process::waitpid(Some(pid), WaitOptions::empty());
    Err(failure)
}

/// The exec's process: never returns.
fn joined(
    target: &OwnedFd,
    spec: &Spec,
    stdio: Stdio,
    channel: Channel,
    cgroup_procs: &[PathBuf],
) -> ! {
    let failure = match join_steps(target, spec, stdio, &channel, cgroup_procs) {
        Ok(failure) | Err(failure) => failure,
    };
    let _ = channel.send(&failure.into(), None);
    // SAFETY: ends this fork of the caller without running the caller's
    // destructors or atexit handlers.
    unsafe { libc::_exit(1) }
}

/// Everything up to the exec; the exec's failure when it returns.
fn join_steps(
    target: &OwnedFd,
    spec: &Spec,
    stdio: Stdio,
    channel: &Channel,
    cgroup_procs: &[PathBuf],
) -> std::result::Result<Failure, Failure> {
    signals::reset();
    // Non-dumpable from before the setns until the exec: nothing in the
    // sandbox may open our /proc/PID/exe (our binary).
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(setup("prctl(SET_DUMPABLE)"))?;
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(setup("set parent death signal"))?;
    if channel.peer_closed() {
        return Err(Failure::setup("the caller exited"));
    }
    enter_cgroups(cgroup_procs)?;
    let terminal = terminal::install_streams(stdio)?;
    namespaces::join(target)?;
    let root = rustix::fs::open(
        "/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(setup("open the sandbox's root"))?;
    let sys = Linux::new(root);
    let (program, environment, master) = set_up(&sys, spec, terminal)?;
    if let Some(master) = &master {
        channel
            .send(&Message::Ready, Some(master.as_fd()))
            .map_err(setup("hand over the terminal"))?;
    }
    drop(master);
    credentials::install_late_seccomp(spec)?;
    Ok(exec::execute(&sys, &program, &spec.args, &environment))
}

/// Moves this process into each cgroup (its `cgroup.procs` file).
fn enter_cgroups(cgroup_procs: &[PathBuf]) -> std::result::Result<(), Failure> {
    let pid = std::process::id().to_string();
    for path in cgroup_procs {
        std::fs::write(path, &pid)
            .map_err(|e| Failure::setup(format!("join cgroup {}: {e}", path.display())))?;
    }
    Ok(())
}

/// Session and terminal, user, program, limits and credentials: the
/// program, its environment and the terminal's master.
fn set_up(
    sys: &impl Syscalls,
    spec: &Spec,
    terminal: Option<TerminalSize>,
) -> std::result::Result<(PathBuf, Vec<String>, Option<OwnedFd>), Failure> {
    let master = terminal::start_session(sys, terminal, false)?;
    let user = credentials::resolve(sys, spec)?;
    let environment = exec::environment(spec, &user);
    let program = exec::find_program(sys, spec, &environment)?;
    credentials::set_limits(sys, spec)?;
    credentials::become_user(sys, spec, &user)?;
    Ok((program, environment, master))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    #[test]
    fn an_exec_mounts_nothing_and_becomes_its_user() {
        let fake = Recording::with_image();
        let mut spec = Spec::new(["sh"]);
        spec.user = "tester".into();
        spec.working_dir = "/home".into();
        let (program, environment, master) = set_up(&fake, &spec, None).unwrap();
        assert_eq!(program, PathBuf::from("/bin/sh"));
        assert!(environment.contains(&"HOME=/home/tester".to_owned()));
        assert!(master.is_none());
        let calls = fake.calls();
        assert!(!calls.iter().any(|c| matches!(
            c,
            Call::Mount { .. }
                | Call::Bind { .. }
                | Call::PivotRoot
                | Call::SetHostname(_)
                | Call::MakeDirectory { .. }
        )));
        assert_eq!(calls[0], Call::NewSession);
        assert!(calls.contains(&Call::SetIds {
            uid: 1000,
            gid: 1000
        }));
    }

    #[test]
    fn an_exec_terminal_is_not_the_console() {
        let fake = Recording::with_image();
        let size = TerminalSize {
            rows: 10,
            columns: 20,
        };
        let (_, _, master) = set_up(&fake, &Spec::new(["sh"]), Some(size)).unwrap();
        assert!(master.is_some());
        assert!(fake.calls().contains(&Call::Terminal {
            rows: 10,
            columns: 20,
            console: false
        }));
    }
}
